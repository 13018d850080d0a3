//! Durability: every edit the hub acknowledged survives a SIGKILL of the `mossy-hub` process.
//!
//! "Acknowledged" means the hub echoed the update back to the client that sent it. The hub
//! sends that echo only after the update's row is committed to SQLite, so an acknowledged edit
//! must be present after a restart on the same data directory.

#[path = "support/hub.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mossy_collab::COMPACT_AFTER_UPDATES;

/// Spawns the hub binary and returns it with the address it printed.
fn spawn_hub(data_dir: &Path, bind: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mossy-hub"))
        .args(["--bind", bind, "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("hub binary starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("hub prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on ws://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("printed address parses");
    (child, addr)
}

/// Streams edits `c{cycle}e{n};` from a fresh client until at least `ack_target` are
/// acknowledged, SIGKILLs the hub at once, and returns how many were acknowledged.
async fn stream_and_kill(hub: &mut Child, addr: SocketAddr, cycle: u32, ack_target: u64) -> u64 {
    let writer = support::client(addr, "durable", None).await;
    let typing = async {
        for n in 0u64.. {
            writer.push(&format!("c{cycle}e{n};"));
            if n.is_multiple_of(4) {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
    };
    let acked = writer.wait_until(support::SETTLE, |c| c.acknowledged() >= ack_target);
    tokio::select! {
        reached = acked => assert!(reached, "hub stopped acknowledging"),
        _ = typing => unreachable!("typing never ends"),
    }
    hub.kill().expect("SIGKILL the hub");
    hub.wait().expect("hub reaped");

    assert!(
        writer
            .wait_until(support::SETTLE, |c| !c.is_connected())
            .await
    );
    let acknowledged = writer.acknowledged();
    assert!(acknowledged >= ack_target && acknowledged <= writer.sent());
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_edits_survive_sigkill_and_restart() {
    let data = tempfile::tempdir().expect("temp dir");
    let (mut hub, addr) = spawn_hub(data.path(), "127.0.0.1:0");

    // The first cycle runs past one compaction, so restarts replay a snapshot plus the rows
    // after it; later cycles kill the hub again on top of that. A hub that acknowledged before
    // committing loses an edit here only if a kill lands in that gap, which is rare; the
    // ordering itself is pinned down by `nothing_is_forwarded_before_it_is_committed`.
    let targets = [COMPACT_AFTER_UPDATES + 100, 300, 300, 300, 300, 300];
    let mut acknowledged = Vec::new();
    for (cycle, target) in (0u32..).zip(targets) {
        acknowledged.push(stream_and_kill(&mut hub, addr, cycle, target).await);
        (hub, _) = spawn_hub(data.path(), &addr.to_string());
    }

    let reader = support::client(addr, "durable", None).await;
    let final_cycle = acknowledged.len() - 1;
    let last = format!("c{final_cycle}e{};", acknowledged[final_cycle] - 1);
    let synced = reader
        .wait_until(support::SETTLE, |c| c.text().contains(&last))
        .await;
    let text = reader.text();
    hub.kill().expect("stop the hub");
    hub.wait().expect("hub reaped");
    assert!(
        synced,
        "last acknowledged edit {last} missing after restart"
    );

    // Acknowledgements arrive in send order, so edits 0..count of each cycle are the ones.
    let present: std::collections::HashSet<&str> = text.split_terminator(';').collect();
    for (cycle, count) in acknowledged.iter().enumerate() {
        let missing: Vec<String> = (0..*count)
            .map(|n| format!("c{cycle}e{n}"))
            .filter(|token| !present.contains(token.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "cycle {cycle}: acknowledged edits lost: {missing:?}"
        );
    }

    // The log was compacted on the way: the first cycle's rows (at least
    // COMPACT_AFTER_UPDATES of them) were folded into one snapshot row, so the oldest row left
    // is that snapshot, stored at a seq of at least COMPACT_AFTER_UPDATES, and nothing before
    // it remains. (Counting rows against acknowledged edits is not enough: a kill can land
    // after rows are stored but before they are acknowledged, more so on a slow machine.)
    let db = rusqlite::Connection::open(data.path().join(mossy_collab::store::DB_FILE))
        .expect("store opens");
    let (oldest, newest, rows): (i64, i64, i64) = db
        .query_row(
            "SELECT MIN(seq), MAX(seq), COUNT(*) FROM updates WHERE room = 'durable'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .expect("count");
    let threshold = i64::try_from(COMPACT_AFTER_UPDATES).expect("fits");
    assert!(
        oldest >= threshold && rows == newest - oldest + 1,
        "rows {oldest}..={newest} ({rows} of them): the log was never compacted"
    );
    let total: u64 = acknowledged.iter().sum();
    assert!(
        rows.unsigned_abs() < total,
        "{rows} rows for {total} acknowledged updates"
    );
}

// Guards the commit-before-forward rule deterministically: while another connection holds the
// database's write lock, an update must be neither echoed to its sender nor seen by a peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_forwarded_before_it_is_committed() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(data.path(), None).await;
    let writer = support::client(hub.local_addr(), "ordered", None).await;
    let peer = support::client(hub.local_addr(), "ordered", None).await;

    let blocker = rusqlite::Connection::open(data.path().join(mossy_collab::store::DB_FILE))
        .expect("second connection");
    blocker
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    writer.push("Covenant");
    let leaked = peer
        .wait_until(Duration::from_millis(500), |c| !c.text().is_empty())
        .await;
    assert!(!leaked, "peer saw an update that was not committed");
    assert_eq!(
        writer.acknowledged(),
        0,
        "update acknowledged before commit"
    );

    blocker
        .execute_batch("COMMIT")
        .expect("release the write lock");
    assert!(
        writer
            .wait_until(support::SETTLE, |c| c.acknowledged() == 1)
            .await
    );
    assert!(
        peer.wait_until(support::SETTLE, |c| c.text() == "Covenant")
            .await
    );
    hub.shutdown().await;
}
