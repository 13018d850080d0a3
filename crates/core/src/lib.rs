//! Mossy Live's logic, free of any window or Tauri type.
//!
//! The app is a pipeline. Sources — the bridge client ([`bridge`]), the process poller
//! ([`tools`]) — publish [`bus::BusEvent`]s on one [`bus::Bus`]. Panel states — the tool
//! monitor ([`tool_monitor`]) — subscribe to the bus, keep what they need (in SQLite where
//! it must survive a restart) and hand ready-to-render updates to the app shell, which
//! streams them to the frontend. Everything here is tested without a webview.

#![warn(missing_docs)]

pub mod bridge;
pub mod build;
pub mod bus;
pub mod clock;
pub mod diagnostics;
pub mod feed;
pub mod notices;
pub mod placements;
pub mod previews;
pub mod settings;
pub mod sim;
mod store;
pub mod tool_monitor;
pub mod tools;
