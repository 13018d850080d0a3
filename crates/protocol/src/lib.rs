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

pub mod assets;
pub mod bridge;
pub mod build;
pub mod editor;
// Panels served to Mossy's own window over loopback HTTP, with a WebSocket for IPC.
pub mod embed;
pub mod ipc;
pub mod panel;
pub mod previews;
pub mod settings;
pub mod updates;

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    /// Serializes `value` to JSON and back, and checks nothing changed on the way.
    pub(crate) fn round_trip<T>(value: &T)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        let text = serde_json::to_string(value).expect("serializes");
        let back: T = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(&back, value, "round trip through {text}");
    }
}
