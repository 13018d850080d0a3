//! The WebSocket front of the hub: listener, handshake checks and one task per connection.
//!
//! The handshake is where a client is refused: a missing or wrong token gets HTTP 401, a bad
//! room name HTTP 400. After it, the connection task reads frames, decodes them with
//! [`wire::decode_frame`], rate-limits awareness and hands the messages to its room. A client
//! that sends something it should not (a malformed or truncated frame, a text frame, an
//! oversized message, an awareness flood) is dropped with one `warn` line; nothing it sent in
//! that frame reaches the room, so other peers and the stored document are untouched.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message as WsMessage};
use tracing::{debug, info, warn};
use yrs::sync::Message;

use crate::config::{HubLimits, parse_target, token_matches, validate_room_name};
use crate::room::{self, ConnId, Registry, RoomCommand};
use crate::{HubConfig, HubError, Store, wire};

/// Time a client gets to finish the WebSocket handshake before the socket is closed, so idle
/// half-open sockets cannot hold tasks.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Frames queued for one peer before it counts as too slow and is dropped. At 20 keystrokes a
/// second from ten peers this is several seconds of backlog.
pub const PEER_QUEUE: usize = 2048;

/// How long [`HubHandle::shutdown`] waits for connection tasks to close their sockets.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Entry point: starts a hub.
#[derive(Debug)]
pub struct Hub;

/// A running hub. Dropping it leaves the hub running until the runtime stops; call
/// [`shutdown`](Self::shutdown) to stop it cleanly.
#[derive(Debug)]
pub struct HubHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Hub {
    /// Opens the store, binds the listener and starts accepting peers.
    pub async fn start(config: HubConfig) -> Result<HubHandle, HubError> {
        if !config.bind.ip().is_loopback() && config.token.is_none() {
            return Err(HubError::UnprotectedBind(config.bind));
        }
        let data_dir = config.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&data_dir))
            .await
            .map_err(|err| crate::StoreError::Task(err.to_string()))??;
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| HubError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| HubError::Bind {
            addr: config.bind,
            source,
        })?;
        let (data_dir, token) = (config.data_dir.display(), config.token.is_some());
        info!(%addr, data_dir = %data_dir, token, "hub listening");

        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(Shared {
            store: Arc::new(store),
            registry: Registry::default(),
            token: config.token,
            limits: config.limits,
            next_conn: AtomicU64::new(1),
        });
        let task = tokio::spawn(accept_loop(listener, shared, stopped));
        Ok(HubHandle { addr, stop, task })
    }
}

impl HubHandle {
    /// The address the hub is listening on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes every connection and waits for the tasks to end. Every
    /// acknowledged update is already committed, so nothing needs flushing.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        info!(addr = %self.addr, "hub stopped");
    }
}

struct Shared {
    store: Arc<Store>,
    registry: Registry,
    token: Option<String>,
    limits: HubLimits,
    next_conn: AtomicU64,
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let conn = ConnId(shared.next_conn.fetch_add(1, Ordering::Relaxed));
                    connections.spawn(serve(stream, peer, conn, shared.clone(), stopped.clone()));
                }
                Err(error) => warn!(%error, "accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        connections.abort_all();
    }
    shared.registry.lock().await.clear();
}

fn refuse(status: StatusCode, reason: &str) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(reason.to_owned()));
    *response.status_mut() = status;
    response
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    conn: ConnId,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut room_name = String::new();
    #[expect(
        clippy::result_large_err,
        reason = "tungstenite fixes the callback's error type to a whole HTTP response"
    )]
    let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let (room, token) = parse_target(target);
        if let Some(expected) = &shared.token
            && !token_matches(expected, token.as_deref())
        {
            return Err(refuse(StatusCode::UNAUTHORIZED, "missing or wrong token"));
        }
        if !validate_room_name(room) {
            return Err(refuse(StatusCode::BAD_REQUEST, "invalid room name"));
        }
        room_name = room.to_owned();
        Ok(response)
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(shared.limits.max_message_bytes))
        .max_frame_size(Some(shared.limits.max_message_bytes));
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(ws_config));
    let ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(error)) => {
            info!(%peer, %error, "handshake refused or failed");
            return;
        }
        Err(_) => {
            info!(%peer, "handshake timed out");
            return;
        }
    };
    info!(%peer, conn = conn.0, room = %room_name, "peer connected");

    let (mut sink, mut stream) = ws.split();
    let (outbox, mut inbox) = mpsc::channel::<Bytes>(PEER_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(frame) = inbox.recv().await {
            if sink.send(WsMessage::Binary(frame)).await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let join = RoomCommand::Join { conn, outbox };
    room::send(&shared.registry, &shared.store, &room_name, join).await;
    let mut limiter = RateLimiter::new(
        shared.limits.awareness_per_second,
        shared.limits.awareness_burst,
    );

    loop {
        let frame = tokio::select! {
            _ = stopped.changed() => break,
            frame = stream.next() => frame,
        };
        let data = match frame {
            None | Some(Ok(WsMessage::Close(_))) => break,
            Some(Ok(WsMessage::Binary(data))) => data,
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
            Some(Ok(WsMessage::Text(_))) => {
                warn!(%peer, conn = conn.0, room = %room_name, "text frame; dropping client");
                break;
            }
            Some(Err(error)) => {
                if is_misbehaviour(&error) {
                    let room = &room_name;
                    warn!(%peer, conn = conn.0, %room, %error, "bad frame; dropping client");
                } else {
                    debug!(%peer, conn = conn.0, %error, "connection lost");
                }
                break;
            }
        };
        let messages = match wire::decode_frame(&data) {
            Ok(messages) => messages,
            Err(error) => {
                let (room, conn, bytes) = (&room_name, conn.0, data.len());
                warn!(%peer, conn, %room, %error, bytes, "malformed frame; dropping client");
                break;
            }
        };
        let awareness = messages
            .iter()
            .filter(|m| matches!(m, Message::Awareness(_)))
            .count();
        if awareness > 0 && !limiter.allow(awareness as u32) {
            warn!(%peer, conn = conn.0, room = %room_name, "awareness flood; dropping client");
            break;
        }
        let command = RoomCommand::Messages { conn, messages };
        room::send(&shared.registry, &shared.store, &room_name, command).await;
    }

    room::send(
        &shared.registry,
        &shared.store,
        &room_name,
        RoomCommand::Leave { conn },
    )
    .await;
    writer.abort();
    info!(%peer, conn = conn.0, room = %room_name, "peer disconnected");
}

/// Errors that mean the client broke the protocol, as opposed to the network going away.
fn is_misbehaviour(error: &tokio_tungstenite::tungstenite::Error) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    matches!(
        error,
        Error::Capacity(_) | Error::Protocol(_) | Error::Utf8(_)
    )
}

/// Token bucket for awareness messages of one connection.
struct RateLimiter {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    fn new(per_second: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            per_second: f64::from(per_second),
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    fn allow(&mut self, cost: u32) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        self.tokens -= f64::from(cost);
        self.tokens >= 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_the_burst_then_refuses() {
        let mut limiter = RateLimiter::new(1, 5);
        assert!((0..5).all(|_| limiter.allow(1)));
        assert!(!limiter.allow(1));
    }
}
