//! What the Editor panel and the backend say to each other: the hub to join, and local files
//! opened into a shared document and saved back.
//!
//! The shared text itself never crosses IPC: the webview's editor talks to the collaboration
//! hub directly over WebSocket (the y-websocket wire format). IPC only carries the settings for
//! that connection ([`EditorConfig`]) and whole files ([`OpenedFile`]), with a [`DiskStamp`]
//! so a save can tell when the file changed on disk since it was opened.

use serde::{Deserialize, Serialize};

/// Names of the Editor panel's backend commands.
pub mod commands {
    /// The hub to join and as whom; takes nothing, returns a [`super::EditorConfig`].
    pub const EDITOR_CONFIG: &str = "editor_config";
    /// Reads a local text file; takes `{ path }`, returns an [`super::OpenedFile`].
    pub const EDITOR_OPEN_FILE: &str = "editor_open_file";
    /// Writes a local text file atomically; takes `{ path, text, diskStamp, overwrite }` and
    /// returns the new [`super::DiskStamp`]. Without `overwrite` it fails with
    /// [`crate::ipc::ErrorCode::ChangedOnDisk`] when the file is no longer the one opened.
    pub const EDITOR_SAVE_FILE: &str = "editor_save_file";
}

/// Colours given to editors, as `#rrggbb`. The stylesheet has a class per entry
/// (`peer-colour-N`), so a colour never has to be written into an inline style.
pub const PEER_COLOURS: [&str; 8] = [
    "#e06c6c", "#e5b454", "#7bc47f", "#6fb3e0", "#c792ea", "#f78c6c", "#4fd1c5", "#f06292",
];

/// The hub inside the app, as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LocalHub {
    /// Listening on `addr`.
    Running {
        /// The address, such as `127.0.0.1:47820`.
        addr: String,
    },
    /// Not running; `reason` says why in words (for example, the port is taken).
    Off {
        /// Why the hub is not running.
        reason: String,
    },
    /// Not started because the settings name a team hub.
    NotNeeded,
}

/// Where the editor connects and how it shows its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditorConfig {
    /// WebSocket base address of the hub, such as `ws://127.0.0.1:47820`.
    pub hub_url: String,
    /// Token the hub asks for; empty when none.
    pub token: String,
    /// The name other editors see.
    pub display_name: String,
    /// This user's colour, one of [`PEER_COLOURS`].
    pub colour: String,
    /// The state of the hub inside the app.
    pub local_hub: LocalHub,
}

/// What a file on disk looked like when it was read or written: size, modification time and
/// a content hash. Two stamps that differ mean somebody else wrote the file in between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskStamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time in Unix milliseconds (0 when the file system does not say).
    pub modified_ms: i64,
    /// FNV-1a 64 of the bytes, as 16 hex digits (text, so it survives JavaScript numbers).
    pub hash: String,
}

/// A local file read for editing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenedFile {
    /// The file's path as given.
    pub path: String,
    /// Its text (UTF-8; a byte order mark is kept).
    pub text: String,
    /// The hub room this file is shared in, derived from its file name.
    pub room: String,
    /// What the file looked like when read.
    pub disk_stamp: DiskStamp,
}

/// Longest room name the hub accepts, in bytes.
pub const MAX_ROOM_NAME: usize = 128;

/// True when the hub accepts `name` as a room: 1 to [`MAX_ROOM_NAME`] ASCII letters, digits,
/// `-`, `_` or `.`, and no `..`. The hub checks with this same function, so the panel can say
/// what is wrong before connecting.
pub fn is_valid_room_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !name.is_empty()
        && name.len() <= MAX_ROOM_NAME
        && name.chars().all(allowed)
        && name != "."
        && !name.contains("..")
}

/// Index into [`PEER_COLOURS`] of the entry nearest to `colour` (`#rrggbb`); entry 0 when
/// `colour` is not in that form. Peers running other Yjs clients pick any colour; the panel
/// shows the nearest one it has a class for.
pub fn nearest_peer_colour(colour: &str) -> usize {
    let Some(target) = parse_hex(colour) else {
        return 0;
    };
    let distance =
        |rgb: [i32; 3]| -> i32 { rgb.iter().zip(target).map(|(a, b)| (a - b) * (a - b)).sum() };
    PEER_COLOURS
        .iter()
        .enumerate()
        .filter_map(|(i, c)| parse_hex(c).map(|rgb| (i, distance(rgb))))
        .min_by_key(|(_, d)| *d)
        .map_or(0, |(i, _)| i)
}

fn parse_hex(colour: &str) -> Option<[i32; 3]> {
    let hex = colour.strip_prefix('#')?;
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let channel = |at: usize| i32::from_str_radix(&hex[at..at + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn editor_types_round_trip() {
        for local_hub in [
            LocalHub::Running {
                addr: "127.0.0.1:47820".into(),
            },
            LocalHub::Off {
                reason: "port taken".into(),
            },
            LocalHub::NotNeeded,
        ] {
            round_trip(&EditorConfig {
                hub_url: "ws://127.0.0.1:47820".into(),
                token: String::new(),
                display_name: "Ada".into(),
                colour: PEER_COLOURS[2].into(),
                local_hub,
            });
        }
        round_trip(&OpenedFile {
            path: "/mods/a b#ü/Quest.psc".into(),
            text: "Scriptname Quest\n".into(),
            room: "Quest.psc".into(),
            disk_stamp: DiskStamp {
                size: 17,
                modified_ms: 1_700_000_000_000,
                hash: "00ff00ff00ff00ff".into(),
            },
        });
    }

    #[test]
    fn nearest_colour_picks_the_closest_palette_entry() {
        assert_eq!(nearest_peer_colour("#7bc47f"), 2);
        assert_eq!(nearest_peer_colour("#ff8800"), 1);
        assert_eq!(nearest_peer_colour("#0000ff"), 3);
        assert_eq!(nearest_peer_colour("red"), 0);
        assert_eq!(nearest_peer_colour("#ééé"), 0);
    }
}
