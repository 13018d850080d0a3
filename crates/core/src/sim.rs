//! A stand-in for Mossy's bridge: serves WebSocket `/bridge` on loopback and plays scripted
//! sessions, for demos, integration tests and benchmarks.
//!
//! Every client that connects gets its own playback from the first step, so a client that
//! reconnects sees the scenario again, as it would after a Mossy restart. Two kinds of
//! playback exist: a [`Scenario`] file (its doc gives the format), played
//! once or looped, and a flood of `tool_detected` messages at a fixed rate, each stamped with
//! its send time so a receiver can measure latency. When a playback is over the connection
//! stays open and quiet until the client leaves.
//!
//! The simulator also listens. A `generate_preview` from the client is answered the way
//! Mossy would, beside whatever the playback is sending: progress messages, then real PNG
//! files written to [`PreviewConfig::dir`] and `generation_complete` with their paths (see
//! [`previews`]). Anything else the client says is logged; a frame that is not a client
//! message is logged and ignored.
//!
//! The server binds loopback only unless told otherwise ([`SimConfig::allow_remote`]): it is
//! a test tool and has no business being reachable from the network.

pub mod previews;
mod scenario;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mossy_protocol::bridge::{BridgeMessage, ClientMessage};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::{Instrument, info, info_span, warn};

pub use previews::PreviewConfig;
pub use scenario::{Action, Scenario, ScenarioError, Step};

use crate::clock;

/// The path the bridge is served on, as Mossy serves it.
pub const BRIDGE_PATH: &str = "/bridge";

/// Where the simulator listens unless told otherwise: Mossy's own bridge address.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 54321));

/// Pause between two rounds of a looped scenario.
///
/// Keeps a scenario without delays from turning `--loop` into a flood (that is what
/// [`Playback::Flood`] is for) and gives a demo viewer a beat between rounds.
pub const LOOP_REST: Duration = Duration::from_millis(500);

/// How often a flood sends the messages it owes.
///
/// A hundred wake-ups a second keeps the rate smooth to a hundredth of a second while
/// batching enough messages per write to reach hundreds of thousands a second.
pub const FLOOD_TICK: Duration = Duration::from_millis(10);

/// Wait after a failed `accept`, which happens when the process is out of file handles;
/// retrying at once would only spin.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long a played-out session sleeps between checks that its client is still there.
const IDLE_WAIT: Duration = Duration::from_secs(3600);

/// A text frame header announcing 1,000 payload bytes, then only the first 8 of them: what
/// `die_mid_frame` writes before it drops the TCP connection.
const TRUNCATED_FRAME: [u8; 12] = [
    0x81, 0x7E, 0x03, 0xE8, b'{', b'"', b't', b'y', b'p', b'e', b'"', b':',
];

/// What each client is sent.
#[derive(Debug, Clone)]
pub enum Playback {
    /// The steps of a scenario file.
    Scenario {
        /// The steps.
        scenario: Arc<Scenario>,
        /// Start again after the last step, forever.
        looping: bool,
    },
    /// `tool_detected` and `tool_exited` messages for successive pids, `at` set to their send time, for benchmarks.
    Flood {
        /// Messages per second.
        per_second: u32,
        /// How long to keep sending.
        duration: Duration,
    },
}

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Allow a non-loopback `listen` address.
    pub allow_remote: bool,
    /// What each client is sent.
    pub playback: Playback,
    /// Where and how `generate_preview` requests are answered.
    pub previews: PreviewConfig,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The address is not loopback and remote access was not allowed.
    #[error("{addr} is not a loopback address; pass --allow-remote to listen on it anyway")]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// A running simulator. Dropping it stops the server and every session.
#[derive(Debug)]
pub struct SimServer {
    local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SimServer {
    /// The address it listens on, with the real port when port 0 was asked for.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bridge URL a client connects to, such as `ws://127.0.0.1:54321/bridge`.
    pub fn url(&self) -> String {
        format!("ws://{}{BRIDGE_PATH}", self.local_addr)
    }

    /// Stops the server and every session, and waits until the port is free again.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds the listener and starts serving in a background task.
///
/// # Panics
///
/// When called outside a tokio runtime, as it spawns a task.
pub async fn serve(config: SimConfig) -> Result<SimServer, SimError> {
    let addr = config.listen;
    if !config.allow_remote && !addr.ip().is_loopback() {
        return Err(SimError::NotLoopback { addr });
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| SimError::Bind { addr, source })?;

    let span = info_span!("sim", addr = %local_addr);
    let shared = Arc::new(Shared {
        playback: config.playback,
        previews: config.previews,
    });
    let task = tokio::spawn(accept_clients(listener, shared).instrument(span));
    Ok(SimServer { local_addr, task })
}

/// What every session reads.
#[derive(Debug)]
struct Shared {
    playback: Playback,
    previews: PreviewConfig,
}

async fn accept_clients(listener: TcpListener, shared: Arc<Shared>) {
    // Sessions live in the set, so stopping the server (dropping this future) ends them all.
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let span = info_span!("sim::session", peer = %peer);
                    sessions.spawn(run_session(stream, Arc::clone(&shared)).instrument(span));
                }
                Err(err) => {
                    warn!(error = %err, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = sessions.join_next() => {}
        }
    }
}

type ServerSocket = WebSocketStream<TcpStream>;

/// Frames that preview generations may queue for the session to send.
const REPLY_QUEUE: usize = 64;

/// One client's connection: the socket, and the generations answering its requests.
struct Session {
    socket: ServerSocket,
    shared: Arc<Shared>,
    /// Frames from generation tasks, sent by the session between its own steps.
    replies: mpsc::Receiver<String>,
    reply_to: mpsc::Sender<String>,
    /// Dropped with the session, which stops every generation still running.
    generations: JoinSet<()>,
}

/// Whether a session goes on after a step.
enum Flow {
    Continue,
    End,
}

async fn run_session(stream: TcpStream, shared: Arc<Shared>) {
    // Latency benchmarks measure the app, not Nagle's algorithm.
    if let Err(err) = stream.set_nodelay(true) {
        warn!(error = %err, "could not turn off Nagle's algorithm");
    }
    let socket = match tokio_tungstenite::accept_hdr_async(stream, only_bridge_path).await {
        Ok(socket) => socket,
        Err(err) => {
            info!(error = %err, "handshake refused");
            return;
        }
    };
    info!("client connected");

    let (reply_to, replies) = mpsc::channel(REPLY_QUEUE);
    let mut session = Session {
        socket,
        shared: Arc::clone(&shared),
        replies,
        reply_to,
        generations: JoinSet::new(),
    };
    let played = match &shared.playback {
        Playback::Scenario { scenario, looping } => {
            play_scenario(&mut session, scenario, *looping).await
        }
        Playback::Flood {
            per_second,
            duration,
        } => play_flood(&mut session, *per_second, *duration).await,
    };
    match played {
        Ok(()) => info!("client session ended"),
        Err(err) => info!(error = %err, "client session failed"),
    }
}

/// The handshake callback: only [`BRIDGE_PATH`] is served; anything else is a 404.
#[expect(
    clippy::result_large_err,
    reason = "tungstenite's handshake callback fixes the type"
)]
fn only_bridge_path(request: &Request, response: Response) -> Result<Response, ErrorResponse> {
    if request.uri().path() == BRIDGE_PATH {
        return Ok(response);
    }
    let mut refusal = ErrorResponse::new(Some(format!("only {BRIDGE_PATH} is served")));
    *refusal.status_mut() = StatusCode::NOT_FOUND;
    Err(refusal)
}

async fn play_scenario(
    session: &mut Session,
    scenario: &Scenario,
    looping: bool,
) -> Result<(), tungstenite::Error> {
    loop {
        for step in scenario.steps() {
            if !pause(session, step.delay).await? {
                return Ok(());
            }
            if let Flow::End = perform(&mut session.socket, &step.action).await? {
                return Ok(());
            }
        }
        if !looping {
            break;
        }
        if !pause(session, LOOP_REST).await? {
            return Ok(());
        }
    }
    while pause(session, IDLE_WAIT).await? {}
    Ok(())
}

async fn play_flood(
    session: &mut Session,
    per_second: u32,
    duration: Duration,
) -> Result<(), tungstenite::Error> {
    let started = Instant::now();
    let mut sent: u64 = 0;
    loop {
        let elapsed = started.elapsed().min(duration);
        let due = u128::from(per_second) * elapsed.as_millis() / 1000;
        let due = u64::try_from(due).unwrap_or(u64::MAX);
        for n in sent..due {
            // Alternate a start and an exit of one pid, then the next pid: every message
            // changes the tool monitor and so reaches the feed, and no state piles up.
            let kind = if n % 2 == 0 {
                "tool_detected"
            } else {
                "tool_exited"
            };
            let pid = FLOOD_FIRST_PID.wrapping_add(u32::try_from(n / 2).unwrap_or(u32::MAX));
            let frame = format!(
                r#"{{"type":"{kind}","tool":"Blender","pid":{pid},"at":{}}}"#,
                clock::now_ms()
            );
            session.socket.feed(Message::text(frame)).await?;
        }
        session.socket.flush().await?;
        sent = sent.max(due);

        if elapsed >= duration {
            break;
        }
        if !pause(session, FLOOD_TICK).await? {
            return Ok(());
        }
    }
    info!(sent, "flood finished");
    while pause(session, IDLE_WAIT).await? {}
    Ok(())
}

/// First pid a flood reports; far above real pids on a desktop so nobody mistakes them.
const FLOOD_FIRST_PID: u32 = 1_000_000;

/// Carries out one action.
async fn perform(socket: &mut ServerSocket, action: &Action) -> Result<Flow, tungstenite::Error> {
    match action {
        Action::Send {
            message,
            pad_to_bytes,
        } => {
            let text = scenario::render(message, *pad_to_bytes, clock::now_ms());
            socket.send(Message::text(text)).await?;
        }
        Action::Raw(text) => socket.send(Message::text(text.as_str())).await?,
        Action::Binary(bytes) => socket.send(Message::binary(bytes.clone())).await?,
        Action::Close => {
            socket.close(None).await?;
            return Ok(Flow::End);
        }
        Action::DieMidFrame => {
            socket.flush().await?;
            let tcp = socket.get_mut();
            tcp.write_all(&TRUNCATED_FRAME).await?;
            tcp.flush().await?;
            info!("dropping the connection mid-frame");
            return Ok(Flow::End);
        }
    }
    Ok(Flow::Continue)
}

/// Waits `delay` while reading what the client says and sending what generations have
/// ready; `false` when the client has left.
async fn pause(session: &mut Session, delay: Duration) -> Result<bool, tungstenite::Error> {
    let deadline = tokio::time::sleep(delay);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => return Ok(true),
            incoming = session.socket.next() => match incoming {
                None | Some(Ok(Message::Close(_))) => return Ok(false),
                Some(Err(err)) => return Err(err),
                Some(Ok(Message::Text(text))) => answer(session, text.as_str()),
                Some(Ok(_)) => {}
            },
            Some(reply) = session.replies.recv() => {
                session.socket.send(Message::text(reply)).await?;
            }
            Some(_) = session.generations.join_next() => {}
        }
    }
}

/// Handles one text frame from the client: a `generate_preview` starts a generation,
/// anything else is logged.
fn answer(session: &mut Session, text: &str) {
    match serde_json::from_str::<ClientMessage>(text) {
        Ok(ClientMessage::GeneratePreview {
            request_id,
            asset,
            prompt,
        }) => {
            info!(request_id, asset, "generating previews");
            let config = session.shared.previews.clone();
            let reply_to = session.reply_to.clone();
            session
                .generations
                .spawn(generate(config, request_id, asset, prompt, reply_to));
        }
        Ok(message) => info!(?message, "client said"),
        Err(err) => warn!(error = %err, text, "client frame ignored"),
    }
}

/// One generation: progress, then the images, then `generation_complete`.
async fn generate(
    config: PreviewConfig,
    request_id: String,
    asset: String,
    prompt: String,
    reply_to: mpsc::Sender<String>,
) {
    if !previews::valid_request_id(&request_id) {
        warn!(request_id, "generate_preview ignored: unusable request id");
        return;
    }
    for message in previews::progress_messages(&request_id) {
        tokio::time::sleep(previews::GENERATION_STEP_DELAY).await;
        if !queue_reply(&reply_to, &message).await {
            return;
        }
    }
    let id = request_id.clone();
    let written = tokio::task::spawn_blocking(move || {
        previews::write_previews(&config, &id, std::path::Path::new(&asset), &prompt)
    })
    .await;
    let paths = match written {
        Ok(Ok(paths)) => paths,
        Ok(Err(err)) => {
            warn!(request_id, error = %err, "previews not written");
            Vec::new()
        }
        Err(err) => {
            warn!(request_id, error = %err, "preview writer stopped");
            Vec::new()
        }
    };
    let complete = BridgeMessage::GenerationComplete {
        request_id,
        paths: paths
            .iter()
            .map(|path| path.to_string_lossy().into_owned())
            .collect(),
    };
    queue_reply(&reply_to, &complete).await;
}

/// Queues a message for the session to send; false when the session has ended.
async fn queue_reply(reply_to: &mpsc::Sender<String>, message: &BridgeMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => reply_to.send(text).await.is_ok(),
        Err(err) => {
            warn!(error = %err, "reply not encoded");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_a_non_loopback_address_unless_allowed() {
        let scenario = Arc::new(Scenario::parse(r#"{"close":true}"#).expect("parses"));
        let addr: SocketAddr = "0.0.0.0:0".parse().expect("address");
        let config = SimConfig {
            listen: addr,
            allow_remote: false,
            playback: Playback::Scenario {
                scenario,
                looping: false,
            },
            previews: PreviewConfig::default(),
        };

        match serve(config).await {
            Err(SimError::NotLoopback { addr: refused }) => assert_eq!(refused, addr),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn reports_the_port_it_picked() {
        let scenario = Arc::new(Scenario::parse(r#"{"close":true}"#).expect("parses"));
        let config = SimConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            allow_remote: false,
            playback: Playback::Scenario {
                scenario,
                looping: false,
            },
            previews: PreviewConfig::default(),
        };

        let server = serve(config).await.expect("serves");

        assert_ne!(server.local_addr().port(), 0);
        assert_eq!(
            server.url(),
            format!("ws://127.0.0.1:{}/bridge", server.local_addr().port())
        );
        server.stop().await;
    }
}
