//! Commands the frontend calls. Each is a few lines: take state, call the core, convert the
//! error. Names match `mossy_protocol::ipc::commands`.

use mossy_protocol::ipc::{BridgeUpdate, ErrorCode, IpcError, SubscriptionId, ToolMonitorUpdate};
use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};
use tracing::instrument;

use crate::services::Services;
use crate::streams;

/// Starts the tool monitor stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_tool_monitor(
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<ToolMonitorUpdate>,
) -> SubscriptionId {
    let subscription = services.tool_monitor.subscribe();
    services
        .streams
        .start(window.label(), streams::tool_monitor(subscription, channel))
}

/// Starts the bridge status stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_bridge(
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<BridgeUpdate>,
) -> SubscriptionId {
    let status = services.bridge.watch();
    services
        .streams
        .start(window.label(), streams::bridge(status, channel))
}

/// Stops a stream.
#[tauri::command]
#[instrument(skip(services))]
pub fn unsubscribe(services: State<'_, Services>, id: SubscriptionId) -> Result<(), IpcError> {
    if services.streams.stop(id) {
        Ok(())
    } else {
        Err(IpcError {
            code: ErrorCode::NotFound,
            message: "That stream already stopped.".into(),
        })
    }
}

/// Empties the activity feed, on disk and in every open panel's next update.
#[tauri::command]
#[instrument(skip(services))]
pub async fn clear_feed(services: State<'_, Services>) -> Result<(), IpcError> {
    services.tool_monitor.clear_feed().await.map_err(|err| {
        tracing::warn!(error = %err, "clearing the feed failed");
        IpcError {
            code: ErrorCode::Storage,
            message: "The activity feed could not be cleared; see the log for why.".into(),
        }
    })
}

/// Logs the time from process start to the frontend's first painted frame.
#[tauri::command]
pub fn report_first_paint(started: State<'_, crate::ProcessStart>) {
    tracing::info!(elapsed_ms = started.0.elapsed().as_millis(), "first paint");
}
