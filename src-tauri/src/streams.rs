//! Streams from the core to the frontend: one [`UpdateSink`] each, a `tauri::ipc::Channel` to
//! a window or a socket of an embedded panel ([`crate::embed`]).
//!
//! A stream forwards at most one update per [`FRAME_INTERVAL`]: whatever happened in
//! between is coalesced by the source (the tool monitor merges events; the bridge status is
//! a latest-value watch), so a burst of a thousand bridge messages costs the webview one
//! render per frame, not a thousand. Each stream has a [`SubscriptionId`] the frontend uses
//! to stop it; reloading a window (or closing an embedded panel's socket) stops every stream
//! it had. Each stream belongs to its window's label (an embedded panel's socket has one of
//! its own), and only that owner may stop it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mossy_core::build::BuildSubscription;
use mossy_core::tool_monitor::ToolMonitorSubscription;
use mossy_protocol::build::BuildUpdate;
use mossy_protocol::ipc::{BridgeUpdate, SubscriptionId, ToolMonitorUpdate};
use tauri::async_runtime::JoinHandle;
use tauri::ipc::{Channel, IpcResponse};
use tokio::sync::watch;
use tracing::debug;

/// One display frame at 60 Hz: the webview cannot show updates faster than it paints.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);

/// The running streams, by id, with the window each one feeds.
#[derive(Default)]
pub struct Streams {
    next_id: AtomicU64,
    running: Mutex<HashMap<SubscriptionId, (String, JoinHandle<()>)>>,
}

impl Streams {
    /// Runs `stream` for the window labelled `window` and returns the id that stops it.
    pub fn start(
        &self,
        window: &str,
        stream: impl Future<Output = ()> + Send + 'static,
    ) -> SubscriptionId {
        let id = SubscriptionId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let task = tauri::async_runtime::spawn(stream);
        self.lock().insert(id, (window.to_owned(), task));
        debug!(id = id.0, window, "stream started");
        id
    }

    /// Stops one stream of `owner`; false when it was not running or belongs to another.
    pub fn stop(&self, id: SubscriptionId, owner: &str) -> bool {
        let mut running = self.lock();
        if running.get(&id).is_none_or(|(label, _)| label != owner) {
            return false;
        }
        if let Some((_, task)) = running.remove(&id) {
            task.abort();
        }
        true
    }

    /// Stops every stream of a window, as when its page reloads.
    pub fn stop_window(&self, window: &str) {
        self.lock().retain(|_, (label, task)| {
            let keep = label != window;
            if !keep {
                task.abort();
            }
            keep
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SubscriptionId, (String, JoinHandle<()>)>> {
        // A panic while holding this lock cannot leave the map half-changed; keep going.
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Where a stream's updates go.
pub trait UpdateSink<T>: Send + Sync + 'static {
    /// Delivers one update; false when the receiver is gone and the stream should end. It may
    /// wait while a slow receiver catches up (the sources coalesce in the meantime).
    fn deliver(&self, update: T) -> impl Future<Output = bool> + Send;
}

impl<T: IpcResponse + Send + Sync + 'static> UpdateSink<T> for Channel<T> {
    async fn deliver(&self, update: T) -> bool {
        self.send(update).is_ok()
    }
}

/// Forwards tool monitor updates, at most one per frame.
pub async fn tool_monitor(
    mut subscription: ToolMonitorSubscription,
    sink: impl UpdateSink<ToolMonitorUpdate>,
) {
    loop {
        let update = subscription.next_update().await;
        if !sink.deliver(update).await {
            break;
        }
        tokio::time::sleep(FRAME_INTERVAL).await;
    }
}

/// Forwards the bridge status: the current one at once, then each change, at most one per
/// frame.
pub async fn bridge(
    mut status: watch::Receiver<BridgeUpdate>,
    sink: impl UpdateSink<BridgeUpdate>,
) {
    loop {
        let update = status.borrow_and_update().clone();
        if !sink.deliver(update).await {
            break;
        }
        tokio::time::sleep(FRAME_INTERVAL).await;
        if status.changed().await.is_err() {
            break;
        }
    }
}

/// Time between Build panel updates. A build that prints without pause would otherwise
/// send one update (status, progress and every diagnostic so far) each frame; twenty a
/// second keeps the bar, the counts and the followed tail moving smoothly at a third of
/// the cost, which leaves the webview its frames for scrolling.
pub const BUILD_UPDATE_INTERVAL: Duration = Duration::from_millis(50);

/// Forwards Build panel updates: the current one at once, then at most one per
/// [`BUILD_UPDATE_INTERVAL`] while anything changes.
pub async fn builds(mut subscription: BuildSubscription, sink: impl UpdateSink<BuildUpdate>) {
    while let Some(update) = subscription.next_delta_update().await {
        if !sink.deliver(update).await {
            break;
        }
        tokio::time::sleep(BUILD_UPDATE_INTERVAL).await;
    }
}
