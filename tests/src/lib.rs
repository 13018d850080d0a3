//! Shared helpers for the integration tests.
//!
//! Every wait here is bounded by [`TEST_TIMEOUT`] and panics with what it was waiting for,
//! so a broken test fails with a sentence instead of hanging the run.

pub mod e2e;
pub mod procfs;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mossy_core::bridge::{BridgeConfig, RetryPolicy};
use mossy_core::bus::BusEvent;
use mossy_core::sim::{self, Playback, PreviewConfig, Scenario, SimConfig, SimServer};
use mossy_protocol::bridge::{BridgeMessage, Percent};
use mossy_protocol::ipc::{BridgeStatus, BridgeUpdate};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

/// Environment variable naming the fake compiler when it is not beside the test binary.
pub const FAKE_COMPILER_ENV: &str = "MOSSY_FAKE_COMPILER_BIN";

/// The `mossy-fake-compiler` binary (built by `cargo test --workspace` beside the test
/// binaries, or named by [`FAKE_COMPILER_ENV`]); panics when it is missing.
pub fn fake_compiler() -> String {
    workspace_binary("mossy-fake-compiler", FAKE_COMPILER_ENV)
        .to_string_lossy()
        .into_owned()
}

/// A binary of this workspace: the path in `env` when set, else the one cargo built into
/// the same target folder as the running test. Panics when it is missing, so a test that
/// needs it fails instead of quietly skipping.
fn workspace_binary(name: &str, env: &str) -> PathBuf {
    let path = match std::env::var_os(env) {
        Some(path) => PathBuf::from(path),
        None => {
            // Test binaries live in target/<profile>/deps/; binaries one folder up.
            let exe = std::env::current_exe().expect("the test binary's path");
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target folder");
            profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
        }
    };
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p {name}` first, or set {env}",
        path.display()
    );
    path
}

/// A compiler transcript in `tests/fixtures/logs/`.
pub fn log_fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/logs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Longest any single wait in a test may take.
///
/// The real waits are milliseconds on loopback; 10 s only matters on a machine so loaded
/// that a failure there says more about the machine than about the code.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Retry waits for tests: short enough that a test sees several attempts in well under a
/// second, long enough that the doubling is visible.
pub const FAST_RETRY: RetryPolicy = RetryPolicy {
    first: Duration::from_millis(50),
    max: Duration::from_millis(200),
};

/// Loopback with a port the OS picks.
pub const LOOPBACK_ANY_PORT: &str = "127.0.0.1:0";

/// Environment variable naming the `mossy-bridge-sim` binary, when it is not in the target
/// folder beside the test binary.
pub const SIM_BIN_ENV: &str = "MOSSY_BRIDGE_SIM_BIN";

/// Runs `future`, panicking with `what` if it takes longer than [`TEST_TIMEOUT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_TIMEOUT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {TEST_TIMEOUT:?} waiting for {what}"),
    }
}

/// A file in `tests/fixtures/bridge/`.
pub fn bridge_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bridge")
        .join(name)
}

/// A scenario from `tests/fixtures/bridge/`.
pub fn load_scenario(name: &str) -> Arc<Scenario> {
    let path = bridge_fixture(name);
    match Scenario::load(&path) {
        Ok(scenario) => Arc::new(scenario),
        Err(err) => panic!("{}: {err}", path.display()),
    }
}

/// Starts the in-process simulator on `listen`, playing a fixture scenario once.
pub async fn start_sim(scenario: &str, listen: &str) -> SimServer {
    let playback = Playback::Scenario {
        scenario: load_scenario(scenario),
        looping: false,
    };
    start_playback(playback, listen).await
}

/// Starts the in-process simulator on `listen` with any playback.
pub async fn start_playback(playback: Playback, listen: &str) -> SimServer {
    let listen: SocketAddr = listen.parse().expect("a socket address");
    let config = SimConfig {
        listen,
        allow_remote: false,
        playback,
        previews: PreviewConfig::default(),
    };
    sim::serve(config).await.expect("the simulator starts")
}

/// A client configuration for `url` with [`FAST_RETRY`].
pub fn client_config(url: &str) -> BridgeConfig {
    BridgeConfig {
        url: url.to_owned(),
        enabled: true,
        retry: FAST_RETRY,
    }
}

/// A loopback address that nothing listens on (bound, then released).
pub async fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind(LOOPBACK_ANY_PORT)
        .await
        .expect("bind loopback");
    listener.local_addr().expect("local address")
}

/// Waits for the next bus event that `pick` accepts, skipping the rest.
pub async fn next_event<T>(
    events: &mut broadcast::Receiver<BusEvent>,
    what: &str,
    mut pick: impl FnMut(BusEvent) -> Option<T>,
) -> T {
    within(what, async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                Err(err) => panic!("bus failed while waiting for {what}: {err}"),
            }
        }
    })
    .await
}

/// Waits for the next bridge message on the bus, with its receive time.
pub async fn next_message(events: &mut broadcast::Receiver<BusEvent>) -> (BridgeMessage, i64) {
    next_event(events, "a bridge message", |event| match event {
        BusEvent::BridgeMessageReceived {
            message,
            received_at_ms,
        } => Some((message, received_at_ms)),
        _ => None,
    })
    .await
}

/// Waits until the bridge update satisfies `done`, and returns it.
pub async fn wait_for_update(
    updates: &mut watch::Receiver<BridgeUpdate>,
    what: &str,
    mut done: impl FnMut(&BridgeUpdate) -> bool,
) -> BridgeUpdate {
    within(what, async {
        match updates.wait_for(|update| done(update)).await {
            Ok(update) => update.clone(),
            Err(_) => panic!("bridge client ended while waiting for {what}"),
        }
    })
    .await
}

/// Waits until the client is connected.
pub async fn wait_connected(updates: &mut watch::Receiver<BridgeUpdate>) -> BridgeUpdate {
    wait_for_update(updates, "a connection", |update| {
        matches!(update.status, BridgeStatus::Connected { .. })
    })
    .await
}

/// Waits until the client is waiting to retry.
pub async fn wait_retrying(updates: &mut watch::Receiver<BridgeUpdate>) -> BridgeUpdate {
    wait_for_update(updates, "a retry", |update| {
        matches!(update.status, BridgeStatus::Retrying { .. })
    })
    .await
}

/// A bare tokio-tungstenite server on loopback, for what the simulator cannot do.
#[derive(Debug)]
pub struct RawBridge {
    listener: TcpListener,
}

impl RawBridge {
    /// Listens on a free loopback port.
    pub async fn bind() -> Self {
        let listener = TcpListener::bind(LOOPBACK_ANY_PORT)
            .await
            .expect("bind loopback");
        Self { listener }
    }

    /// The URL a client connects to.
    pub fn url(&self) -> String {
        let addr = self.listener.local_addr().expect("local address");
        format!("ws://{addr}/bridge")
    }

    /// Accepts the next client and completes its handshake.
    pub async fn accept(&self) -> WebSocketStream<TcpStream> {
        within("a client to connect", async {
            let (stream, _) = self.listener.accept().await.expect("accept");
            tokio_tungstenite::accept_async(stream)
                .await
                .expect("handshake")
        })
        .await
    }

    /// Accepts a client, if one comes within `wait`.
    pub async fn try_accept(&self, wait: Duration) -> Option<TcpStream> {
        let accepted = tokio::time::timeout(wait, self.listener.accept())
            .await
            .ok()?;
        accepted.ok().map(|(stream, _)| stream)
    }
}

/// Reads the next message a client sent.
pub async fn next_from_client(socket: &mut WebSocketStream<TcpStream>) -> Option<Message> {
    within("a message from the client", socket.next())
        .await
        .map(|read| read.expect("read"))
}

/// The `mossy-bridge-sim` binary: [`SIM_BIN_ENV`] when set, else the one `cargo build -p
/// mossy-bridge-sim` put in the same target folder as this test. Panics when it is missing,
/// so a test that needs it fails instead of quietly skipping.
pub fn sim_binary() -> PathBuf {
    workspace_binary("mossy-bridge-sim", SIM_BIN_ENV)
}

/// `{"type":"tool_detected","tool":"Blender"}`, one of the two messages Mossy sends today.
pub fn bare_tool_detected() -> BridgeMessage {
    BridgeMessage::ToolDetected {
        tool: "Blender".into(),
        pid: None,
        at: None,
    }
}

/// `{"type":"build_progress","percent":42}`, the other message Mossy sends today.
pub fn bare_build_progress() -> BridgeMessage {
    BridgeMessage::BuildProgress {
        build_id: None,
        percent: Percent::new(42.0),
        message: None,
    }
}
