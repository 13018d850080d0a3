//! Commands the frontend calls. Each is a few lines: take state, call the core, convert the
//! error. Names match `mossy_protocol::ipc::commands`.
//!
//! The bodies that an embedded panel's socket also runs ([`crate::embed`]) are plain
//! functions over [`Services`] (`start_*`, `stop_stream`, `*_on`), so both transports
//! share one implementation and differ only in where a stream's updates go.

use std::path::Path;

use mossy_core::build::CenterError;
use mossy_protocol::build::{BuildId, BuildProfile, BuildUpdate, BuildView, LogPage};
use mossy_protocol::ipc::{BridgeUpdate, ErrorCode, IpcError, SubscriptionId, ToolMonitorUpdate};
use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};
use tracing::instrument;

use crate::services::Services;
use crate::streams::{self, UpdateSink};

/// Starts the tool monitor stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_tool_monitor(
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<ToolMonitorUpdate>,
) -> SubscriptionId {
    start_tool_monitor(&services, window.label(), channel)
}

/// Starts a tool monitor stream owned by `owner`.
pub(crate) fn start_tool_monitor(
    services: &Services,
    owner: &str,
    sink: impl UpdateSink<ToolMonitorUpdate>,
) -> SubscriptionId {
    let subscription = services.tool_monitor.subscribe();
    services
        .streams
        .start(owner, streams::tool_monitor(subscription, sink))
}

/// Starts the bridge status stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_bridge(
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<BridgeUpdate>,
) -> SubscriptionId {
    start_bridge(&services, window.label(), channel)
}

/// Starts a bridge status stream owned by `owner`.
pub(crate) fn start_bridge(
    services: &Services,
    owner: &str,
    sink: impl UpdateSink<BridgeUpdate>,
) -> SubscriptionId {
    let status = services.bridge.watch();
    services.streams.start(owner, streams::bridge(status, sink))
}

/// Stops a stream of the calling window.
#[tauri::command]
#[instrument(skip(services, window))]
pub fn unsubscribe(
    services: State<'_, Services>,
    window: WebviewWindow,
    id: SubscriptionId,
) -> Result<(), IpcError> {
    stop_stream(&services, window.label(), id)
}

/// Stops stream `id` of `owner`; a stream of another window or socket is "not found".
pub(crate) fn stop_stream(
    services: &Services,
    owner: &str,
    id: SubscriptionId,
) -> Result<(), IpcError> {
    if services.streams.stop(id, owner) {
        Ok(())
    } else {
        Err(IpcError {
            code: ErrorCode::NotFound,
            message: "That stream already stopped.".into(),
        })
    }
}

/// Why the activity history is not what the user expects, if it is not.
#[tauri::command]
#[must_use]
pub fn feed_notice(services: State<'_, Services>) -> Option<String> {
    services.feed_notice.clone()
}

/// Empties the activity feed, on disk and in every open panel's next update.
#[tauri::command]
#[instrument(skip(services))]
pub async fn clear_feed(services: State<'_, Services>) -> Result<(), IpcError> {
    clear_feed_on(&services).await
}

/// Empties the activity feed.
pub(crate) async fn clear_feed_on(services: &Services) -> Result<(), IpcError> {
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

/// Starts the Build panel stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_build(
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<BuildUpdate>,
) -> SubscriptionId {
    start_builds(&services, window.label(), channel)
}

/// Starts a Build panel stream owned by `owner`.
pub(crate) fn start_builds(
    services: &Services,
    owner: &str,
    sink: impl UpdateSink<BuildUpdate>,
) -> SubscriptionId {
    let subscription = services.builds.subscribe();
    services
        .streams
        .start(owner, streams::builds(subscription, sink))
}

/// Runs a build profile.
#[tauri::command]
#[instrument(skip(services))]
pub fn build_start(services: State<'_, Services>, profile: String) -> Result<BuildId, IpcError> {
    build_start_on(&services, &profile)
}

/// Runs the saved build profile named `profile`; nothing else can be started this way.
pub(crate) fn build_start_on(services: &Services, profile: &str) -> Result<BuildId, IpcError> {
    services.builds.start_profile(profile).map_err(center_error)
}

/// Cancels a build, stops following a log, or stops watching a Mossy build.
#[tauri::command]
#[instrument(skip(services))]
pub fn build_cancel(services: State<'_, Services>, id: BuildId) -> Result<(), IpcError> {
    build_cancel_on(&services, id)
}

/// Cancels a build, stops following a log, or stops watching a Mossy build.
pub(crate) fn build_cancel_on(services: &Services, id: BuildId) -> Result<(), IpcError> {
    services.builds.cancel(id).map_err(center_error)
}

/// Follows a log file as a build.
#[tauri::command]
#[instrument(skip(services))]
pub fn build_follow_log(services: State<'_, Services>, path: String) -> Result<BuildId, IpcError> {
    services
        .builds
        .follow_log(Path::new(path.trim()))
        .map_err(center_error)
}

/// One build's view, live or from the history.
#[tauri::command]
#[instrument(skip(services))]
pub async fn build_view(services: State<'_, Services>, id: BuildId) -> Result<BuildView, IpcError> {
    build_view_on(&services, id).await
}

/// One build's view.
pub(crate) async fn build_view_on(services: &Services, id: BuildId) -> Result<BuildView, IpcError> {
    let builds = services.builds.clone();
    blocking(move || builds.view(id)).await
}

/// Log lines of a build, by position.
#[tauri::command]
#[instrument(skip(services))]
pub async fn build_log_range(
    services: State<'_, Services>,
    id: BuildId,
    start: u64,
    count: u64,
    problems_only: bool,
) -> Result<LogPage, IpcError> {
    build_log_range_on(&services, id, start, count, problems_only).await
}

/// Log lines of a build.
pub(crate) async fn build_log_range_on(
    services: &Services,
    id: BuildId,
    start: u64,
    count: u64,
    problems_only: bool,
) -> Result<LogPage, IpcError> {
    let builds = services.builds.clone();
    blocking(move || builds.log_range(id, start, count, problems_only)).await
}

/// The next line holding a text, and that line's place in the problems-only list.
#[tauri::command]
#[instrument(skip(services))]
pub async fn build_search(
    services: State<'_, Services>,
    id: BuildId,
    query: String,
    from: u64,
    backwards: bool,
) -> Result<Option<u64>, IpcError> {
    build_search_on(&services, id, query, from, backwards).await
}

/// The next line holding a text.
pub(crate) async fn build_search_on(
    services: &Services,
    id: BuildId,
    query: String,
    from: u64,
    backwards: bool,
) -> Result<Option<u64>, IpcError> {
    let builds = services.builds.clone();
    blocking(move || builds.search(id, &query, from, backwards)).await
}

/// Adds or replaces a build profile.
#[tauri::command]
#[instrument(skip(services))]
pub fn build_save_profile(
    services: State<'_, Services>,
    profile: BuildProfile,
    replacing: Option<String>,
) -> Result<(), IpcError> {
    services
        .builds
        .save_profile(profile, replacing.as_deref())
        .map_err(center_error)
}

/// Removes a build profile.
#[tauri::command]
#[instrument(skip(services))]
pub fn build_delete_profile(services: State<'_, Services>, name: String) -> Result<(), IpcError> {
    services.builds.delete_profile(&name).map_err(center_error)
}

/// Source and text files a diagnostic may point at that are opened on request. Anything
/// else (a program, a script for a shell) is refused: the path may come from Mossy.
const OPENABLE_EXTENSIONS: &[&str] = &["psc", "pas", "txt", "log", "ini", "json", "xml", "flg"];

/// Opens a file a diagnostic points at with the system's default program.
#[tauri::command]
#[instrument]
pub fn open_source_file(path: String) -> Result<(), IpcError> {
    let invalid = |message: String| IpcError {
        code: ErrorCode::Invalid,
        message,
    };
    let path = Path::new(&path);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !OPENABLE_EXTENSIONS.contains(&extension.as_str()) {
        return Err(invalid(format!(
            "Only source and text files are opened from here, not {}.",
            path.display()
        )));
    }
    if !path.is_file() {
        return Err(invalid(format!("{} is not on this PC.", path.display())));
    }
    // TODO(build): open at the diagnostic's line. Each editor takes a line differently
    // (`code -g file:line`, `notepad++ -nLINE`), so it needs an editor setting first.
    open::that_detached(path)
        .map_err(|err| invalid(format!("{} could not be opened: {err}", path.display())))
}

fn center_error(err: CenterError) -> IpcError {
    let code = match err {
        CenterError::NoSuchProfile(_) | CenterError::NoSuchBuild => ErrorCode::NotFound,
        CenterError::Settings(_) | CenterError::Storage(_) => ErrorCode::Storage,
        _ => ErrorCode::Invalid,
    };
    IpcError {
        code,
        message: err.to_string(),
    }
}

/// Runs a call that reads or writes files on a blocking thread, converting its error with
/// `to_ipc` (shared by the Build and Editor commands).
pub(crate) async fn run_blocking<T: Send + 'static, E: Send + 'static>(
    call: impl FnOnce() -> Result<T, E> + Send + 'static,
    to_ipc: fn(E) -> IpcError,
) -> Result<T, IpcError> {
    tauri::async_runtime::spawn_blocking(call)
        .await
        .map_err(|err| IpcError {
            code: ErrorCode::Internal,
            message: format!("The request stopped: {err}"),
        })?
        .map_err(to_ipc)
}

/// Runs a center call that may read the history file on a blocking thread.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, CenterError> + Send + 'static,
) -> Result<T, IpcError> {
    run_blocking(call, center_error).await
}
