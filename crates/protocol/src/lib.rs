//! Types that cross a boundary in Mossy Live.
//!
//! Two boundaries exist: the bridge socket between Mossy and the app ([`bridge`]) and the
//! IPC channel between the Rust backend and the WASM frontend ([`ipc`]). Both sides of each
//! boundary compile this crate, so a field renamed here is renamed everywhere at once. The
//! crate depends on serde alone and builds for `wasm32-unknown-unknown` as well as native.
//!
//! Validation that can be expressed while deserializing lives here too (a percent outside
//! 0–100 is refused by [`bridge::Percent`]'s deserializer), so every reader of a frame gets
//! the same answer.

#![warn(missing_docs)]

pub mod bridge;
pub mod build;
pub mod ipc;
