//! The client task: connect, read until the connection ends, wait, and again.
//!
//! One task owns the socket, so reading, writing and closing never race. It stops when the
//! [`super::BridgeHandle`] is dropped (its stop sender closes), at whatever step it is in.

use futures_util::{SinkExt, StreamExt};
use mossy_protocol::bridge::ClientMessage;
use mossy_protocol::ipc::{BridgeStatus, BridgeUpdate};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::{Instrument, debug, info, info_span, warn};

use super::inbox::Inbox;
use super::{APP_NAME, BridgeConfig, CONNECT_TIMEOUT, SOCKET_MAX_MESSAGE_BYTES};
use crate::bus::{Bus, BusEvent};
use crate::clock;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A session that lasted this long resets the backoff. Mossy's bridge, once up, stays up for
/// minutes; a server that drops every connection within a second or two is failing.
const STABLE_SESSION: std::time::Duration = std::time::Duration::from_secs(3);

/// How a connected session ended.
enum SessionEnd {
    /// The handle asked the client to stop.
    Stopped,
    /// The connection was lost; the reason is for the badge.
    Lost(String),
}

/// Everything the task keeps between connections.
pub(super) struct Client {
    config: BridgeConfig,
    bus: Bus,
    publisher: watch::Sender<BridgeUpdate>,
    inbox: Inbox,
}

impl Client {
    pub(super) fn new(
        config: BridgeConfig,
        bus: Bus,
        publisher: watch::Sender<BridgeUpdate>,
    ) -> Self {
        let inbox = Inbox::new(bus.clone());
        Self {
            config,
            bus,
            publisher,
            inbox,
        }
    }

    fn set_status(&self, status: BridgeStatus) {
        self.publisher
            .send_modify(|update| update.status = status.clone());
        self.bus.publish(BusEvent::BridgeStatusChanged(status));
    }

    fn publish_counters(&self) {
        let counters = self.inbox.counters();
        self.publisher.send_if_modified(|update| {
            let changed = update.counters != counters;
            update.counters = counters;
            changed
        });
    }
}

/// The task's body: runs until the stop sender is dropped.
pub(super) async fn run(
    mut client: Client,
    mut queued: mpsc::Receiver<ClientMessage>,
    mut stop: watch::Receiver<()>,
) {
    let url = client.config.url.clone();
    let mut failures: u32 = 0;
    loop {
        client.set_status(BridgeStatus::Connecting { url: url.clone() });
        let span = info_span!("bridge::connect", attempt = failures + 1);
        let attempt = tokio::select! {
            attempt = connect(&url).instrument(span) => attempt,
            _ = stop.changed() => return,
        };

        let reason = match attempt {
            Ok(socket) => {
                client.set_status(BridgeStatus::Connected { url: url.clone() });
                info!("bridge connected");
                let connected_at = tokio::time::Instant::now();
                let session = session(&mut client, socket, &mut queued, &mut stop);
                match session.instrument(info_span!("bridge::session")).await {
                    SessionEnd::Stopped => return,
                    SessionEnd::Lost(reason) => {
                        // Only a connection that held counts as a success; a server that
                        // accepts and drops at once must still see the waits grow.
                        if connected_at.elapsed() >= STABLE_SESSION {
                            failures = 0;
                        }
                        info!(reason = %reason, "bridge connection lost");
                        reason
                    }
                }
            }
            Err(reason) => {
                // Mossy not running is the normal case; say so once per outage.
                if failures == 0 {
                    info!(reason = %reason, "bridge not reachable");
                } else {
                    debug!(reason = %reason, attempt = failures + 1, "bridge still not reachable");
                }
                reason
            }
        };

        failures = failures.saturating_add(1);
        let delay = client.config.retry.delay(failures);
        let retry_at_ms =
            clock::now_ms().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
        client.set_status(BridgeStatus::Retrying {
            url: url.clone(),
            retry_at_ms,
            attempt: failures,
            reason,
        });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Opens the socket, bounded by [`CONNECT_TIMEOUT`]; the error is a reason in words.
async fn connect(url: &str) -> Result<Socket, String> {
    let limits = WebSocketConfig::default()
        .max_message_size(Some(SOCKET_MAX_MESSAGE_BYTES))
        .max_frame_size(Some(SOCKET_MAX_MESSAGE_BYTES));
    let handshake = tokio_tungstenite::connect_async_with_config(url, Some(limits), true);
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(err)) => Err(describe(&err)),
        Err(_) => Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())),
    }
}

/// Says hello, then reads frames and writes queued messages until the connection ends.
async fn session(
    client: &mut Client,
    mut socket: Socket,
    queued: &mut mpsc::Receiver<ClientMessage>,
    stop: &mut watch::Receiver<()>,
) -> SessionEnd {
    // A message queued while the last connection was dying belongs to that connection.
    while let Ok(stale) = queued.try_recv() {
        warn!(message = ?stale, "dropped a message queued before the reconnect");
    }

    let hello = ClientMessage::Hello {
        app: APP_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    if let Err(reason) = write(&mut socket, &hello).await {
        return SessionEnd::Lost(reason);
    }

    loop {
        tokio::select! {
            _ = stop.changed() => {
                let close = tokio::time::timeout(super::SHUTDOWN_TIMEOUT, socket.close(None));
                if let Ok(Err(err)) = close.await {
                    debug!(error = %err, "bridge close was not clean");
                }
                info!("bridge client stopped");
                return SessionEnd::Stopped;
            }
            Some(message) = queued.recv() => {
                if let Err(reason) = write(&mut socket, &message).await {
                    return SessionEnd::Lost(reason);
                }
            }
            incoming = socket.next() => {
                if let Some(end) = receive(client, incoming) {
                    return end;
                }
            }
        }
    }
}

/// Handles one read from the socket; returns how the session ended, if it did.
fn receive(
    client: &mut Client,
    incoming: Option<Result<Message, tungstenite::Error>>,
) -> Option<SessionEnd> {
    match incoming {
        Some(Ok(Message::Text(text))) => {
            client.inbox.accept_text(text.as_str());
            client.publish_counters();
        }
        Some(Ok(Message::Binary(bytes))) => {
            client.inbox.accept_binary(bytes.len());
            client.publish_counters();
        }
        // tungstenite answers pings itself; pongs and raw frames carry nothing for us.
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
        Some(Ok(Message::Close(frame))) => {
            let reason = match frame {
                Some(frame) if !frame.reason.is_empty() => {
                    format!(
                        "closed by mossy: {} {}",
                        u16::from(frame.code),
                        frame.reason
                    )
                }
                Some(frame) => format!("closed by mossy: {}", u16::from(frame.code)),
                None => "closed by mossy".to_owned(),
            };
            return Some(SessionEnd::Lost(reason));
        }
        Some(Err(err)) => return Some(SessionEnd::Lost(describe(&err))),
        None => return Some(SessionEnd::Lost("connection ended".to_owned())),
    }
    None
}

/// Serialises and sends one message.
async fn write(socket: &mut Socket, message: &ClientMessage) -> Result<(), String> {
    let text = serde_json::to_string(message).map_err(|err| err.to_string())?;
    socket
        .send(Message::text(text))
        .await
        .map_err(|err| describe(&err))
}

/// A socket error in words for the badge, lowercase like the rest of the app's reasons.
fn describe(err: &tungstenite::Error) -> String {
    match err {
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_owned()
        }
        tungstenite::Error::Io(io) => io.to_string(),
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => "connection dropped without a close".to_owned(),
        tungstenite::Error::Capacity(tungstenite::error::CapacityError::MessageTooLong {
            size,
            max_size,
        }) => format!("frame over the socket cap: {size} bytes, cap {max_size}"),
        tungstenite::Error::Http(response) => {
            format!(
                "not a bridge: http {} on upgrade",
                response.status().as_u16()
            )
        }
        other => other.to_string(),
    }
}
