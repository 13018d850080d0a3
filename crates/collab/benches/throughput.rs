//! Saturation benchmark: how many document updates a second a server takes in and delivers to
//! every peer of one room when writers send as fast as it will accept, against the `mossy-hub`
//! binary and the reference Node server from npm `@y/websocket-server`, in the same run.
//!
//! Each writer has its own pre-made stream of one-character Yjs updates (made before the clock
//! starts, so making them costs nothing during the run) and keeps at most [`WINDOW`] of them
//! not yet seen by an observer peer: a closed loop, so neither server is measured with an
//! unbounded backlog piling up in its buffers. The figure is updates per second that reached
//! the observer (every peer gets the same frames); frames the server handled follow from it:
//! one in, one out per other peer (`mossy-hub` also echoes the sender its acknowledgement).
//!
//! `BENCH_SECONDS` sets the measured time per server (default 10). The Node server needs
//! `npm ci --prefix crates/collab/interop`.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use mossy_collab::wire::{encode_sync_step1, encode_update};
use support::{rss_mib, spawn_mossy, spawn_node};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::Message;
use yrs::{ClientID, Doc, Options, StateVector, Text, Transact};

/// Peers that write; each also reads every frame, as a real editor does.
const WRITERS: usize = 8;

/// Updates a writer may have in flight before it waits for the observer to see them.
const WINDOW: u64 = 64;

/// Updates made per writer before the run; more than any server here delivers in the time.
const UPDATES_PER_WRITER: usize = 120_000;

/// Time the servers get to settle (JIT, first allocations) before counting starts.
const WARM_UP: Duration = Duration::from_secs(1);

const ROOM: &str = "throughput-bench";

/// One writer's pre-made updates, each already framed as a sync `Update` message.
fn make_updates(client_id: u64) -> Vec<Vec<u8>> {
    let doc = Doc::with_options(Options {
        client_id: ClientID::new(client_id),
        ..Options::default()
    });
    let text = doc.get_or_insert_text(mossy_collab::TEXT_NAME);
    (0..UPDATES_PER_WRITER)
        .map(|n| {
            let mut txn = doc.transact_mut();
            let end = text.len(&txn);
            text.insert(&mut txn, end, if n % 40 == 39 { "\n" } else { "x" });
            encode_update(&txn.encode_update_v1())
        })
        .collect()
}

/// Reads a varint at `at`, returning it and the offset after it.
fn read_varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((value, at));
        }
    }
    None
}

/// The author of a frame that is a sync `Update` holding one client's structs, as every update
/// in this benchmark is: message type 0, sync type 2, length, then the v1 update (client
/// count, struct count, client id, ...).
fn update_author(frame: &[u8]) -> Option<u64> {
    if frame.first() != Some(&0) || frame.get(1) != Some(&2) {
        return None;
    }
    let (_, at) = read_varint(frame, 2)?;
    let (_, at) = read_varint(frame, at)?;
    let (_, at) = read_varint(frame, at)?;
    read_varint(frame, at).map(|(client, _)| client)
}

struct Figures {
    updates_per_second: f64,
    rss_mib: f64,
}

async fn run(addr: SocketAddr, pid: u32, seconds: u64, streams: &[Arc<Vec<Vec<u8>>>]) -> Figures {
    let url = format!("ws://{addr}/{ROOM}");
    let seen: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let wake: Arc<Vec<Notify>> = Arc::new((0..WRITERS).map(|_| Notify::new()).collect());
    let delivered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let (observer, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("observer connects");
    let (mut observer_tx, mut observer_rx) = observer.split();
    observer_tx
        .send(Message::binary(encode_sync_step1(StateVector::default())))
        .await
        .expect("observer syncs");
    let observing = {
        let (seen, wake, delivered) = (seen.clone(), wake.clone(), delivered.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = observer_rx.next().await {
                let Message::Binary(frame) = message else {
                    continue;
                };
                let Some(author) = update_author(&frame) else {
                    continue;
                };
                let Some(index) = (author as usize).checked_sub(1).filter(|i| *i < WRITERS) else {
                    continue;
                };
                seen[index].fetch_add(1, Ordering::Relaxed);
                delivered.fetch_add(1, Ordering::Relaxed);
                wake[index].notify_one();
            }
        })
    };

    let mut writers = Vec::new();
    for (index, stream) in streams.iter().enumerate() {
        let (socket, _) = tokio_tungstenite::connect_async(&url)
            .await
            .expect("writer connects");
        let (mut tx, mut rx) = socket.split();
        tx.send(Message::binary(encode_sync_step1(StateVector::default())))
            .await
            .expect("writer syncs");
        // A writer reads what the others write, or its socket would back up into the server.
        tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
        let (seen, wake, stop, stream) = (seen.clone(), wake.clone(), stop.clone(), stream.clone());
        writers.push(tokio::spawn(async move {
            for (sent, frame) in stream.iter().enumerate() {
                while sent as u64 >= seen[index].load(Ordering::Relaxed) + WINDOW {
                    let woken = wake[index].notified();
                    if sent as u64 >= seen[index].load(Ordering::Relaxed) + WINDOW {
                        let _ = tokio::time::timeout(Duration::from_millis(50), woken).await;
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                }
                if stop.load(Ordering::Relaxed)
                    || tx.send(Message::binary(frame.clone())).await.is_err()
                {
                    return;
                }
            }
        }));
    }

    tokio::time::sleep(WARM_UP).await;
    let start_count = delivered.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let count = delivered.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed().as_secs_f64();
    let rss = rss_mib(pid);
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        let _ = writer.await;
    }
    observing.abort();

    let exhausted = seen
        .iter()
        .any(|n| n.load(Ordering::Relaxed) >= UPDATES_PER_WRITER as u64);
    assert!(
        !exhausted,
        "a writer ran out of updates: raise UPDATES_PER_WRITER"
    );
    Figures {
        updates_per_second: count as f64 / elapsed,
        rss_mib: rss,
    }
}

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!(
        "throughput: {WRITERS} writers (window {WINDOW}) + 1 observer in one room, {seconds} s \
         per server after {} s warm-up",
        WARM_UP.as_secs()
    );
    let made = Instant::now();
    let streams: Vec<Arc<Vec<Vec<u8>>>> = (0..WRITERS)
        .map(|n| Arc::new(make_updates(n as u64 + 1)))
        .collect();
    println!(
        "made {} updates in {:.1} s",
        WRITERS * UPDATES_PER_WRITER,
        made.elapsed().as_secs_f64()
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    let data = tempfile::tempdir().expect("temp dir");
    let (mut mossy, addr) = spawn_mossy(data.path());
    let mossy_figures = runtime.block_on(run(addr, mossy.id(), seconds, &streams));
    let _ = mossy.kill();
    let _ = mossy.wait();

    let (mut node, addr) = spawn_node();
    let node_figures = runtime.block_on(run(addr, node.id(), seconds, &streams));
    let _ = node.kill();
    let _ = node.wait();

    println!("{:<30} {:>12} {:>8}", "server", "updates/s", "RSS MiB");
    for (name, f) in [
        ("mossy-hub (SQLite, FULL sync)", &mossy_figures),
        ("@y/websocket-server 0.1.1", &node_figures),
    ] {
        println!(
            "{name:<30} {:>12.0} {:>8.1}",
            f.updates_per_second, f.rss_mib
        );
    }
    println!(
        "ratio mossy/node: throughput {:.2}x, memory {:.2}x",
        mossy_figures.updates_per_second / node_figures.updates_per_second,
        mossy_figures.rss_mib / node_figures.rss_mib
    );
}
