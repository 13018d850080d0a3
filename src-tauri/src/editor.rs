//! The Editor panel's backend: the collaboration hub inside the app, the editor's connection
//! settings, and local files opened into a shared document and saved back.
//!
//! The shared text does not pass through here. The webview's editor (CodeMirror with Yjs, see
//! `frontend/editor-js`) joins the hub over WebSocket like any other Yjs peer; this module
//! starts that hub on loopback, tells the page where it is ([`editor_config`]) and reads and
//! writes files with the stamp check of [`mossy_collab::local_file`].

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use mossy_collab::local_file::{self, FileError};
use mossy_collab::{DEFAULT_PORT, Hub, HubConfig, HubHandle};
use mossy_core::settings::{AppDirs, EditorSettings, Settings};
use mossy_protocol::editor::{DiskStamp, EditorConfig, LocalHub, OpenedFile, PEER_COLOURS};
use mossy_protocol::ipc::{ErrorCode, IpcError};
use tauri::State;
use tracing::{info, instrument, warn};

/// Environment variable with the address the hub inside the app listens on, such as
/// `127.0.0.1:0` (tests use a free port so they never meet a hub already running).
pub const HUB_ADDR_ENV: &str = "MOSSY_HUB_ADDR";

/// Folder inside the data folder for the hub's database.
const HUB_DATA_DIR: &str = "collab";

/// Name shown to other editors when neither the settings nor the OS give one.
const FALLBACK_NAME: &str = "Modder";

/// What the editor commands need, kept in Tauri's managed state.
pub struct EditorService {
    config: EditorConfig,
    // Keeps the hub running for the app's whole life.
    _hub: Option<HubHandle>,
}

/// Reads the editor's settings, starts the hub inside the app unless a team hub is set, and
/// puts the result in the app's managed state. A hub that cannot start (its port is taken) is
/// logged once and shown in the panel; the editor can still join a team hub.
pub fn setup(app: &tauri::App, dirs: &AppDirs) {
    let settings = editor_settings(dirs);
    let (hub, local_hub, hub_url) = if settings.hub_url.trim().is_empty() {
        let (hub, local_hub) = start_hub(dirs);
        let url = hub
            .as_ref()
            .map(|hub| format!("ws://{}", hub.local_addr()))
            .unwrap_or_else(|| format!("ws://{}", hub_addr()));
        (hub, local_hub, url)
    } else {
        (
            None,
            LocalHub::NotNeeded,
            settings.hub_url.trim().to_owned(),
        )
    };
    let display_name = display_name(&settings);
    let config = EditorConfig {
        hub_url,
        token: settings.token.clone(),
        colour: colour_for(&display_name).to_owned(),
        display_name,
        local_hub,
    };
    info!(hub = %config.hub_url, name = %config.display_name, "editor configured");
    tauri::Manager::manage(app, EditorService { config, _hub: hub });
}

/// Lets the webview reach a team hub named in the settings: its origin is added to the CSP's
/// `connect-src` (loopback hubs are allowed in `tauri.conf.json` already).
pub fn allow_team_hub(context: &mut tauri::Context<tauri::Wry>, dirs: &AppDirs) {
    let settings = editor_settings(dirs);
    let Some(origin) = ws_origin(&settings.hub_url) else {
        return;
    };
    let Some(tauri::utils::config::Csp::DirectiveMap(map)) =
        context.config_mut().app.security.csp.as_mut()
    else {
        warn!("the CSP is not a directive map; a team hub may be blocked by it");
        return;
    };
    map.entry("connect-src".into()).or_default().push(&origin);
    info!(%origin, "team hub allowed in the CSP");
}

/// The `ws://host[:port]` or `wss://...` origin of a hub URL; `None` when it is not one.
fn ws_origin(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme, "ws" | "wss") {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then(|| format!("{scheme}://{host}"))
}

fn editor_settings(dirs: &AppDirs) -> EditorSettings {
    // A broken settings file is reported by the core services; defaults are fine here.
    Settings::load(&dirs.settings_file())
        .map(|settings| settings.editor)
        .unwrap_or_default()
}

fn hub_addr() -> SocketAddr {
    let default = SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT));
    match std::env::var(HUB_ADDR_ENV) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            warn!(value = %text, "{HUB_ADDR_ENV} is not an address such as 127.0.0.1:47820");
            default
        }),
        Err(_) => default,
    }
}

fn start_hub(dirs: &AppDirs) -> (Option<HubHandle>, LocalHub) {
    let mut config = HubConfig::new(dirs.data.join(HUB_DATA_DIR));
    config.bind = hub_addr();
    match tauri::async_runtime::block_on(Hub::start(config)) {
        Ok(hub) => {
            let addr = hub.local_addr().to_string();
            (Some(hub), LocalHub::Running { addr })
        }
        Err(err) => {
            warn!(error = %err, "the hub inside the app is not running; the editor can still join a team hub");
            let reason = format!("The local hub is not running: {err}.");
            (None, LocalHub::Off { reason })
        }
    }
}

fn display_name(settings: &EditorSettings) -> String {
    let configured = settings.display_name.trim();
    if !configured.is_empty() {
        return configured.to_owned();
    }
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|key| std::env::var(key).ok())
        .map(|name| name.trim().to_owned())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| FALLBACK_NAME.to_owned())
}

/// A colour that stays the same for a name across restarts, so teammates learn it.
fn colour_for(name: &str) -> &'static str {
    let sum = name.bytes().fold(0_usize, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    PEER_COLOURS[sum % PEER_COLOURS.len()]
}

/// The hub to join and as whom.
#[tauri::command]
pub fn editor_config(editor: State<'_, EditorService>) -> EditorConfig {
    editor.config.clone()
}

/// Reads a local text file for the editor, with its stamp and the room it is shared in.
#[tauri::command]
#[instrument]
pub async fn editor_open_file(path: String) -> Result<OpenedFile, IpcError> {
    let path = path.trim().to_owned();
    if path.is_empty() {
        return Err(invalid("Type the path of a file to open."));
    }
    blocking(move || {
        let file = Path::new(&path);
        let (text, disk_stamp) = local_file::open_text(file)?;
        let room = local_file::room_for_path(file);
        Ok(OpenedFile {
            path,
            text,
            room,
            disk_stamp,
        })
    })
    .await
}

/// Saves the editor's text to a local file; refuses when the file changed on disk since
/// `disk_stamp` unless `overwrite` is set.
#[tauri::command]
#[instrument(skip(text))]
pub async fn editor_save_file(
    path: String,
    text: String,
    disk_stamp: DiskStamp,
    overwrite: bool,
) -> Result<DiskStamp, IpcError> {
    blocking(move || local_file::save_text(Path::new(&path), &text, &disk_stamp, overwrite)).await
}

async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, FileError> + Send + 'static,
) -> Result<T, IpcError> {
    crate::commands::run_blocking(call, file_error).await
}

fn file_error(err: FileError) -> IpcError {
    let code = match err {
        FileError::ChangedOnDisk { .. } => ErrorCode::ChangedOnDisk,
        FileError::Read { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ErrorCode::NotFound
        }
        _ => ErrorCode::Invalid,
    };
    let message = match err {
        FileError::ChangedOnDisk { .. } => {
            "The file changed on disk since you opened it.".to_owned()
        }
        other => sentence(&other.to_string()),
    };
    IpcError { code, message }
}

fn invalid(message: &str) -> IpcError {
    IpcError {
        code: ErrorCode::Invalid,
        message: message.to_owned(),
    }
}

/// Library errors are short lowercase phrases; the user reads a sentence.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    let mut out = first.unwrap_or_default() + chars.as_str();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_hub_origin_is_scheme_and_host_only() {
        assert_eq!(
            ws_origin("ws://hub.example:47820/room?token=x").as_deref(),
            Some("ws://hub.example:47820")
        );
        assert_eq!(ws_origin("wss://[::1]:9").as_deref(), Some("wss://[::1]:9"));
        assert_eq!(ws_origin("https://x"), None);
        assert_eq!(ws_origin("ws://a b"), None);
        assert_eq!(ws_origin("ws://x;script-src *"), None);
        assert_eq!(ws_origin(""), None);
    }

    #[test]
    fn changed_on_disk_keeps_its_code() {
        let err = file_error(FileError::ChangedOnDisk {
            path: "/x/a.psc".into(),
        });
        assert_eq!(err.code, ErrorCode::ChangedOnDisk);
        assert_eq!(err.message, "The file changed on disk since you opened it.");
    }
}
