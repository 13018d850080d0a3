//! Typing benchmark: 10 peers each typing 20 characters a second into one room, against the
//! `mossy-hub` binary and the reference Node server from npm `@y/websocket-server`, in the same
//! run. Prints keystroke-to-appearance latency at the other peers (p50, p99), server messages
//! per second (frames in plus frames out) and the server's resident memory.
//!
//! `BENCH_SECONDS` sets the typing time per server (default 60). The Node server needs
//! `npm ci --prefix crates/collab/interop`.

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mossy_collab::{HubClient, HubClientConfig};
use support::{rss_mib, spawn_mossy, spawn_node};
use yrs::ReadTxn;

const PEERS: usize = 10;
const KEYS_PER_SECOND: u64 = 20;
const ROOM: &str = "typing-bench";

/// Send times of each peer's keystrokes, indexed by the Yjs clock the keystroke got.
type SendTimes = Arc<Mutex<HashMap<u64, Vec<Instant>>>>;

struct Figures {
    p50: Duration,
    p99: Duration,
    samples: usize,
    messages_per_second: f64,
    rss_mib: f64,
}

async fn run(addr: SocketAddr, pid: u32, seconds: u64) -> Figures {
    let sent_at: SendTimes = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut peers = Vec::new();
    for _ in 0..PEERS {
        let client =
            HubClient::connect(HubClientConfig::new(format!("ws://{addr}"), ROOM)).expect("client");
        assert!(
            client
                .wait_until(Duration::from_secs(10), HubClient::is_connected)
                .await
        );
        sent_at
            .lock()
            .expect("times")
            .insert(client.client_id(), Vec::new());
        peers.push(client);
    }
    for peer in &peers {
        watch_arrivals(peer, sent_at.clone(), latencies.clone());
    }

    let start_frames: u64 = peers.iter().map(|p| p.received() + p.sent()).sum();
    let started = Instant::now();
    let typing = peers.iter().enumerate().map(|(n, peer)| {
        let sent_at = sent_at.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(1000 / KEYS_PER_SECOND));
            let id = peer.client_id();
            for key in 0..seconds * KEYS_PER_SECOND {
                tick.tick().await;
                let letter = char::from(b'a' + (n as u8 + key as u8) % 26);
                sent_at
                    .lock()
                    .expect("times")
                    .entry(id)
                    .or_default()
                    .push(Instant::now());
                peer.push(&letter.to_string());
                let cursor =
                    serde_json::json!({ "user": { "name": format!("peer{n}") }, "cursor": key });
                peer.set_awareness(&cursor).expect("awareness");
            }
        }
    });
    futures_util::future::join_all(typing).await;
    let all_seen =
        |p: &HubClient| p.text().len() as u64 == PEERS as u64 * seconds * KEYS_PER_SECOND;
    for peer in &peers {
        assert!(
            peer.wait_until(Duration::from_secs(30), all_seen).await,
            "every key arrived"
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    let frames: u64 = peers.iter().map(|p| p.received() + p.sent()).sum::<u64>() - start_frames;
    // Awareness frames are not counted by `sent()`; each keystroke sent one.
    let awareness_sent = PEERS as u64 * seconds * KEYS_PER_SECOND;
    let rss = rss_mib(pid);
    for peer in peers {
        peer.close().await;
    }

    let mut latencies = std::mem::take(&mut *latencies.lock().expect("latencies"));
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Figures {
        p50: at(0.50),
        p99: at(0.99),
        samples: latencies.len(),
        messages_per_second: (frames + awareness_sent) as f64 / elapsed,
        rss_mib: rss,
    }
}

/// Records, for every remote keystroke that becomes visible in `peer`'s document, the time
/// since it was typed. A keystroke is one character, so it advances its author's clock by one.
fn watch_arrivals(peer: &HubClient, sent_at: SendTimes, latencies: Arc<Mutex<Vec<Duration>>>) {
    let own = peer.client_id();
    let seen: Mutex<HashMap<u64, u32>> = Mutex::default();
    peer.doc()
        .observe_update_v1("bench", move |txn, _| {
            let now = Instant::now();
            let state = txn.state_vector();
            let times = sent_at.lock().expect("times");
            let mut seen = seen.lock().expect("seen");
            let mut latencies = latencies.lock().expect("latencies");
            for (client, clock) in state.iter() {
                let client = client.get();
                if client == own {
                    continue;
                }
                let before = seen.insert(client, *clock).unwrap_or(0);
                if let Some(sent) = times.get(&client) {
                    for key in before..*clock {
                        if let Some(at) = sent.get(key as usize) {
                            latencies.push(now.saturating_duration_since(*at));
                        }
                    }
                }
            }
        })
        .expect("observer installs");
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    println!(
        "typing: {PEERS} peers x {KEYS_PER_SECOND} keys/s for {seconds} s per server \
         (+1 awareness update per key)"
    );

    let data = tempfile::tempdir().expect("temp dir");
    let (mut mossy, addr) = spawn_mossy(data.path());
    let mossy_figures = runtime.block_on(run(addr, mossy.id(), seconds));
    let _ = mossy.kill();
    let _ = mossy.wait();

    let (mut node, addr) = spawn_node();
    let node_figures = runtime.block_on(run(addr, node.id(), seconds));
    let _ = node.kill();
    let _ = node.wait();

    println!(
        "{:<28} {:>8} {:>8} {:>10} {:>8} {:>9}",
        "server", "p50 ms", "p99 ms", "msgs/s", "RSS MiB", "samples"
    );
    for (name, f) in [
        ("mossy-hub (SQLite, FULL sync)", mossy_figures),
        ("@y/websocket-server 0.1.1", node_figures),
    ] {
        println!(
            "{:<28} {:>8.2} {:>8.2} {:>10.0} {:>8.1} {:>9}",
            name,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.messages_per_second,
            f.rss_mib,
            f.samples
        );
    }
}
