//! The Editor panel's doors: backend commands (hub settings, local files) and the bundled code
//! editor, `window.MossyEditor` from `frontend/editor-js`.
//!
//! The editor is JavaScript (CodeMirror with Yjs) because the Yjs ecosystem's editor bindings
//! are; this module is the only Rust that touches it. Pages get an [`EditorRoom`] with typed
//! callbacks and never see a `JsValue`.

use mossy_protocol::editor::{DiskStamp, EditorConfig, OpenedFile, commands};
use mossy_protocol::ipc::{ErrorCode, IpcError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::call;

/// The hub to join and as whom.
pub async fn editor_config() -> Result<EditorConfig, IpcError> {
    call(commands::EDITOR_CONFIG, &()).await
}

/// Reads a local file for editing.
pub async fn editor_open_file(path: &str) -> Result<OpenedFile, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        path: &'a str,
    }
    call(commands::EDITOR_OPEN_FILE, &Args { path }).await
}

/// Saves `text` to `path`; fails with [`ErrorCode::ChangedOnDisk`] when the file is no longer
/// the one stamped `disk_stamp`, unless `overwrite` is set.
pub async fn editor_save_file(
    path: &str,
    text: &str,
    disk_stamp: &DiskStamp,
    overwrite: bool,
) -> Result<DiskStamp, IpcError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Args<'a> {
        path: &'a str,
        text: &'a str,
        disk_stamp: &'a DiskStamp,
        overwrite: bool,
    }
    let args = Args {
        path,
        text,
        disk_stamp,
        overwrite,
    };
    call(commands::EDITOR_SAVE_FILE, &args).await
}

/// The editor's link to the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Never connected yet.
    Connecting,
    /// Connected and in sync.
    Connected,
    /// Not connected, with local edits waiting to be sent.
    Offline,
    /// Not connected, nothing waiting; trying again.
    Reconnecting,
}

/// Connection state and the number of edits waiting to reach the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ConnectionStatus {
    /// The state.
    pub state: ConnectionState,
    /// Local edits made while not in sync.
    pub pending: u32,
}

/// Somebody in the room.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Peer {
    /// Their Yjs client id.
    pub id: u64,
    /// Their name.
    pub name: String,
    /// Their colour, `#rrggbb` when they follow the convention.
    pub colour: String,
    /// True for this window's own entry.
    pub me: bool,
}

/// Whether a peer came or went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceKind {
    /// They joined (or were here when we came).
    Joined,
    /// They left: disconnected, or silent past the awareness timeout.
    Left,
}

/// One line of the presence history.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PresenceEvent {
    /// Joined or left.
    pub kind: PresenceKind,
    /// Their Yjs client id.
    pub id: u64,
    /// Their name.
    pub name: String,
    /// Their colour.
    pub colour: String,
    /// When, in Unix milliseconds.
    pub at: f64,
}

/// One entry of the Changes list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChangeEntry {
    /// Identifies the entry for [`EditorRoom::jump_to`].
    pub key: String,
    /// Who made it.
    pub name: String,
    /// Their colour.
    pub colour: String,
    /// True when this window made it.
    pub mine: bool,
    /// What happened: "inserted 12 chars", "deleted 3 chars".
    pub summary: String,
    /// When, in Unix milliseconds.
    pub at: f64,
}

/// What happened when a file's text met its room after the first sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomLoaded {
    /// The room was empty and now holds the file's text.
    pub seeded: bool,
    /// The room's text equals the file's.
    pub matches_file: bool,
}

/// Where to connect and who we are.
#[derive(Debug, Clone, Serialize)]
pub struct RoomOptions {
    /// Hub base URL.
    pub url: String,
    /// Room name.
    pub room: String,
    /// Token; empty for none.
    pub token: String,
    /// Our display name.
    pub name: String,
    /// Our colour.
    pub colour: String,
}

#[wasm_bindgen]
extern "C" {
    type JsHandle;

    #[wasm_bindgen(js_namespace = MossyEditor, js_name = open, catch)]
    fn editor_open(element: &web_sys::Element, options: JsValue) -> Result<JsHandle, JsValue>;

    #[wasm_bindgen(method, js_name = onStatus)]
    fn on_status(this: &JsHandle, callback: &Closure<dyn FnMut(JsValue)>);
    #[wasm_bindgen(method, js_name = onPeers)]
    fn on_peers(this: &JsHandle, callback: &Closure<dyn FnMut(JsValue)>);
    #[wasm_bindgen(method, js_name = onPresence)]
    fn on_presence(this: &JsHandle, callback: &Closure<dyn FnMut(JsValue)>);
    #[wasm_bindgen(method, js_name = onChanges)]
    fn on_changes(this: &JsHandle, callback: &Closure<dyn FnMut(JsValue)>);
    #[wasm_bindgen(method, js_name = onLoaded)]
    fn on_loaded(this: &JsHandle, callback: &Closure<dyn FnMut(JsValue)>);
    #[wasm_bindgen(method, js_name = seedIfEmpty)]
    fn seed_if_empty(this: &JsHandle, text: &str);
    #[wasm_bindgen(method)]
    fn text(this: &JsHandle) -> String;
    #[wasm_bindgen(method, js_name = jumpTo)]
    fn jump_to(this: &JsHandle, key: &str) -> bool;
    #[wasm_bindgen(method)]
    fn undo(this: &JsHandle);
    #[wasm_bindgen(method)]
    fn redo(this: &JsHandle);
    #[wasm_bindgen(method)]
    fn focus(this: &JsHandle);
    #[wasm_bindgen(method)]
    fn destroy(this: &JsHandle);
}

/// What the page wants to hear from an open room.
pub struct RoomCallbacks {
    /// Connection state changes.
    pub status: Box<dyn FnMut(ConnectionStatus)>,
    /// The people in the room, us included.
    pub peers: Box<dyn FnMut(Vec<Peer>)>,
    /// Someone joined or left.
    pub presence: Box<dyn FnMut(PresenceEvent)>,
    /// The Changes list, newest first.
    pub changes: Box<dyn FnMut(Vec<ChangeEntry>)>,
    /// A file's text met its room (only after [`EditorRoom::seed_if_empty`]).
    pub loaded: Box<dyn FnMut(RoomLoaded)>,
}

/// One open room in the code editor. Dropping it leaves the room and removes the editor.
pub struct EditorRoom {
    handle: JsHandle,
    // Kept alive while the editor may call them.
    _callbacks: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl EditorRoom {
    /// Opens `options.room` in a new editor inside `host`.
    pub fn open(
        host: &web_sys::Element,
        options: &RoomOptions,
        callbacks: RoomCallbacks,
    ) -> Result<Self, IpcError> {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        let js_options = options.serialize(&serializer).map_err(|err| IpcError {
            code: ErrorCode::Internal,
            message: err.to_string(),
        })?;
        let handle = editor_open(host, js_options).map_err(|err| IpcError {
            code: ErrorCode::Internal,
            message: format!(
                "The code editor did not start ({}); reload the window.",
                err.as_string().unwrap_or_else(|| format!("{err:?}"))
            ),
        })?;
        let RoomCallbacks {
            status,
            peers,
            presence,
            changes,
            loaded,
        } = callbacks;
        let status = typed(status);
        let peers = typed(peers);
        let presence = typed(presence);
        let changes = typed(changes);
        let loaded = typed(loaded);
        handle.on_loaded(&loaded);
        handle.on_presence(&presence);
        handle.on_status(&status);
        handle.on_peers(&peers);
        handle.on_changes(&changes);
        Ok(Self {
            handle,
            _callbacks: vec![status, peers, presence, changes, loaded],
        })
    }

    /// Puts `text` into the room after the first sync with the hub, only if the room is empty.
    pub fn seed_if_empty(&self, text: &str) {
        self.handle.seed_if_empty(text);
    }

    /// The editor's current text.
    pub fn text(&self) -> String {
        self.handle.text()
    }

    /// Moves the cursor to where the change `key` happened; false when that place is gone.
    pub fn jump_to(&self, key: &str) -> bool {
        self.handle.jump_to(key)
    }

    /// Takes back this user's last edit; a peer's edits are never undone from here.
    pub fn undo(&self) {
        self.handle.undo();
    }

    /// Puts back the edit [`Self::undo`] took back last.
    pub fn redo(&self) {
        self.handle.redo();
    }

    /// Gives the editor the keyboard focus.
    pub fn focus(&self) {
        self.handle.focus();
    }
}

impl Drop for EditorRoom {
    fn drop(&mut self) {
        self.handle.destroy();
    }
}

/// Wraps a typed callback as a JS one that decodes its argument first.
fn typed<T: DeserializeOwned + 'static>(
    mut callback: Box<dyn FnMut(T)>,
) -> Closure<dyn FnMut(JsValue)> {
    Closure::new(
        move |value: JsValue| match serde_wasm_bindgen::from_value::<T>(value) {
            Ok(value) => callback(value),
            Err(err) => web_sys::console::error_1(
                &format!("mossy-live: unreadable message from the editor: {err}").into(),
            ),
        },
    )
}
