//! Webview end-to-end test of the Editor panel: the release app in WebKitGTK under Xvfb,
//! driven over WebDriver, with its hub on a free port, and a stock Yjs peer (npm `yjs` and
//! `y-websocket`, `crates/collab/interop/e2e-peer.mjs`) editing the same file's room.
//!
//! Run by `scripts/test.sh`, which builds the app, installs the npm packages and starts Xvfb
//! first. Without a display, driver, app build or Node this test fails; it never skips.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use mossy_tests::e2e::{AppSession, UI_TIMEOUT, free_port, workspace_root};

/// The folder name carries a space, `#` and a non-ASCII letter, as modders' folders do.
const FOLDER: &str = "Mod #3 ü Scripts";

/// The script the app opens.
const SCRIPT: &str = "EditorTest.psc";

/// What the file holds before the test.
const ORIGINAL: &str = "Scriptname EditorTest extends Quest\n";

/// What the test types in the app.
const TYPED: &str = "; typed in the app";

/// What the Node peer inserts.
const PEER_LINE: &str = "; hello from Nora";

/// The Node peer's name in awareness.
const PEER_NAME: &str = "Nora";

/// The Node peer, ended on drop.
struct NodePeer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<serde_json::Value>,
}

impl NodePeer {
    fn start(hub_url: &str, room: &str) -> anyhow::Result<Self> {
        let script = workspace_root().join("crates/collab/interop/e2e-peer.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("HUB_URL", hub_url)
            .env("ROOM", room)
            .env("PEER_NAME", PEER_NAME)
            .env("PEER_COLOR", "#ff8800")
            .env("EXPECT", TYPED)
            .env("PEER_LINE", PEER_LINE)
            .env("TIMEOUT_MS", "60000")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| anyhow::anyhow!("could not start node ({err}); run scripts/setup.sh"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    let _ = send.send(value);
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(Self {
            child,
            stdin,
            lines,
        })
    }

    /// Waits for the peer's next event named `event`, returning its text.
    fn wait_event(&self, event: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let value = self
                .lines
                .recv_timeout(left)
                .map_err(|_| anyhow::anyhow!("the Node peer did not report `{event}`"))?;
            anyhow::ensure!(
                value["event"] != "timeout",
                "the Node peer timed out: {value}"
            );
            if value["event"] == event {
                return Ok(value["text"].as_str().unwrap_or_default().to_owned());
            }
        }
    }

    fn leave(&mut self) -> anyhow::Result<()> {
        let mut stdin = self
            .stdin
            .take()
            .ok_or_else(|| anyhow::anyhow!("already left"))?;
        stdin.write_all(b"leave\n")?;
        Ok(())
    }
}

impl Drop for NodePeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn editor_text_has(needle: &str) -> String {
    format!(
        "const c = document.querySelector('.cm-content'); \
         return !!c && c.textContent.includes({});",
        serde_json::Value::String(needle.to_owned())
    )
}

fn write_settings(home: &Path) -> anyhow::Result<()> {
    let config = home.join("config");
    std::fs::create_dir_all(&config)?;
    std::fs::write(
        config.join("settings.toml"),
        "[editor]\ndisplay_name = \"Ada\"\n",
    )?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_shares_a_file_with_a_yjs_peer_and_saves_it() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    write_settings(home.path())?;
    let folder = home.path().join(FOLDER);
    std::fs::create_dir_all(&folder)?;
    let file = folder.join(SCRIPT);
    std::fs::write(&file, ORIGINAL)?;

    let hub_port = free_port();
    let hub_addr = format!("127.0.0.1:{hub_port}");
    let bridge = format!("ws://127.0.0.1:{}/bridge", free_port());
    let env = [("MOSSY_HUB_ADDR", std::ffi::OsStr::new(&hub_addr))];
    let app = AppSession::launch_with_env(home.path(), &bridge, &env).await?;

    app.wait_for("#nav-editor").await?.click().await?;
    let path_input = app.wait_for("#editor-path").await?;
    path_input.send_keys(&file.display().to_string()).await?;
    app.wait_for("#editor-open").await?.click().await?;
    app.wait_until(
        &editor_text_has("Scriptname EditorTest"),
        "the file's text shows",
    )
    .await?;
    app.wait_for("#editor-connection[data-state='connected']")
        .await?;

    // Papyrus highlighting: keywords are found whatever their case and get the keyword colour.
    let keywords = app
        .script(
            "return [...document.querySelectorAll('.cm-content .tok-keyword')]\
         .map(e => [e.textContent, getComputedStyle(e).color]);",
        )
        .await?;
    assert_eq!(
        keywords,
        serde_json::json!([
            ["Scriptname", "rgb(199, 146, 234)"],
            ["extends", "rgb(199, 146, 234)"]
        ]),
        "keywords are highlighted"
    );

    // Type at the end of the document, like a person would.
    let content = app.wait_for(".cm-content").await?;
    content.click().await?;
    // The click lands below the last line, which puts the cursor at the end of the text.
    content.send_keys(TYPED).await?;
    app.wait_until(&editor_text_has(TYPED), "the typed text shows")
        .await?;

    // The room is named after the file; the peer joins it on the app's hub.
    let mut peer = NodePeer::start(&format!("ws://{hub_addr}"), "EditorTest.psc")?;
    let seen_by_peer = peer.wait_event("saw")?;
    assert!(
        seen_by_peer.contains(ORIGINAL.trim_end()) && seen_by_peer.contains(TYPED),
        "the peer sees the file and the app's typing: {seen_by_peer:?}"
    );
    assert_eq!(
        seen_by_peer.matches("Scriptname EditorTest").count(),
        1,
        "the file's text is in the room once"
    );
    peer.wait_event("inserted")?;

    app.wait_until(&editor_text_has(PEER_LINE), "the peer's line shows")
        .await?;
    app.wait_until(
        "return [...document.querySelectorAll('#editor-presence .peer .who')]\
         .some(e => e.textContent === 'Nora');",
        "the peer is listed in Presence",
    )
    .await?;
    app.wait_for(".cm-ySelectionCaret").await?;
    app.wait_until(
        "return [...document.querySelectorAll('#editor-changes .change-row')]\
         .some(e => e.textContent.includes('Nora') && e.textContent.includes('inserted'));",
        "the peer's change is listed",
    )
    .await?;
    let shot = app.screenshot("editor-peer").await?;
    println!("screenshot: {}", shot.display());

    // Clicking the peer's change puts the cursor on its line. (The row is found and clicked
    // in the page: WebKitWebDriver reports an empty text for these button rows.)
    let clicked = app
        .script(
            "const row = [...document.querySelectorAll('#editor-changes .change-row')]\
         .find(e => e.textContent.includes('Nora')); if (row) { row.click(); } return !!row;",
        )
        .await?;
    anyhow::ensure!(
        clicked == serde_json::Value::Bool(true),
        "no change row for the peer"
    );
    app.wait_until(
        &format!(
            "const l = document.querySelector('.cm-activeLine'); \
             return !!l && l.textContent.includes({});",
            serde_json::Value::String(PEER_LINE.to_owned())
        ),
        "the jump lands on the peer's line",
    )
    .await?;

    // The peer leaves: Presence says so.
    peer.leave()?;
    peer.wait_event("left")?;
    app.wait_until("return [...document.querySelectorAll('#editor-presence .presence-event[data-kind=\"left\"]')]\
         .some(e => e.textContent.includes('Nora'));",
        "the peer is shown leaving",
    )
    .await?;

    // Save: the file holds both edits.
    app.wait_for("#editor-save").await?.click().await?;
    app.wait_until(
        "const n = document.querySelector('#editor-notice'); \
         return !!n && n.textContent.startsWith('Saved');",
        "the save is confirmed",
    )
    .await?;
    let saved = std::fs::read_to_string(&file)?;
    assert!(
        saved.contains(TYPED)
            && saved.contains(PEER_LINE)
            && saved.contains("Scriptname EditorTest"),
        "the saved file has both edits: {saved:?}"
    );

    // Someone else changes the file; the next save asks first and Cancel keeps their edit.
    let outside = format!("{saved}; changed outside\n");
    std::fs::write(&file, &outside)?;
    app.wait_for("#editor-save").await?.click().await?;
    let prompt = app.wait_for("#editor-conflict").await?;
    assert!(
        prompt
            .text()
            .await?
            .contains("The file changed on disk since you opened it."),
        "the conflict prompt explains itself"
    );
    let shot = app.screenshot("editor-conflict").await?;
    println!("screenshot: {}", shot.display());
    app.wait_for("#editor-cancel").await?.click().await?;
    assert_eq!(
        std::fs::read_to_string(&file)?,
        outside,
        "cancel writes nothing"
    );

    app.close().await;
    Ok(())
}
