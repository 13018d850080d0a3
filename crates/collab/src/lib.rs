//! Collaboration hub: shared yrs text documents served over the standard Yjs sync and
//! awareness protocols, persisted in SQLite.
//!
//! A *room* is one yrs [`Doc`](yrs::Doc) holding a single shared text named
//! [`TEXT_NAME`] (`"content"`). Any peer that speaks the y-websocket wire format can join: a
//! stock npm `yjs` + `y-websocket` `WebsocketProvider` pointed at `ws://host:port/<room>`
//! (with `params: { token }` when the hub has a token), or the Rust [`HubClient`].
//!
//! The pieces, in the order a frame travels:
//!
//! - [`hub`] accepts the WebSocket handshake (token, room name, size limits) and runs one task
//!   per connection that decodes frames with [`wire`] and rate-limits awareness.
//! - `room` (private) is one actor task per loaded room. It commits every incoming update to the
//!   [`store`] *before* applying it or forwarding it, then echoes it to every peer, the sender
//!   included. That echo is the hub's acknowledgement: an edit whose echo came back survives a
//!   hub restart or a SIGKILL.
//! - [`store`] keeps an append-only log of updates per room in SQLite and compacts it into a
//!   single snapshot row once it grows past [`COMPACT_AFTER_UPDATES`].
//! - [`client`] is a small Rust peer with its own `Doc`, offline edits and reconnects.

pub mod client;
pub mod config;
pub mod error;
pub mod hub;
pub mod local_file;
mod room;
pub mod store;
pub mod wire;

pub use client::{HubClient, HubClientConfig};
pub use config::{HubConfig, HubLimits, validate_room_name};
pub use error::{ClientError, HubError, StoreError};
pub use hub::{Hub, HubHandle};
pub use store::Store;

/// Name of the one shared text in every room's document. A Yjs peer reads it with
/// `doc.getText("content")`.
pub const TEXT_NAME: &str = "content";

/// TCP port the stand-alone `mossy-hub` listens on when `--bind` is not given. Chosen from the
/// unassigned user range so it does not clash with Mossy's own bridge or common dev servers.
pub const DEFAULT_PORT: u16 = 47820;

/// Number of stored updates in one room after which the room log is compacted into a single
/// snapshot. A keystroke is one update, so this is a few minutes of typing; replaying that many
/// small updates on load still takes only milliseconds, and compacting more often would rewrite
/// the whole document for little gain.
pub const COMPACT_AFTER_UPDATES: u64 = 2_000;
