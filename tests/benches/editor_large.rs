//! The Editor panel with a 1 MiB Papyrus script, in the real webview: how long the file takes
//! to open, and how quickly typed characters show while it is open.
//!
//! Each round starts the release app on a fresh home folder (its own hub on a free port),
//! writes a 1 MiB script of ordinary Papyrus functions under a path holding a space, `#` and
//! `ü`, types the path into the panel and then:
//!
//! 1. **Opening.** A script in the page clicks *Open* and follows every animation frame until
//!    the script's first line shows in the editor, and until the connection chip says
//!    "connected" (the text is in the hub's room by then). The figure is the frame after, when
//!    the frame that showed it has been painted.
//! 2. **Typing.** [`KEYSTROKES`] characters, one every [`EVERY`] (a fast typist's 20 a
//!    second), inserted halfway down the document through the browser's own text input path
//!    (`execCommand('insertText')`, which CodeMirror reads back as typing). For each: the time
//!    from the input to the second animation frame after it. The same is then done, in the
//!    same page, in a plain `<textarea>` holding the same megabyte: the reference, as the
//!    cheapest field a browser has. Last, the same typing into an 8 KiB script opened in the
//!    same editor: what "responsive" means on this machine, so the 1 MiB figure can be read
//!    against it, and the textarea with that small script: the floor of this machine's path
//!    from input to paint. Printed: median, p95, p99 and longest, and the 1 MiB medians as multiples
//!    of the textarea's and of the small script's. The bench checks that every character
//!    landed.
//!
//! ```text
//! Xvfb :99 -screen 0 1280x800x24 -nolisten tcp &      # keep its pid; kill it by pid afterwards
//! DISPLAY=:99 dbus-run-session -- cargo bench -p mossy-tests --bench editor_large [-- ROUNDS]
//! ```
//!
//! The release app comes from `target/release/mossy-live` or `MOSSY_LIVE_BIN`. Xvfb has no
//! GPU: WebKit paints in software. A screenshot of the editor after typing goes to
//! `target/e2e/editor-large.png`. It prints figures and asserts no timing.

use std::path::Path;
use std::time::{Duration, Instant};

use mossy_tests::e2e::{AppSession, free_port};
use serde_json::{Value, json};

/// The large script's size.
const LARGE_BYTES: usize = 1 << 20;

/// The small script's size, the reference for what typing costs without a large document.
const SMALL_BYTES: usize = 8 << 10;

/// Characters typed per field.
const KEYSTROKES: usize = 200;

/// Time between typed characters.
const EVERY: Duration = Duration::from_millis(50);

/// The large script's name, used in its first line, which the opening probe waits for.
const LARGE_NAME: &str = "BigQuest";

/// The small script's name.
const SMALL_NAME: &str = "SmallQuest";

/// How often the bench reads a probe's state back.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Longest wait for a probe to finish.
const PROBE_LIMIT: Duration = Duration::from_secs(120);

const OPENING_PROBE: &str = include_str!("editor_large/opening.js");
const TYPING_PROBE: &str = include_str!("editor_large/typing.js");

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(2);
    let text = papyrus_script(LARGE_NAME, LARGE_BYTES);
    println!(
        "editor_large: {:.2} MiB script, {} lines (and one of 8 KiB); {KEYSTROKES} characters at one per {EVERY:?}; \
         {rounds} rounds",
        text.len() as f64 / f64::from(1 << 20),
        text.lines().count()
    );
    for round in 1..=rounds {
        run_round(round, &text).await?;
    }
    Ok(())
}

async fn run_round(round: usize, text: &str) -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let folder = home.path().join("Mod #1 ü Scripts");
    std::fs::create_dir_all(&folder)?;
    let file = folder.join(format!("{LARGE_NAME}.psc"));
    std::fs::write(&file, text)?;
    let small = folder.join(format!("{SMALL_NAME}.psc"));
    std::fs::write(&small, papyrus_script(SMALL_NAME, SMALL_BYTES))?;

    let bridge = format!("ws://127.0.0.1:{}/bridge", free_port());
    let app = AppSession::launch(home.path(), &bridge).await?;
    let result = measure(&app, &file, &small, text).await;
    if let Ok(shot) = app.screenshot("editor-large").await {
        println!("  screenshot: {}", shot.display());
    }
    app.close().await;
    let figures = result?;
    println!("round {round}:");
    println!(
        "  open to first text {:.0} ms, to connected {:.0} ms",
        figures.shown_ms, figures.connected_ms
    );
    println!("  editor:   {}", summary(&figures.editor));
    println!("  textarea: {}", summary(&figures.textarea));
    println!("  editor, 8 KiB script: {}", summary(&figures.small));
    println!("  textarea, 8 KiB: {}", summary(&figures.small_textarea));
    let median = |lags: &[f64]| percentile(lags, 50.0).max(0.001);
    println!(
        "  1 MiB editor median / textarea median: {:.2}×; / 8 KiB editor median: {:.2}×",
        median(&figures.editor) / median(&figures.textarea),
        median(&figures.editor) / median(&figures.small)
    );
    Ok(())
}

/// What one round measured, in milliseconds.
struct Figures {
    shown_ms: f64,
    connected_ms: f64,
    editor: Vec<f64>,
    textarea: Vec<f64>,
    small: Vec<f64>,
    small_textarea: Vec<f64>,
}

async fn measure(
    app: &AppSession,
    file: &Path,
    small: &Path,
    text: &str,
) -> anyhow::Result<Figures> {
    app.wait_for("#nav-editor").await?.click().await?;
    let opening = open(app, file, LARGE_NAME).await?;
    let number = |value: &Value, key: &str| value[key].as_f64().unwrap_or(f64::NAN);

    let editor = type_into(app, "editor").await?;

    // The reference: a plain textarea with the same text, over the panel, in the same page.
    let length = app
        .client
        .execute(
            "const t = document.createElement('textarea'); t.id = 'bench-textarea'; \
             t.value = arguments[0]; \
             Object.assign(t.style, { position: 'fixed', inset: '60px', zIndex: 1000 }); \
             document.body.appendChild(t); return t.value.length;",
            vec![json!(text)],
        )
        .await?;
    anyhow::ensure!(
        length.as_u64() == Some(text.chars().count() as u64),
        "the textarea holds {length}, not the script"
    );
    let textarea = type_into(app, "textarea").await?;
    // The same field with the small script: the floor of this machine's input-to-paint path.
    let small_text = std::fs::read_to_string(small)?;
    app.client
        .execute(
            "document.getElementById('bench-textarea').value = arguments[0]; return true;",
            vec![json!(small_text)],
        )
        .await?;
    let small_textarea = type_into(app, "textarea").await?;
    app.client
        .execute(
            "document.getElementById('bench-textarea').remove(); return true;",
            Vec::new(),
        )
        .await?;

    open(app, small, SMALL_NAME).await?;
    let small = type_into(app, "editor").await?;
    Ok(Figures {
        shown_ms: number(&opening, "shown"),
        connected_ms: number(&opening, "connected"),
        editor,
        textarea,
        small,
        small_textarea,
    })
}

/// Opens `file`, whose script is `name`, through the panel's path box and the opening probe.
async fn open(app: &AppSession, file: &Path, name: &str) -> anyhow::Result<Value> {
    let path = app.wait_for("#editor-path").await?;
    path.clear().await?;
    path.send_keys(&file.display().to_string()).await?;
    app.client
        .execute(OPENING_PROBE, vec![json!(first_line(name))])
        .await?;
    poll(app, "return window.__opening;", "opening").await
}

fn first_line(name: &str) -> String {
    format!("Scriptname {name} extends Quest")
}

/// Runs the typing probe on `target` and returns the delay of each character.
async fn type_into(app: &AppSession, target: &str) -> anyhow::Result<Vec<f64>> {
    app.client
        .execute(
            TYPING_PROBE,
            vec![
                json!(target),
                json!(KEYSTROKES),
                json!(EVERY.as_millis() as u64),
            ],
        )
        .await?;
    let state = poll(app, "return window.__typing;", target).await?;
    if let Some(error) = state["error"].as_str() {
        anyhow::bail!("typing into the {target} failed: {error}");
    }
    anyhow::ensure!(
        state["typed"] == Value::Bool(true),
        "not every character typed into the {target} landed"
    );
    let lags: Vec<f64> = state["lags"]
        .as_array()
        .map(|lags| lags.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    anyhow::ensure!(lags.len() == KEYSTROKES, "{} delays recorded", lags.len());
    Ok(lags)
}

/// Reads `read` until its value says `done`, and returns it.
async fn poll(app: &AppSession, read: &str, what: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + PROBE_LIMIT;
    loop {
        let value = app.client.execute(read, Vec::new()).await?;
        if value["done"] == Value::Bool(true) {
            return Ok(value);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the {what} probe did not finish within {PROBE_LIMIT:?}: {value}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn summary(lags: &[f64]) -> String {
    format!(
        "median {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, longest {:.1} ms",
        percentile(lags, 50.0),
        percentile(lags, 95.0),
        percentile(lags, 99.0),
        lags.iter().copied().fold(0.0, f64::max)
    )
}

/// The `p`th percentile of `values` (nearest rank).
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// About a megabyte of ordinary Papyrus: properties, events and functions with comments,
/// string literals and the keywords the highlighter colours.
fn papyrus_script(name: &str, bytes: usize) -> String {
    let mut text = format!("{}\n\n", first_line(name));
    let mut n = 0;
    while text.len() < bytes {
        text.push_str(&format!(
            "; Stage {n}: moves the quest on when the player has the item.\n\
             ObjectReference Property Marker{n} Auto Const\n\
             Int Property Count{n} = {n} Auto\n\n\
             Function Advance{n}(Actor akActor, Int aiCount = 1)\n    \
             If akActor == Game.GetPlayer() && aiCount > Count{n}\n        \
             Debug.Trace(\"{name}: stage {n} reached by \" + akActor)\n        \
             SetStage({n})\n    \
             Else\n        \
             Marker{n}.Enable()\n    \
             EndIf\n\
             EndFunction\n\n"
        ));
        n += 1;
    }
    text
}
