//! The bridge client: a WebSocket connection to Mossy that turns its frames into bus events.
//!
//! [`spawn_bridge_client`] starts one tokio task that owns the socket. It connects to
//! [`BridgeConfig::url`], says hello ([`ClientMessage::Hello`]), then hands every text
//! frame to an [`Inbox`], which decodes it with [`parse_frame`] and publishes
//! [`BusEvent::BridgeMessageReceived`]. A frame that does not decode is dropped with one
//! warning and counted; the connection stays up, because one bad message from Mossy is no
//! reason to lose the next good one.
//!
//! Two size limits apply. Frames up to [`MAX_FRAME_BYTES`] are decoded; frames above it and
//! up to [`SOCKET_MAX_MESSAGE_BYTES`] are read, dropped and counted like any bad frame.
//! Above that cap the WebSocket layer itself refuses the frame, the socket errors, and the
//! client reconnects: a sender that writes tens of MiB in one message is broken, and reading
//! it would only cost memory.
//!
//! When the connection is refused, closed, or dies mid-frame, the client waits and tries
//! again: [`FIRST_RETRY_DELAY`], doubling up to [`MAX_RETRY_DELAY`], starting over after
//! every successful connection. The state is published twice, as
//! [`BusEvent::BridgeStatusChanged`] for panel states and in a `watch` channel
//! ([`BridgeHandle::watch`]) that also carries the counters, for the badge.
//!
//! The client only ever sends the messages of [`ClientMessage`] and runs nothing it
//! receives. It never calls Mossy's HTTP `/execute` route, which runs shell commands.

mod client;
mod frame;
mod inbox;

use std::time::Duration;

use mossy_protocol::bridge::ClientMessage;
use mossy_protocol::ipc::{BridgeCounters, BridgeStatus, BridgeUpdate};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

pub use frame::{Frame, FrameError, MAX_FRAME_BYTES, parse_frame};
pub use inbox::{Delivery, Inbox};

use crate::bus::{Bus, BusEvent};
use crate::settings::{BridgeSettings, DEFAULT_BRIDGE_URL};

/// Largest message or frame the WebSocket layer reads, in bytes (16 MiB).
///
/// Far above [`MAX_FRAME_BYTES`] so that an oversized but otherwise harmless frame is
/// dropped by us, with a log line, while the connection stays up. Beyond this the sender is
/// broken; the socket errors and the client reconnects rather than buffer without end.
pub const SOCKET_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Wait before the first reconnect attempt.
///
/// A dropped loopback socket or a Mossy restart of its bridge is usually back within a
/// fraction of a second; a quarter second reconnects almost at once without spinning.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);

/// Longest wait between attempts.
///
/// When Mossy is not running, one loopback attempt every 5 s costs nothing, and the badge
/// turns green at most 5 s after Mossy starts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Messages that [`BridgeHandle::send`] may queue ahead of the socket.
///
/// The app sends a hello and the odd `generate_preview`; 64 covers any burst a person can
/// click, and a full queue means the socket is stuck, which the caller should hear about.
pub const SEND_QUEUE_CAPACITY: usize = 64;

/// Longest wait for the WebSocket handshake.
///
/// On loopback it takes milliseconds; a peer that accepts TCP but never upgrades is not a
/// bridge, and waiting longer would only keep the badge on "connecting".
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest wait for a polite close when shutting down, after which the task is cut off.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// The name the client gives in its hello.
pub const APP_NAME: &str = "mossy-live";

/// How long to wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry.
    pub first: Duration,
    /// Longest wait; the doubling stops here.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first: FIRST_RETRY_DELAY,
            max: MAX_RETRY_DELAY,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `failures + 1`, after `failures` failures in a row (counted
    /// from 1): `first`, doubling each time, never above `max`.
    ///
    /// No jitter: one client talks to one local Mossy, so there is no crowd to spread out.
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

/// What the bridge client needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    /// WebSocket address of the bridge, such as [`DEFAULT_BRIDGE_URL`].
    pub url: String,
    /// When false the client never connects and reports [`BridgeStatus::Disabled`].
    pub enabled: bool,
    /// Waits between attempts.
    pub retry: RetryPolicy,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_BRIDGE_URL.to_owned(),
            enabled: true,
            retry: RetryPolicy::default(),
        }
    }
}

impl From<&BridgeSettings> for BridgeConfig {
    fn from(settings: &BridgeSettings) -> Self {
        Self {
            url: settings.url.clone(),
            enabled: settings.enabled,
            retry: RetryPolicy::default(),
        }
    }
}

/// Why [`BridgeHandle::send`] could not queue a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The bridge is turned off in settings.
    #[error("bridge is off")]
    Disabled,
    /// The client is not connected right now; the status says when it retries.
    #[error("not connected to mossy")]
    NotConnected,
    /// Too many messages are waiting for the socket.
    #[error("send queue full")]
    QueueFull,
    /// The client task has ended.
    #[error("bridge client stopped")]
    Stopped,
}

/// The running bridge client. Dropping it stops the client.
#[derive(Debug)]
pub struct BridgeHandle {
    updates: watch::Receiver<BridgeUpdate>,
    outbox: mpsc::Sender<ClientMessage>,
    /// Dropping this tells the task to close the socket and end.
    _stop: watch::Sender<()>,
    task: Option<JoinHandle<()>>,
}

impl BridgeHandle {
    /// A receiver of the connection state and counters; it sees every change from now on.
    pub fn watch(&self) -> watch::Receiver<BridgeUpdate> {
        self.updates.clone()
    }

    /// The connection state and counters right now.
    pub fn current(&self) -> BridgeUpdate {
        self.updates.borrow().clone()
    }

    /// Queues a message for Mossy. It is sent only while connected; a message queued just
    /// before the connection drops is lost, with a warning in the log.
    pub fn send(&self, message: ClientMessage) -> Result<(), SendError> {
        match self.updates.borrow().status {
            BridgeStatus::Connected { .. } => {}
            BridgeStatus::Disabled => return Err(SendError::Disabled),
            _ => return Err(SendError::NotConnected),
        }
        self.outbox.try_send(message).map_err(|err| match err {
            mpsc::error::TrySendError::Full(_) => SendError::QueueFull,
            mpsc::error::TrySendError::Closed(_) => SendError::Stopped,
        })
    }

    /// Stops the client, closing the socket politely, and waits (up to
    /// [`SHUTDOWN_TIMEOUT`]) for it to end.
    pub async fn shutdown(mut self) {
        let Some(mut task) = self.task.take() else {
            return;
        };
        drop(self);
        if tokio::time::timeout(SHUTDOWN_TIMEOUT, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Starts the bridge client and returns its handle.
///
/// With `config.enabled` false the handle reports [`BridgeStatus::Disabled`] and nothing
/// connects. The first status is also published on `bus`.
///
/// # Panics
///
/// When called outside a tokio runtime, as it spawns a task.
pub fn spawn_bridge_client(config: BridgeConfig, bus: Bus) -> BridgeHandle {
    let (stop, stopped) = watch::channel(());
    let (outbox, queued) = mpsc::channel(SEND_QUEUE_CAPACITY);

    if !config.enabled {
        let (_, updates) = watch::channel(BridgeUpdate {
            status: BridgeStatus::Disabled,
            counters: BridgeCounters::default(),
        });
        bus.publish(BusEvent::BridgeStatusChanged(BridgeStatus::Disabled));
        tracing::info!(url = %config.url, "bridge is off in settings");
        return BridgeHandle {
            updates,
            outbox,
            _stop: stop,
            task: None,
        };
    }

    let first = BridgeStatus::Connecting {
        url: config.url.clone(),
    };
    let (publisher, updates) = watch::channel(BridgeUpdate {
        status: first,
        counters: BridgeCounters::default(),
    });
    let span = tracing::info_span!("bridge", url = %config.url);
    let task = tokio::spawn(
        client::run(client::Client::new(config, bus, publisher), queued, stopped).instrument(span),
    );
    BridgeHandle {
        updates,
        outbox,
        _stop: stop,
        task: Some(task),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_from_a_quarter_second_up_to_five() {
        let policy = RetryPolicy::default();
        let delays: Vec<u128> = (1..=8)
            .map(|failures| policy.delay(failures).as_millis())
            .collect();
        assert_eq!(delays, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(policy.delay(u32::MAX), MAX_RETRY_DELAY);
    }

    #[tokio::test]
    async fn disabled_client_reports_disabled_and_refuses_to_send() {
        let bus = Bus::new();
        let mut events = bus.subscribe();
        let config = BridgeConfig {
            enabled: false,
            ..BridgeConfig::default()
        };

        let handle = spawn_bridge_client(config, bus);

        assert_eq!(
            handle.current(),
            BridgeUpdate {
                status: BridgeStatus::Disabled,
                counters: BridgeCounters::default()
            }
        );
        assert_eq!(
            events.try_recv(),
            Ok(BusEvent::BridgeStatusChanged(BridgeStatus::Disabled))
        );
        let hello = ClientMessage::Hello {
            app: APP_NAME.into(),
            version: "0".into(),
        };
        assert_eq!(handle.send(hello), Err(SendError::Disabled));
    }
}
