//! Webview end-to-end test of the Editor panel: the release app in WebKitGTK under Xvfb,
//! driven over WebDriver, with its hub on a free port, and a stock Yjs peer (npm `yjs` and
//! `y-websocket`, `crates/collab/interop/e2e-peer.mjs`) editing the same file's room.
//!
//! A second test joins a room on the stand-alone team hub (`mossy-hub`), SIGKILLs the hub,
//! types while it is away (the chip counts the edits waiting) and restarts it: the app
//! reconnects by itself and a Node peer then finds every edit in the room.
//!
//! Run by `scripts/test.sh`, which builds the app, installs the npm packages and starts Xvfb
//! first. Without a display, driver, app build or Node this test fails; it never skips.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use mossy_tests::e2e::{AppSession, UI_TIMEOUT, free_port, start_hub, workspace_root};

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
    /// Joins `room` and, once the document holds `expect`, inserts [`PEER_LINE`].
    fn start(hub_url: &str, room: &str, expect: &str) -> anyhow::Result<Self> {
        let script = workspace_root().join("crates/collab/interop/e2e-peer.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("HUB_URL", hub_url)
            .env("ROOM", room)
            .env("PEER_NAME", PEER_NAME)
            .env("PEER_COLOR", "#ff8800")
            .env("EXPECT", expect)
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

/// Settings naming the user Ada, joined to `hub_url` (empty: the app's own hub).
fn write_settings(home: &Path, hub_url: &str) -> anyhow::Result<()> {
    let config = home.join("config");
    std::fs::create_dir_all(&config)?;
    std::fs::write(
        config.join("settings.toml"),
        format!("[editor]\ndisplay_name = \"Ada\"\nhub_url = \"{hub_url}\"\n"),
    )?;
    Ok(())
}

/// The text of the lines the editor renders (every line, for a short document).
async fn editor_text(app: &AppSession) -> anyhow::Result<String> {
    let text = app
        .script("return document.querySelector('.cm-content').textContent;")
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Clicks `button` (Undo or Redo) until a click changes nothing more, and returns the text
/// then: typing may have been grouped into several undo steps.
async fn click_until_steady(app: &AppSession, button: &str) -> anyhow::Result<String> {
    let mut before = editor_text(app).await?;
    for _ in 0..20 {
        app.script(&format!(
            "document.querySelector('{button}').click(); return true;"
        ))
        .await?;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let now = editor_text(app).await?;
        if now == before {
            return Ok(now);
        }
        before = now;
    }
    anyhow::bail!("{button} still changed the text after twenty clicks: {before:?}")
}

/// What the connection chip says: its state and its text.
async fn chip(app: &AppSession) -> anyhow::Result<(String, String)> {
    let value = app
        .script(
            "const c = document.querySelector('#editor-connection'); \
             return c ? [c.dataset.state, c.textContent.trim()] : ['', ''];",
        )
        .await?;
    let part = |i: usize| value[i].as_str().unwrap_or_default().to_owned();
    Ok((part(0), part(1)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_shares_a_file_with_a_yjs_peer_and_saves_it() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    write_settings(home.path(), "")?;
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
    let mut peer = NodePeer::start(&format!("ws://{hub_addr}"), "EditorTest.psc", TYPED)?;
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

    // Undo takes back the app user's typing only: the peer's line and the file's text stay.
    // (Clicked in the page: WebKitWebDriver types Ctrl+Z into the editor as characters.)
    let undone = click_until_steady(&app, "#editor-undo").await?;
    assert!(
        !undone.contains("typed in the app")
            && undone.contains(PEER_LINE)
            && undone.contains("Scriptname EditorTest"),
        "undo takes back only the app's own typing: {undone:?}"
    );
    let redone = click_until_steady(&app, "#editor-redo").await?;
    assert!(
        redone.contains(TYPED) && redone.contains(PEER_LINE),
        "redo puts the typing back: {redone:?}"
    );

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

/// Typed in the app while the team hub is down.
const OFFLINE_TYPED: &str = "; typed while the hub was down";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_keeps_edits_while_the_team_hub_is_down_and_merges_after() -> anyhow::Result<()> {
    const ROOM: &str = "team-notes";
    let home = tempfile::tempdir()?;
    let hub_port = free_port();
    let hub_data = home.path().join("team hub data");
    let mut hub = start_hub(hub_port, &hub_data);
    let hub_url = format!("ws://127.0.0.1:{hub_port}");
    write_settings(home.path(), &hub_url)?;
    let bridge = format!("ws://127.0.0.1:{}/bridge", free_port());
    let app = AppSession::launch(home.path(), &bridge).await?;

    app.wait_for("#nav-editor").await?.click().await?;
    app.wait_for("#editor-room").await?.send_keys(ROOM).await?;
    app.wait_for("#editor-join").await?.click().await?;
    app.wait_for("#editor-connection[data-state='connected']")
        .await?;
    let content = app.wait_for(".cm-content").await?;
    content.click().await?;
    content.send_keys(TYPED).await?;
    app.wait_until(&editor_text_has(TYPED), "the typed text shows")
        .await?;

    // The hub dies (SIGKILL, no goodbye); the chip stops saying "connected".
    hub.kill();
    app.wait_until(
        "const c = document.querySelector('#editor-connection'); \
         return !!c && c.dataset.state !== 'connected';",
        "the chip notices the hub is gone",
    )
    .await?;

    // Typing goes on; the chip counts what waits for the hub.
    content.send_keys(OFFLINE_TYPED).await?;
    app.wait_until(&editor_text_has(OFFLINE_TYPED), "offline typing shows")
        .await?;
    app.wait_until(
        "const c = document.querySelector('#editor-connection'); \
         return !!c && c.dataset.state === 'offline' && /edits? waiting/.test(c.textContent);",
        "the chip says edits are waiting",
    )
    .await?;
    let (state, label) = chip(&app).await?;
    println!("while the hub is down the chip says: {state} / {label}");
    let shot = app.screenshot("editor-offline").await?;
    println!("screenshot: {}", shot.display());

    // The hub comes back on the same port and data; the app reconnects by itself.
    let _hub = start_hub(hub_port, &hub_data);
    app.wait_until(
        "const c = document.querySelector('#editor-connection'); \
         return !!c && c.dataset.state === 'connected';",
        "the app reconnects to the restarted hub",
    )
    .await?;

    // A teammate joining now finds both edits in the room, and the app sees theirs.
    let peer = NodePeer::start(&hub_url, ROOM, OFFLINE_TYPED)?;
    let seen = peer.wait_event("saw")?;
    assert!(
        seen.contains(TYPED) && seen.contains(OFFLINE_TYPED),
        "the room holds the edits made before and during the outage: {seen:?}"
    );
    peer.wait_event("inserted")?;
    app.wait_until(&editor_text_has(PEER_LINE), "the peer's line shows")
        .await?;
    let text = editor_text(&app).await?;
    assert_eq!(
        text.matches(OFFLINE_TYPED).count(),
        1,
        "the offline edit is merged once, not duplicated: {text:?}"
    );

    app.close().await;
    Ok(())
}
