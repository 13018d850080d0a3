//! One actor task per loaded room: the only owner of that room's document and awareness.
//!
//! Connections send [`RoomCommand`]s. The actor takes every command that is already queued,
//! commits all document updates among them to the store in one transaction (group commit),
//! and only then applies them and forwards them, in arrival order, to every peer including the
//! sender. The sender's copy is its acknowledgement. An idle room (no peers for
//! [`IDLE_UNLOAD`]) leaves the registry and frees its memory; the next join reloads it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::tungstenite::Bytes;
use tracing::{debug, info, warn};
use yrs::sync::{Awareness, AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ClientID, ReadTxn, StateVector, Transact, Update};

use crate::store::Store;
use crate::{COMPACT_AFTER_UPDATES, StoreError, wire};

/// How long a room with no peers stays loaded. Long enough that a peer reconnecting after a
/// network blip finds it warm, short enough that closed documents do not pile up in memory.
pub const IDLE_UNLOAD: Duration = Duration::from_secs(30);

/// Commands queued per room before connection tasks wait. Backpressure here slows a fast
/// sender down to the speed of the disk instead of growing memory.
pub const ROOM_QUEUE: usize = 1024;

/// Most commands folded into one group commit, to bound the latency of the first of them.
const MAX_BATCH: usize = 256;

/// Identifies one WebSocket connection for the lifetime of the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// What a connection asks of its room.
#[derive(Debug)]
pub enum RoomCommand {
    /// A peer joined; frames for it go to `outbox`.
    Join {
        /// The joining connection.
        conn: ConnId,
        /// Where the room sends encoded frames for this peer.
        outbox: mpsc::Sender<Bytes>,
    },
    /// Decoded messages from one frame.
    Messages {
        /// Sending connection.
        conn: ConnId,
        /// Messages, already validated by [`wire::decode_frame`].
        messages: Vec<Message>,
    },
    /// The peer is gone; its awareness states are removed and the removal broadcast.
    Leave {
        /// Leaving connection.
        conn: ConnId,
    },
}

/// Live rooms by name.
pub type Registry = Arc<Mutex<HashMap<String, mpsc::Sender<RoomCommand>>>>;

struct Peer {
    outbox: mpsc::Sender<Bytes>,
    /// Awareness client ids this connection has announced, removed when it leaves.
    awareness_ids: HashSet<ClientID>,
}

struct Room {
    name: String,
    store: Arc<Store>,
    awareness: Awareness,
    peers: HashMap<ConnId, Peer>,
    last_seq: i64,
    since_compaction: u64,
    compacting: Arc<AtomicBool>,
}

/// Sends `command` to the room called `name`, starting its actor when it is not loaded.
///
/// The registry lock is held only to look the room up, never while waiting for queue space,
/// so one busy room cannot stall the others.
pub async fn send(registry: &Registry, store: &Arc<Store>, name: &str, command: RoomCommand) {
    let sender = {
        let mut rooms = registry.lock().await;
        rooms
            .entry(name.to_owned())
            .or_insert_with(|| spawn(registry, store, name))
            .clone()
    };
    let Err(mpsc::error::SendError(command)) = sender.send(command).await else {
        return;
    };

    // The actor unloaded (idle, so no peer had joined it) or failed to load between the
    // lookup and the send: use the room that replaced it, or start one.
    let fresh = {
        let mut rooms = registry.lock().await;
        match rooms.get(name) {
            Some(live) if !live.same_channel(&sender) => live.clone(),
            _ => {
                let fresh = spawn(registry, store, name);
                rooms.insert(name.to_owned(), fresh.clone());
                fresh
            }
        }
    };
    if fresh.send(command).await.is_err() {
        warn!(room = %name, "room is unavailable; command dropped");
    }
}

fn spawn(registry: &Registry, store: &Arc<Store>, name: &str) -> mpsc::Sender<RoomCommand> {
    let (tx, rx) = mpsc::channel(ROOM_QUEUE);
    let (registry, store, name) = (registry.clone(), store.clone(), name.to_owned());
    let own = tx.clone();
    tokio::spawn(run(registry, store, name, own, rx));
    tx
}

async fn run(
    registry: Registry,
    store: Arc<Store>,
    name: String,
    own: mpsc::Sender<RoomCommand>,
    mut rx: mpsc::Receiver<RoomCommand>,
) {
    let loaded = {
        let (store, name) = (store.clone(), name.clone());
        blocking(move || store.load(&name)).await
    };
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(room = %name, %error, "room could not be loaded");
            registry.lock().await.retain(|_, tx| !tx.same_channel(&own));
            return;
        }
    };
    info!(room = %name, rows = loaded.rows, "room loaded");
    let mut room = Room {
        name,
        store,
        awareness: Awareness::new(loaded.doc),
        peers: HashMap::new(),
        last_seq: loaded.last_seq,
        since_compaction: loaded.rows,
        compacting: Arc::new(AtomicBool::new(false)),
    };
    drop(own);

    loop {
        let first = if room.peers.is_empty() {
            match tokio::time::timeout(IDLE_UNLOAD, rx.recv()).await {
                Ok(command) => command,
                Err(_) => {
                    let mut rooms = registry.lock().await;
                    if rx.is_empty() {
                        rooms.remove(&room.name);
                        info!(room = %room.name, "idle room unloaded");
                        return;
                    }
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(first) = first else { return };

        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(command) => batch.push(command),
                Err(_) => break,
            }
        }
        room.handle_batch(batch).await;
    }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
}

impl Room {
    async fn handle_batch(&mut self, batch: Vec<RoomCommand>) {
        let updates: Vec<Vec<u8>> = batch
            .iter()
            .filter_map(|command| match command {
                RoomCommand::Messages { messages, .. } => Some(messages),
                _ => None,
            })
            .flatten()
            .filter_map(document_update)
            .map(<[u8]>::to_vec)
            .collect();

        let mut stored = true;
        if !updates.is_empty() {
            let (store, name, count) = (self.store.clone(), self.name.clone(), updates.len());
            match blocking(move || store.append(&name, &updates)).await {
                Ok(seq) => {
                    self.last_seq = seq;
                    self.since_compaction += count as u64;
                }
                Err(error) => {
                    let room = &self.name;
                    tracing::error!(%room, %error, "updates not stored; dropping their senders");
                    stored = false;
                }
            }
        }

        // Senders of updates that could not be stored are disconnected: their client
        // reconnects and offers the same edits again in its sync handshake.
        let mut unsaved = Vec::new();
        for command in batch {
            match command {
                RoomCommand::Join { conn, outbox } => self.join(conn, outbox),
                RoomCommand::Messages { conn, messages } => {
                    for message in messages {
                        if !stored && document_update(&message).is_some() {
                            unsaved.push(conn);
                            continue;
                        }
                        self.handle(conn, message);
                    }
                }
                RoomCommand::Leave { conn } => self.leave(conn),
            }
        }
        for conn in unsaved {
            self.leave(conn);
        }
        self.maybe_compact();
    }

    fn join(&mut self, conn: ConnId, outbox: mpsc::Sender<Bytes>) {
        let state_vector = self.awareness.doc().transact().state_vector();
        let _ = outbox.try_send(wire::encode_sync_step1(state_vector).into());
        if let Ok(update) = self.awareness.update()
            && !update.clients.is_empty()
        {
            let _ = outbox.try_send(Message::Awareness(update).encode_v1().into());
        }
        self.peers.insert(
            conn,
            Peer {
                outbox,
                awareness_ids: HashSet::new(),
            },
        );
        debug!(room = %self.name, conn = conn.0, peers = self.peers.len(), "peer joined");
    }

    fn leave(&mut self, conn: ConnId) {
        let Some(peer) = self.peers.remove(&conn) else {
            return;
        };
        debug!(room = %self.name, conn = conn.0, peers = self.peers.len(), "peer left");
        if peer.awareness_ids.is_empty() {
            return;
        }
        for id in &peer.awareness_ids {
            self.awareness.remove_state(*id);
        }
        if let Ok(update) = self.awareness.update_with_clients(peer.awareness_ids) {
            self.broadcast(Message::Awareness(update).encode_v1().into());
        }
    }

    fn handle(&mut self, conn: ConnId, message: Message) {
        match message {
            Message::Sync(SyncMessage::SyncStep1(state_vector)) => {
                let update = self
                    .awareness
                    .doc()
                    .transact()
                    .encode_state_as_update_v1(&state_vector);
                self.send_to(conn, wire::encode_sync_step2(update).into());
            }
            Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                if wire::is_empty_update(&update) {
                    return;
                }
                let applied = Update::decode_v1(&update)
                    .map_err(|err| err.to_string())
                    .and_then(|u| {
                        self.awareness
                            .doc()
                            .transact_mut()
                            .apply_update(u)
                            .map_err(|e| e.to_string())
                    });
                if let Err(error) = applied {
                    warn!(room = %self.name, conn = conn.0, %error, "stored update did not apply");
                    return;
                }
                self.broadcast(wire::encode_update(&update).into());
            }
            Message::Awareness(update) => self.relay_awareness(conn, update),
            Message::AwarenessQuery => {
                if let Ok(update) = self.awareness.update() {
                    self.send_to(conn, Message::Awareness(update).encode_v1().into());
                }
            }
            Message::Auth(_) | Message::Custom(..) => {
                debug!(room = %self.name, conn = conn.0, "ignoring auth/custom message");
            }
        }
    }

    fn relay_awareness(&mut self, conn: ConnId, update: AwarenessUpdate) {
        // A state belongs to the connection that first announced it. y-websocket clients pass
        // on every state they learn, so the same id also arrives from the others; if those
        // claimed it, a bystander's disconnect would remove a peer who is still here.
        for (id, entry) in &update.clients {
            if &*entry.json == "null" {
                if let Some(peer) = self.peers.get_mut(&conn) {
                    peer.awareness_ids.remove(id);
                }
                continue;
            }
            let owned = self
                .peers
                .values()
                .any(|peer| peer.awareness_ids.contains(id));
            if !owned && let Some(peer) = self.peers.get_mut(&conn) {
                peer.awareness_ids.insert(*id);
            }
        }
        let frame: Bytes = Message::Awareness(update.clone()).encode_v1().into();
        if let Err(error) = self.awareness.apply_update(update) {
            debug!(room = %self.name, conn = conn.0, %error, "awareness update not applied");
        }
        // The sender gets it back too, as from the reference y-websocket server: y-websocket
        // closes a connection that heard nothing for 30 s, and a client alone in a room
        // would otherwise reconnect, and sync the whole document again, twice a minute.
        self.broadcast(frame);
    }

    fn send_to(&mut self, conn: ConnId, frame: Bytes) {
        let result = match self.peers.get(&conn) {
            Some(peer) => peer.outbox.try_send(frame),
            None => Ok(()),
        };
        if let Err(error) = result {
            self.drop_peer(conn, &error);
        }
    }

    /// Sends a frame to every peer; peers that cannot take it are dropped.
    fn broadcast(&mut self, frame: Bytes) {
        let failed: Vec<(ConnId, mpsc::error::TrySendError<Bytes>)> = self
            .peers
            .iter()
            .filter_map(|(conn, peer)| {
                peer.outbox
                    .try_send(frame.clone())
                    .err()
                    .map(|e| (*conn, e))
            })
            .collect();
        for (conn, error) in failed {
            self.drop_peer(conn, &error);
        }
    }

    fn drop_peer(&mut self, conn: ConnId, error: &mpsc::error::TrySendError<Bytes>) {
        match error {
            mpsc::error::TrySendError::Full(_) => {
                warn!(room = %self.name, conn = conn.0, "peer too slow to keep up; dropping it");
            }
            mpsc::error::TrySendError::Closed(_) => {
                debug!(room = %self.name, conn = conn.0, "peer already gone");
            }
        }
        self.leave(conn);
    }

    fn maybe_compact(&mut self) {
        if self.since_compaction < COMPACT_AFTER_UPDATES || self.compacting.load(Ordering::Acquire)
        {
            return;
        }
        self.compacting.store(true, Ordering::Release);
        self.since_compaction = 0;

        let snapshot = self
            .awareness
            .doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let (store, name, upto, flag) = (
            self.store.clone(),
            self.name.clone(),
            self.last_seq,
            self.compacting.clone(),
        );
        tokio::task::spawn_blocking(move || {
            match store.compact(&name, upto, &snapshot) {
                Ok(()) => debug!(room = %name, upto, bytes = snapshot.len(), "room compacted"),
                Err(error) => warn!(room = %name, %error, "compaction failed; will retry later"),
            }
            flag.store(false, Ordering::Release);
        });
    }
}

/// The document update carried by a sync message, if any.
fn document_update(message: &Message) -> Option<&[u8]> {
    match message {
        Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update))
            if !wire::is_empty_update(update) =>
        {
            Some(update)
        }
        _ => None,
    }
}
