//! Interop: a stock Node Yjs peer (`interop/peer.mjs`, npm `yjs` + `y-websocket`) joins a hub
//! room next to a Rust `HubClient`; text and awareness flow both ways.

#[path = "support/hub.rs"]
mod support;

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::AsyncReadExt;
use tokio::process::Command;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_yjs_peer_sees_app_text_and_its_edit_and_presence_reach_rust() {
    let dir = interop_dir();
    assert!(
        dir.join("node_modules/y-websocket").is_dir(),
        "node_modules missing: run `npm ci --prefix crates/collab/interop` first"
    );
    let data = tempfile::tempdir().expect("temp dir");
    let token = "s3cret+token/with=odd&chars";
    let hub = support::start_hub(data.path(), Some(token)).await;
    let addr = hub.local_addr();

    let app = support::client(addr, "worldspace-notes", Some(token)).await;
    app.push("Hello from Mossy. ");
    assert!(
        app.wait_until(support::SETTLE, |c| c.acknowledged() == c.sent())
            .await
    );

    let mut node = Command::new("node")
        .arg(dir.join("peer.mjs"))
        .current_dir(&dir)
        .env("HUB_URL", format!("ws://{addr}"))
        .env("ROOM", "worldspace-notes")
        .env("TOKEN", token)
        .env("PEER_TEXT", "Hi from Node.")
        .env("PEER_NAME", "Preston")
        .env("PEER_COLOR", "#30bced")
        .env("DONE_MARKER", "[bye]")
        // Above the Rust side's own waits (SETTLE per step), so a slow machine fails there,
        // with a message, rather than by the peer quitting first.
        .env("TIMEOUT_MS", "60000")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");

    let expected = serde_json::json!({ "user": { "name": "Preston", "color": "#30bced" } });
    let node_present = |c: &mossy_collab::HubClient| c.peers().values().any(|s| *s == expected);
    assert!(
        app.wait_until(support::SETTLE, node_present).await,
        "node awareness appears"
    );
    let node_edit = |c: &mossy_collab::HubClient| c.text().contains("Hi from Node.");
    assert!(
        app.wait_until(support::SETTLE, node_edit).await,
        "node edit reaches Rust"
    );

    app.push("[bye]");
    let status = tokio::time::timeout(support::SETTLE, node.wait())
        .await
        .expect("node exits in time")
        .expect("node waited");
    let mut stdout = String::new();
    node.stdout
        .take()
        .expect("stdout piped")
        .read_to_string(&mut stdout)
        .await
        .expect("stdout read");
    assert!(status.success(), "node peer failed: {stdout}");

    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("node prints JSON lines"))
        .collect();
    assert_eq!(
        events[0],
        serde_json::json!({ "event": "synced", "text": "Hello from Mossy. " })
    );
    assert_eq!(
        events[1],
        serde_json::json!({ "event": "done", "text": "Hello from Mossy. Hi from Node.[bye]" })
    );

    let node_gone = |c: &mossy_collab::HubClient| c.peers().is_empty();
    assert!(
        app.wait_until(support::SETTLE, node_gone).await,
        "node awareness disappears"
    );
    assert_eq!(app.text(), "Hello from Mossy. Hi from Node.[bye]");
    hub.shutdown().await;
}
