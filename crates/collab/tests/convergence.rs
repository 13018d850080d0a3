//! Convergence: concurrent edits end in the same text everywhere, in memory (property test over
//! simulated peers with reordered and duplicated delivery) and through the real hub.

#[path = "support/hub.rs"]
mod support;

use std::time::Duration;

use proptest::prelude::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, Text, Transact, Update};

const PEERS: usize = 5;

#[derive(Debug, Clone)]
enum Step {
    /// Peer inserts `chunk` at `pos` modulo its length + 1.
    Insert {
        peer: usize,
        pos: u32,
        chunk: String,
    },
    /// Peer deletes up to `len` characters at `pos` modulo its length.
    Delete { peer: usize, pos: u32, len: u32 },
    /// Peer receives one pending update, chosen by `pick`, and keeps it queued when `dup`.
    Deliver { peer: usize, pick: usize, dup: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..PEERS, any::<u32>(), "[a-z]{1,3}")
            .prop_map(|(peer, pos, chunk)| Step::Insert { peer, pos, chunk }),
        1 => (0..PEERS, any::<u32>(), 1..4u32)
            .prop_map(|(peer, pos, len)| Step::Delete { peer, pos, len }),
        3 => (0..PEERS, any::<usize>(), any::<bool>())
            .prop_map(|(peer, pick, dup)| Step::Deliver { peer, pick, dup }),
    ]
}

fn text_of(doc: &Doc) -> String {
    doc.get_or_insert_text(mossy_collab::TEXT_NAME)
        .get_string(&doc.transact())
}

fn apply(doc: &Doc, update: &[u8]) {
    let update = Update::decode_v1(update).expect("peer updates decode");
    doc.transact_mut()
        .apply_update(update)
        .expect("peer updates apply");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn five_peers_converge_under_reordering_and_duplication(
        steps in prop::collection::vec(step(), 1..80),
        final_order in prop::collection::vec(any::<u64>(), 1..64),
    ) {
        let docs: Vec<Doc> = (1..=PEERS as u64).map(Doc::with_client_id).collect();
        let texts: Vec<_> =
            docs.iter().map(|d| d.get_or_insert_text(mossy_collab::TEXT_NAME)).collect();
        let mut inboxes: Vec<Vec<Vec<u8>>> = vec![Vec::new(); PEERS];
        let mut history: Vec<Vec<u8>> = Vec::new();

        for step in steps {
            match step {
                Step::Insert { peer, pos, chunk } => {
                    let mut txn = docs[peer].transact_mut();
                    let at = pos % (texts[peer].len(&txn) + 1);
                    texts[peer].insert(&mut txn, at, &chunk);
                    let update = txn.encode_update_v1();
                    drop(txn);
                    broadcast(&mut inboxes, &mut history, peer, update);
                }
                Step::Delete { peer, pos, len } => {
                    let mut txn = docs[peer].transact_mut();
                    let text_len = texts[peer].len(&txn);
                    if text_len == 0 {
                        continue;
                    }
                    let at = pos % text_len;
                    texts[peer].remove_range(&mut txn, at, len.min(text_len - at));
                    let update = txn.encode_update_v1();
                    drop(txn);
                    broadcast(&mut inboxes, &mut history, peer, update);
                }
                Step::Deliver { peer, pick, dup } => {
                    if inboxes[peer].is_empty() {
                        continue;
                    }
                    let index = pick % inboxes[peer].len();
                    let update = if dup {
                        inboxes[peer][index].clone()
                    } else {
                        inboxes[peer].swap_remove(index)
                    };
                    apply(&docs[peer], &update);
                }
            }
        }

        // Deliver the rest in a random order, every update twice.
        for (peer, inbox) in inboxes.iter_mut().enumerate() {
            let mut keyed: Vec<(u64, usize, &Vec<u8>)> = inbox
                .iter()
                .chain(inbox.iter())
                .enumerate()
                .map(|(i, update)| (final_order[i % final_order.len()] ^ i as u64, i, update))
                .collect();
            keyed.sort();
            for (_, _, update) in keyed {
                apply(&docs[peer], update);
            }
        }

        let reference = Doc::new();
        let merged = yrs::merge_updates_v1(&history).expect("history merges");
        apply(&reference, &merged);
        let expected = text_of(&reference);
        for doc in &docs {
            prop_assert_eq!(text_of(doc), expected.clone());
        }
    }
}

fn broadcast(
    inboxes: &mut [Vec<Vec<u8>>],
    history: &mut Vec<Vec<u8>>,
    from: usize,
    update: Vec<u8>,
) {
    for (peer, inbox) in inboxes.iter_mut().enumerate() {
        if peer != from {
            inbox.push(update.clone());
        }
    }
    history.push(update);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hub_clients_editing_concurrently_end_identical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(dir.path(), None).await;
    let addr = hub.local_addr();
    let clients = [
        support::client(addr, "plugins", None).await,
        support::client(addr, "plugins", None).await,
        support::client(addr, "plugins", None).await,
    ];

    // Each client deletes only its own letters, so no two deletes can hit the same character
    // and the final length is known exactly.
    let edits = clients.iter().enumerate().map(|(n, client)| async move {
        let letter = char::from(b'a' + n as u8);
        let mut seed = 0x9E37_79B9_u32.wrapping_mul(n as u32 + 1);
        for i in 0..40u32 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let text = client.text();
            if i % 5 == 4 {
                let own = text.find(letter).expect("own letter present") as u32;
                client.delete(own, 1).expect("delete in range");
            } else {
                let len = text.encode_utf16().count() as u32;
                client
                    .insert(seed % (len + 1), &letter.to_string())
                    .expect("insert in range");
            }
            tokio::time::sleep(Duration::from_millis(u64::from(seed % 4))).await;
        }
    });
    futures_util::future::join_all(edits).await;

    let all_sent = |c: &mossy_collab::HubClient| c.acknowledged() == c.sent();
    for client in &clients {
        assert!(
            client.wait_until(support::SETTLE, all_sent).await,
            "edits acknowledged"
        );
    }
    let first = &clients[0];
    let same = |c: &mossy_collab::HubClient| c.text() == first.text();
    for client in &clients[1..] {
        assert!(
            client.wait_until(support::SETTLE, same).await,
            "texts converge"
        );
    }
    // 3 clients x 32 inserts, 3 x 8 deletes of one character each.
    assert_eq!(first.text().chars().count(), 3 * 32 - 3 * 8);

    let late = support::client(addr, "plugins", None).await;
    assert!(
        late.wait_until(support::SETTLE, |c| c.text() == first.text())
            .await
    );
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_edits_merge_after_the_hub_comes_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(dir.path(), None).await;
    let addr = hub.local_addr();
    let traveller = support::client(addr, "offline", None).await;
    traveller.push("Vault 111. ");
    assert!(
        traveller
            .wait_until(support::SETTLE, |c| c.acknowledged() == 1)
            .await
    );

    hub.shutdown().await;
    assert!(
        traveller
            .wait_until(support::SETTLE, |c| !c.is_connected())
            .await
    );
    traveller.push("Edited offline.");

    let mut config = mossy_collab::HubConfig::new(dir.path());
    config.bind = addr;
    let hub = mossy_collab::Hub::start(config)
        .await
        .expect("hub restarts on the same port");
    let resident = support::client(addr, "offline", None).await;
    assert!(
        resident
            .wait_until(support::SETTLE, |c| c.text().starts_with("Vault 111."))
            .await
    );
    resident
        .insert(0, "Sole Survivor: ")
        .expect("insert at start");

    let expected = "Sole Survivor: Vault 111. Edited offline.";
    for client in [&traveller, &resident] {
        assert!(
            client
                .wait_until(support::SETTLE, |c| c.text() == expected)
                .await,
            "merged"
        );
    }
    let fresh = support::client(addr, "offline", None).await;
    assert!(
        fresh
            .wait_until(support::SETTLE, |c| c.text() == expected)
            .await,
        "stored"
    );
    hub.shutdown().await;
}
