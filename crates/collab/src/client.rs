//! A small Rust peer for the hub, used by the app and by the tests and benchmarks.
//!
//! [`HubClient`] owns a yrs document with the room's shared text. Local edits go into that
//! document first and are sent when a connection is up; while it is down they simply stay in
//! the document. Each (re)connection starts with the Yjs sync handshake — the client sends its
//! state vector, the hub answers with what the client lacks and asks for what the hub lacks —
//! so offline edits merge on reconnect without a separate queue. Reconnects back off from
//! [`RECONNECT_MIN`] to [`RECONNECT_MAX`].
//!
//! The hub echoes each stored update to its sender; the client counts an update as
//! acknowledged when that echo arrives ([`HubClient::acknowledged`]).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tracing::{debug, info};
use yrs::sync::{Awareness, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, OffsetKind, Options, Origin, ReadTxn, Text, TextRef, Transact, Update};

use crate::{ClientError, TEXT_NAME, validate_room_name, wire};

/// First delay before reconnecting; a hub restart on the same machine takes about this long.
pub const RECONNECT_MIN: Duration = Duration::from_millis(100);

/// Longest delay between reconnect attempts, so a peer notices a returning hub within seconds
/// without hammering a hub that is down.
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Time allowed for TCP connect plus WebSocket handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Interval at which the local awareness state is re-sent. Yjs peers forget a remote state
/// after 30 s without news, so half of that keeps this client visible.
pub const AWARENESS_RENEW: Duration = Duration::from_secs(15);

/// Transaction origin for changes that came from the hub, so they are not sent back.
const REMOTE_ORIGIN: &str = "mossy-hub";

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct HubClientConfig {
    /// Base URL of the hub, such as `ws://127.0.0.1:47820`.
    pub url: String,
    /// Room to join.
    pub room: String,
    /// Token sent as `?token=...` when the hub requires one.
    pub token: Option<String>,
}

impl HubClientConfig {
    /// A configuration without a token.
    pub fn new(url: impl Into<String>, room: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            room: room.into(),
            token: None,
        }
    }

    /// The full WebSocket URL of the room.
    pub fn room_url(&self) -> String {
        let base = self.url.trim_end_matches('/');
        match &self.token {
            Some(token) => format!("{base}/{}?token={}", self.room, percent_encode(token)),
            None => format!("{base}/{}", self.room),
        }
    }
}

enum Outgoing {
    Update(Vec<u8>),
    Awareness(Vec<u8>),
}

struct Shared {
    awareness: Mutex<Awareness>,
    text: TextRef,
    version: watch::Sender<u64>,
    connected: AtomicBool,
    sent: AtomicU64,
    acknowledged: AtomicU64,
    received: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Awareness> {
        self.awareness
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }
}

/// A peer in one hub room with its own copy of the document.
pub struct HubClient {
    shared: Arc<Shared>,
    outgoing: mpsc::UnboundedSender<Outgoing>,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl HubClient {
    /// Creates the client and starts connecting in the background; edits can be made at once.
    pub fn connect(config: HubClientConfig) -> Result<Self, ClientError> {
        if !validate_room_name(&config.room) {
            return Err(ClientError::InvalidRoom(config.room));
        }
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let text = doc.get_or_insert_text(TEXT_NAME);
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();

        let local = outgoing.clone();
        let remote = Origin::from(REMOTE_ORIGIN);
        doc.observe_update_v1("mossy-hub-client", move |txn, event| {
            if txn.origin() != Some(&remote) {
                let _ = local.send(Outgoing::Update(event.update.clone()));
            }
        })
        .map_err(|err| ClientError::Awareness(err.to_string()))?;

        let shared = Arc::new(Shared {
            awareness: Mutex::new(Awareness::new(doc)),
            text,
            version: watch::channel(0).0,
            connected: AtomicBool::new(false),
            sent: AtomicU64::new(0),
            acknowledged: AtomicU64::new(0),
            received: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(config, shared.clone(), outgoing_rx, stopped));
        Ok(Self {
            shared,
            outgoing,
            stop,
            task: Some(task),
        })
    }

    /// This peer's Yjs client id (also its awareness id).
    pub fn client_id(&self) -> u64 {
        self.shared.lock().client_id().get()
    }

    /// The client's document, for observers (`observe_update_v1`) and reads. Edit it through
    /// the methods here, or with any transaction: local changes are sent either way.
    pub fn doc(&self) -> Doc {
        self.shared.lock().doc().clone()
    }

    /// The current text.
    pub fn text(&self) -> String {
        let awareness = self.shared.lock();
        self.shared.text.get_string(&awareness.doc().transact())
    }

    /// Inserts `chunk` at UTF-16 offset `index`.
    pub fn insert(&self, index: u32, chunk: &str) -> Result<(), ClientError> {
        let awareness = self.shared.lock();
        let mut txn = awareness.doc().transact_mut();
        let len = self.shared.text.len(&txn);
        if index > len {
            return Err(ClientError::OutOfRange { index, len });
        }
        self.shared.text.insert(&mut txn, index, chunk);
        Ok(())
    }

    /// Appends `chunk` at the end of the text.
    pub fn push(&self, chunk: &str) {
        let awareness = self.shared.lock();
        self.shared
            .text
            .push(&mut awareness.doc().transact_mut(), chunk);
    }

    /// Removes `len` UTF-16 units starting at `index`.
    pub fn delete(&self, index: u32, len: u32) -> Result<(), ClientError> {
        let awareness = self.shared.lock();
        let mut txn = awareness.doc().transact_mut();
        let text_len = self.shared.text.len(&txn);
        if index.saturating_add(len) > text_len {
            return Err(ClientError::OutOfRange {
                index: index.saturating_add(len),
                len: text_len,
            });
        }
        self.shared.text.remove_range(&mut txn, index, len);
        Ok(())
    }

    /// Publishes this peer's awareness state (for example `{"name": ..., "color": ...}`).
    pub fn set_awareness(&self, state: &serde_json::Value) -> Result<(), ClientError> {
        let mut awareness = self.shared.lock();
        awareness.set_local_state_raw(state.to_string());
        let frame = own_awareness_frame(&awareness)
            .ok_or_else(|| ClientError::Awareness("no local state".into()))?;
        let _ = self.outgoing.send(Outgoing::Awareness(frame));
        Ok(())
    }

    /// Awareness states of the other peers in the room, by client id.
    pub fn peers(&self) -> BTreeMap<u64, serde_json::Value> {
        let awareness = self.shared.lock();
        let own = awareness.client_id();
        awareness
            .iter()
            .filter(|(id, _)| *id != own)
            .filter_map(|(id, state)| {
                let json = serde_json::from_str(state.data.as_deref()?).ok()?;
                Some((id.get(), json))
            })
            .collect()
    }

    /// True while a WebSocket connection to the hub is up.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// Updates sent live since the client started (offline edits are not counted: they travel
    /// inside the next sync handshake).
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Acquire)
    }

    /// Live updates whose echo came back from the hub, meaning they are committed to disk.
    pub fn acknowledged(&self) -> u64 {
        self.shared.acknowledged.load(Ordering::Acquire)
    }

    /// WebSocket messages received from the hub since the client started.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Acquire)
    }

    /// A receiver that changes whenever the text, the peers, the connection or the
    /// acknowledgement count may have changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.shared.version.subscribe()
    }

    /// Waits until `condition` holds or `timeout` passes; returns whether it held.
    pub async fn wait_until(&self, timeout: Duration, condition: impl Fn(&Self) -> bool) -> bool {
        let mut changes = self.changes();
        let wait = async {
            loop {
                if condition(self) {
                    return;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// Leaves the room: clears this peer's awareness, closes the socket and stops reconnecting.
    pub async fn close(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HubClient {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn own_awareness_frame(awareness: &Awareness) -> Option<Vec<u8>> {
    let update = awareness
        .update_with_clients([awareness.client_id()])
        .ok()?;
    Some(Message::Awareness(update).encode_v1())
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

enum SessionEnd {
    Stopped,
    Lost,
}

async fn run(
    config: HubClientConfig,
    shared: Arc<Shared>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    mut stopped: watch::Receiver<bool>,
) {
    let url = config.room_url();
    let mut backoff = RECONNECT_MIN;
    loop {
        let connect = tokio_tungstenite::connect_async(url.as_str());
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok((ws, _))) => {
                backoff = RECONNECT_MIN;
                info!(room = %config.room, "connected to hub");
                let end = session(ws, &shared, &mut outgoing, &mut stopped).await;
                forget_peers(&shared);
                if matches!(end, SessionEnd::Stopped) {
                    return;
                }
                info!(room = %config.room, "lost the hub; will reconnect");
            }
            Ok(Err(error)) => debug!(room = %config.room, %error, "connect failed"),
            Err(_) => debug!(room = %config.room, "connect timed out"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        backoff = (backoff * 2).min(RECONNECT_MAX);
    }
}

fn forget_peers(shared: &Shared) {
    shared.connected.store(false, Ordering::Release);
    let mut awareness = shared.lock();
    let own = awareness.client_id();
    let others: Vec<_> = awareness
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != own)
        .collect();
    for id in others {
        awareness.remove_state(id);
    }
    drop(awareness);
    shared.bump();
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn session(
    ws: Socket,
    shared: &Shared,
    outgoing: &mut mpsc::UnboundedReceiver<Outgoing>,
    stopped: &mut watch::Receiver<bool>,
) -> SessionEnd {
    let (mut sink, mut stream) = ws.split();

    // Everything queued while offline is already in the document; the handshake carries it.
    while outgoing.try_recv().is_ok() {}
    let greeting = {
        let awareness = shared.lock();
        let state_vector = awareness.doc().transact().state_vector();
        let mut frames = vec![wire::encode_sync_step1(state_vector)];
        frames.extend(own_awareness_frame(&awareness));
        frames
    };
    for frame in greeting {
        if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
            return SessionEnd::Lost;
        }
    }
    shared.connected.store(true, Ordering::Release);
    shared.bump();

    let mut pending: VecDeque<Vec<u8>> = VecDeque::new();
    let mut renew = tokio::time::interval(AWARENESS_RENEW);
    renew.tick().await;
    loop {
        let frame = tokio::select! {
            _ = stopped.changed() => {
                let goodbye = {
                    let mut awareness = shared.lock();
                    awareness.clean_local_state();
                    own_awareness_frame(&awareness)
                };
                if let Some(frame) = goodbye {
                    let _ = sink.send(WsMessage::Binary(frame.into())).await;
                }
                let _ = sink.close().await;
                return SessionEnd::Stopped;
            }
            _ = renew.tick() => {
                let frame = own_awareness_frame(&shared.lock());
                match frame {
                    Some(frame) => frame,
                    None => continue,
                }
            }
            next = outgoing.recv() => match next {
                Some(Outgoing::Update(update)) => {
                    let frame = wire::encode_update(&update);
                    pending.push_back(update);
                    shared.sent.fetch_add(1, Ordering::AcqRel);
                    frame
                }
                Some(Outgoing::Awareness(frame)) => frame,
                None => return SessionEnd::Stopped,
            },
            incoming = stream.next() => {
                match incoming {
                    Some(Ok(WsMessage::Binary(data))) => {
                        shared.received.fetch_add(1, Ordering::AcqRel);
                        if let Err(error) = receive(shared, &data, &mut pending, &mut sink).await {
                            debug!(%error, "dropping connection after bad frame from hub");
                            return SessionEnd::Lost;
                        }
                        shared.bump();
                        continue;
                    }
                    Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return SessionEnd::Lost,
                    Some(Ok(_)) => continue,
                }
            }
        };
        if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
            return SessionEnd::Lost;
        }
    }
}

async fn receive<S>(
    shared: &Shared,
    data: &[u8],
    pending: &mut VecDeque<Vec<u8>>,
    sink: &mut S,
) -> Result<(), String>
where
    S: futures_util::Sink<WsMessage> + Unpin,
{
    let messages = wire::decode_frame(data).map_err(|err| err.to_string())?;
    for message in messages {
        let reply = {
            let mut awareness = shared.lock();
            match message {
                Message::Sync(SyncMessage::SyncStep1(state_vector)) => {
                    let update = awareness
                        .doc()
                        .transact()
                        .encode_state_as_update_v1(&state_vector);
                    Some(wire::encode_sync_step2(update))
                }
                Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) => {
                    if pending.front() == Some(&update) {
                        pending.pop_front();
                        shared.acknowledged.fetch_add(1, Ordering::AcqRel);
                    } else {
                        let update = Update::decode_v1(&update).map_err(|err| err.to_string())?;
                        let mut txn = awareness.doc().transact_mut_with(REMOTE_ORIGIN);
                        txn.apply_update(update).map_err(|err| err.to_string())?;
                    }
                    None
                }
                Message::Awareness(update) => {
                    awareness
                        .apply_update(update)
                        .map_err(|err| err.to_string())?;
                    None
                }
                Message::AwarenessQuery => own_awareness_frame(&awareness),
                Message::Auth(_) | Message::Custom(..) => None,
            }
        };
        if let Some(frame) = reply
            && sink.send(WsMessage::Binary(frame.into())).await.is_err()
        {
            return Err("send failed".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_url_encodes_the_token() {
        let mut config = HubClientConfig::new("ws://127.0.0.1:1/", "notes");
        assert_eq!(config.room_url(), "ws://127.0.0.1:1/notes");
        config.token = Some("a b&c".into());
        assert_eq!(config.room_url(), "ws://127.0.0.1:1/notes?token=a%20b%26c");
    }
}
