//! The frontend's one door to the backend.
//!
//! Pages call the typed functions here and never see a command string, a `JsValue` or the
//! Tauri globals. The wire is [`transport`]'s choice, made once at start: Tauri IPC
//! (`window.__TAURI__.core`) in the app's windows, or a loopback WebSocket when Mossy shows
//! the panel in its own window. Nothing above this module knows which.

mod assets;
mod settings;
mod transport;
mod updates;
pub use assets::*;
pub use settings::*;
pub use updates::*;
mod editor;
pub use editor::*;

use mossy_protocol::build::{BuildId, BuildProfile, BuildUpdate, BuildView, LogPage};
use mossy_protocol::ipc::{
    BridgeUpdate, ErrorCode, FileFilter, IpcError, SubscriptionId, ToolMonitorUpdate, commands,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

/// A live stream from the backend; dropping it stops the stream and frees its callback.
pub struct Subscription {
    id: SubscriptionId,
    // Dropped before the callback (fields drop in order): no frame reaches a freed closure.
    _registration: transport::StreamGuard,
    // Kept alive for as long as the backend may call it.
    _on_message: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let id = self.id;
        wasm_bindgen_futures::spawn_local(async move {
            #[derive(Serialize)]
            struct Args {
                id: SubscriptionId,
            }
            // The stream may already be gone (window reloading); nothing to tell the user.
            let _ = call::<()>(commands::UNSUBSCRIBE, &Args { id }).await;
        });
    }
}

/// Streams tool monitor updates to `on_update` until the subscription is dropped.
pub async fn subscribe_tool_monitor(
    on_update: impl FnMut(ToolMonitorUpdate) + 'static,
) -> Result<Subscription, IpcError> {
    subscribe(commands::SUBSCRIBE_TOOL_MONITOR, on_update).await
}

/// Streams bridge status updates to `on_update` until the subscription is dropped.
pub async fn subscribe_bridge(
    on_update: impl FnMut(BridgeUpdate) + 'static,
) -> Result<Subscription, IpcError> {
    subscribe(commands::SUBSCRIBE_BRIDGE, on_update).await
}

/// Empties the tool monitor's activity feed.
pub async fn clear_feed() -> Result<(), IpcError> {
    call::<()>(commands::CLEAR_FEED, &()).await
}

/// Why the activity history is not what the user expects, if it is not.
pub async fn feed_notice() -> Result<Option<String>, IpcError> {
    call::<Option<String>>(commands::FEED_NOTICE, &()).await
}

/// Tells the backend the first frame with content is on screen.
pub async fn report_first_paint() -> Result<(), IpcError> {
    call::<()>(commands::REPORT_FIRST_PAINT, &()).await
}

/// Streams Build panel updates to `on_update` until the subscription is dropped.
pub async fn subscribe_build(
    on_update: impl FnMut(BuildUpdate) + 'static,
) -> Result<Subscription, IpcError> {
    subscribe(commands::SUBSCRIBE_BUILD, on_update).await
}

/// Runs the build profile named `profile`.
pub async fn build_start(profile: &str) -> Result<BuildId, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        profile: &'a str,
    }
    call(commands::BUILD_START, &Args { profile }).await
}

/// Cancels a build, stops following a log file, or stops watching a Mossy build.
pub async fn build_cancel(id: BuildId) -> Result<(), IpcError> {
    call(commands::BUILD_CANCEL, &IdArgs { id }).await
}

/// Follows the log file at `path` as a build.
pub async fn build_follow_log(path: &str) -> Result<BuildId, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        path: &'a str,
    }
    call(commands::BUILD_FOLLOW_LOG, &Args { path }).await
}

/// One build's view, live or from the history.
pub async fn build_view(id: BuildId) -> Result<BuildView, IpcError> {
    call(commands::BUILD_VIEW, &IdArgs { id }).await
}

/// `count` log lines of build `id` from position `start`, of all lines or problem lines.
pub async fn build_log_range(
    id: BuildId,
    start: u64,
    count: u64,
    problems_only: bool,
) -> Result<LogPage, IpcError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Args {
        id: BuildId,
        start: u64,
        count: u64,
        problems_only: bool,
    }
    let args = Args {
        id,
        start,
        count,
        problems_only,
    };
    call(commands::BUILD_LOG_RANGE, &args).await
}

/// The number of the next line after (or before) line `from` that holds `query`.
pub async fn build_search(
    id: BuildId,
    query: &str,
    from: u64,
    backwards: bool,
) -> Result<Option<u64>, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        id: BuildId,
        query: &'a str,
        from: u64,
        backwards: bool,
    }
    let args = Args {
        id,
        query,
        from,
        backwards,
    };
    call(commands::BUILD_SEARCH, &args).await
}

/// Adds a build profile, or replaces the one named `replacing`.
pub async fn build_save_profile(
    profile: &BuildProfile,
    replacing: Option<&str>,
) -> Result<(), IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        profile: &'a BuildProfile,
        replacing: Option<&'a str>,
    }
    call(commands::BUILD_SAVE_PROFILE, &Args { profile, replacing }).await
}

/// Removes the build profile named `name`.
pub async fn build_delete_profile(name: &str) -> Result<(), IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        name: &'a str,
    }
    call(commands::BUILD_DELETE_PROFILE, &Args { name }).await
}

/// Opens a source file a diagnostic points at in the system's default program.
pub async fn open_source_file(path: &str) -> Result<(), IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        path: &'a str,
    }
    call(commands::OPEN_SOURCE_FILE, &Args { path }).await
}

/// Shows the system's folder picker; the chosen folder, or `None` when the user cancelled.
pub async fn pick_folder() -> Result<Option<String>, IpcError> {
    call(commands::PICK_FOLDER, &()).await
}

/// Shows the system's file picker offering `filters`; the chosen file, or `None` when the
/// user cancelled.
pub async fn pick_file(filters: &[FileFilter]) -> Result<Option<String>, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        filters: &'a [FileFilter],
    }
    call(commands::PICK_FILE, &Args { filters }).await
}

#[derive(Serialize)]
struct IdArgs {
    id: BuildId,
}

async fn subscribe<T: DeserializeOwned + 'static>(
    command: &str,
    mut on_update: impl FnMut(T) + 'static,
) -> Result<Subscription, IpcError> {
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |message: JsValue| {
        match serde_wasm_bindgen::from_value::<T>(message) {
            Ok(update) => on_update(update),
            Err(err) => log_error(&format!("mossy-live: unreadable update from {err}")),
        }
    });
    let (value, registration) = transport::open_stream(command, &on_message)
        .await
        .map_err(to_ipc_error)?;
    let id = serde_wasm_bindgen::from_value::<SubscriptionId>(value).map_err(internal)?;
    Ok(Subscription {
        id,
        _registration: registration,
        _on_message: on_message,
    })
}

async fn call<T: DeserializeOwned>(command: &str, args: &impl Serialize) -> Result<T, IpcError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args.serialize(&serializer).map_err(internal)?;
    let value = transport::invoke(command, args)
        .await
        .map_err(to_ipc_error)?;
    serde_wasm_bindgen::from_value(value).map_err(internal)
}

/// Builds a `window.__TAURI__.core.Channel` whose messages go to `on_message`.
fn new_channel(on_message: &Closure<dyn FnMut(JsValue)>) -> Result<JsValue, IpcError> {
    let core = tauri_core()?;
    let constructor = js_sys::Reflect::get(&core, &"Channel".into())
        .map_err(to_ipc_error)?
        .dyn_into::<js_sys::Function>()
        .map_err(|_| unavailable())?;
    let channel =
        js_sys::Reflect::construct(&constructor, &js_sys::Array::new()).map_err(to_ipc_error)?;
    set(&channel, "onmessage", on_message.as_ref())?;
    Ok(channel)
}

fn tauri_core() -> Result<JsValue, IpcError> {
    let window = web_sys::window().ok_or_else(unavailable)?;
    let tauri = js_sys::Reflect::get(&window, &"__TAURI__".into()).map_err(to_ipc_error)?;
    if tauri.is_undefined() {
        return Err(unavailable());
    }
    js_sys::Reflect::get(&tauri, &"core".into()).map_err(to_ipc_error)
}

fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<(), IpcError> {
    js_sys::Reflect::set(target, &key.into(), value)
        .map(drop)
        .map_err(to_ipc_error)
}

/// Turns what a rejected `invoke` gives back into an [`IpcError`]: the backend's own
/// `{ code, message }` when it is one, otherwise its text.
fn to_ipc_error(value: JsValue) -> IpcError {
    if let Ok(error) = serde_wasm_bindgen::from_value::<IpcError>(value.clone()) {
        return error;
    }
    let message = value.as_string().unwrap_or_else(|| format!("{value:?}"));
    IpcError {
        code: ErrorCode::Internal,
        message,
    }
}

fn internal(err: impl std::fmt::Display) -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message: err.to_string(),
    }
}

fn unavailable() -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message: "The Mossy Live backend is not reachable from this page.".to_owned(),
    }
}

fn log_error(text: &str) {
    web_sys::console::error_1(&text.into());
}
