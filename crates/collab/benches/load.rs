//! Load benchmark: a document of about 1 MB built from 100k edits, stored in SQLite, then
//! loaded into a room — from the raw update log, from the compacted snapshot, and end to end
//! through a running hub until a fresh client holds the whole text.

use std::time::{Duration, Instant};

use mossy_collab::store::Store;
use mossy_collab::{Hub, HubClient, HubClientConfig, HubConfig, TEXT_NAME};
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact};

const EDITS: usize = 100_000;
const ROOM: &str = "load-bench";
const RUNS: usize = 5;

/// 100k edits from 4 authors, each typing 11-character words at its own cursor and
/// backspacing 3 characters every 50th edit. Every 200 edits an author catches up with the
/// others' edits and moves its cursor, so the history holds concurrent, interleaved blocks and
/// tombstones as a real session would.
fn history() -> (Vec<Vec<u8>>, String) {
    let docs: Vec<Doc> = (1..=4).map(Doc::with_client_id).collect();
    let mut cursors = [0u32; 4];
    let mut behind: Vec<Vec<Vec<u8>>> = vec![Vec::new(); docs.len()];
    let mut updates = Vec::with_capacity(EDITS);
    let mut seed = 0x2545_F491_u64;
    for i in 0..EDITS {
        let author = i % docs.len();
        let doc = &docs[author];
        let text = doc.get_or_insert_text(TEXT_NAME);
        if i % 800 < 4 {
            catch_up(doc, &mut behind[author]);
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = text.len(&doc.transact());
            cursors[author] = (seed % u64::from(len + 1)) as u32;
        }
        let mut txn = doc.transact_mut();
        let cursor = cursors[author].min(text.len(&txn));
        if i % 50 == 49 && cursor >= 3 {
            text.remove_range(&mut txn, cursor - 3, 3);
            cursors[author] = cursor - 3;
        } else {
            text.insert(&mut txn, cursor, "DefaultObj ");
            cursors[author] = cursor + 11;
        }
        let update = txn.encode_update_v1();
        drop(txn);
        for (n, queue) in behind.iter_mut().enumerate() {
            if n != author {
                queue.push(update.clone());
            }
        }
        updates.push(update);
    }
    for (doc, queue) in docs.iter().zip(&mut behind) {
        catch_up(doc, queue);
    }
    let text = docs[0]
        .get_or_insert_text(TEXT_NAME)
        .get_string(&docs[0].transact());
    (updates, text)
}

fn catch_up(doc: &Doc, queue: &mut Vec<Vec<u8>>) {
    if queue.is_empty() {
        return;
    }
    let merged = yrs::merge_updates_v1(queue.drain(..)).expect("updates merge");
    let update = yrs::updates::decoder::Decode::decode_v1(&merged).expect("decodes");
    doc.transact_mut().apply_update(update).expect("applies");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let built = Instant::now();
    let (updates, expected) = history();
    println!(
        "load: {} edits, text {} bytes, history built in {:.1} s",
        updates.len(),
        expected.len(),
        built.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    for chunk in updates.chunks(1_000) {
        store.append(ROOM, chunk).expect("append");
    }

    let log_times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let loaded = store.load(ROOM).expect("load");
            let elapsed = t.elapsed();
            assert_eq!(
                loaded
                    .doc
                    .get_or_insert_text(TEXT_NAME)
                    .get_string(&loaded.doc.transact()),
                expected
            );
            elapsed
        })
        .collect();

    let loaded = store.load(ROOM).expect("load");
    let snapshot = loaded
        .doc
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    store
        .compact(ROOM, loaded.last_seq, &snapshot)
        .expect("compact");
    let snapshot_times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            let loaded = store.load(ROOM).expect("load");
            let elapsed = t.elapsed();
            assert_eq!(
                loaded
                    .doc
                    .get_or_insert_text(TEXT_NAME)
                    .get_string(&loaded.doc.transact()),
                expected
            );
            elapsed
        })
        .collect();
    drop(store);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let hub_time = runtime.block_on(async {
        let mut config = HubConfig::new(dir.path());
        config.bind = "127.0.0.1:0".parse().expect("addr");
        let hub = Hub::start(config).await.expect("hub");
        let t = Instant::now();
        let client = HubClient::connect(HubClientConfig::new(
            format!("ws://{}", hub.local_addr()),
            ROOM,
        ))
        .expect("client");
        let whole = |c: &HubClient| c.text().len() == expected.len();
        assert!(client.wait_until(Duration::from_secs(60), whole).await);
        let elapsed = t.elapsed();
        client.close().await;
        hub.shutdown().await;
        elapsed
    });

    println!("{:<44} {:>10}", "step", "median ms");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{:<44} {:>10.1}",
        "load from update log (100k rows)",
        ms(median(log_times))
    );
    println!(
        "{:<44} {:>10.1}",
        format!("load from snapshot ({} KiB row)", snapshot.len() / 1024),
        ms(median(snapshot_times))
    );
    println!(
        "{:<44} {:>10.1}",
        "hub: connect + room load + sync of 1 client",
        ms(hub_time)
    );
}
