//! Payloads between the Rust backend and the WASM frontend.
//!
//! The backend streams updates to the frontend over one `tauri::ipc::Channel` per
//! subscription; each stream carries one of the `*Update` types below. Commands are named in
//! [`commands`] so the frontend never spells a command string itself. Errors cross as
//! [`IpcError`]: the UI branches on its [`ErrorCode`], never on the text.

use serde::{Deserialize, Serialize};

/// Names of the backend commands the frontend calls.
pub mod commands {
    /// Starts the tool monitor stream; takes `{ channel }`, returns a [`super::SubscriptionId`].
    pub const SUBSCRIBE_TOOL_MONITOR: &str = "subscribe_tool_monitor";
    /// Starts the bridge status stream; takes `{ channel }`, returns a [`super::SubscriptionId`].
    pub const SUBSCRIBE_BRIDGE: &str = "subscribe_bridge";
    /// Stops a stream; takes `{ id }`.
    pub const UNSUBSCRIBE: &str = "unsubscribe";
    /// Clears the activity feed; takes nothing.
    pub const CLEAR_FEED: &str = "clear_feed";
    /// Why the activity feed's history is not what the user expects (it was damaged and
    /// set aside, or it cannot be stored at all), or `null`; takes nothing.
    pub const FEED_NOTICE: &str = "feed_notice";
    /// Tells the backend the first frame with content was painted; takes nothing. The
    /// backend logs the time since the process started ("cold start to first paint").
    pub const REPORT_FIRST_PAINT: &str = "report_first_paint";
    /// Starts the Build panel stream; takes `{ channel }`, returns a [`super::SubscriptionId`].
    pub const SUBSCRIBE_BUILD: &str = "subscribe_build";
    /// Runs a build profile; takes `{ profile }` (its name), returns the new build's id.
    pub const BUILD_START: &str = "build_start";
    /// Cancels a running build or stops following a log; takes `{ id }`.
    pub const BUILD_CANCEL: &str = "build_cancel";
    /// Follows a log file as a build; takes `{ path }`, returns the new build's id.
    pub const BUILD_FOLLOW_LOG: &str = "build_follow_log";
    /// One build's view, running or from history; takes `{ id }`.
    pub const BUILD_VIEW: &str = "build_view";
    /// Log lines of a build; takes `{ id, start, count, problemsOnly }`, returns a log page.
    pub const BUILD_LOG_RANGE: &str = "build_log_range";
    /// The next line holding a text; takes `{ id, query, from, backwards }`, returns its
    /// 1-based number or null.
    pub const BUILD_SEARCH: &str = "build_search";
    /// Adds or replaces a build profile; takes `{ profile, replacing }` (the old name).
    pub const BUILD_SAVE_PROFILE: &str = "build_save_profile";
    /// Removes a build profile; takes `{ name }`.
    pub const BUILD_DELETE_PROFILE: &str = "build_delete_profile";
    /// Opens a file a diagnostic points at with the system's default program; takes
    /// `{ path }`. Only existing source and text files are opened.
    pub const OPEN_SOURCE_FILE: &str = "open_source_file";
    /// Shows the system's folder picker; takes nothing, returns the chosen absolute path or
    /// null when the user cancelled.
    pub const PICK_FOLDER: &str = "pick_folder";
    /// Shows the system's file picker; takes `{ filters }` (a list of [`super::FileFilter`]),
    /// returns the chosen absolute path or null when the user cancelled.
    pub const PICK_FILE: &str = "pick_file";
}

/// One entry of a file picker's type list, such as "Textures" with `dds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFilter {
    /// What the picker shows for it.
    pub name: String,
    /// Extensions without the dot.
    pub extensions: Vec<String>,
}

/// Identifies one stream so the frontend can stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriptionId(pub u64);

/// A modding tool's stable id from the tool table, such as `blender` or `creation-kit`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ToolId(pub String);

impl ToolId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the app learned about a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolSource {
    /// The app saw the process in the process list.
    ProcessList,
    /// Mossy reported it over the bridge.
    Mossy,
}

/// One running process of a tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInstance {
    /// Process id.
    pub pid: u32,
    /// The executable's file name, such as `OutfitStudio x64.exe`.
    pub exe: String,
    /// Resident memory in bytes.
    pub memory_bytes: u64,
    /// When the process started, in Unix milliseconds (from the OS, not when we noticed).
    pub started_at_ms: i64,
}

/// What the tool monitor knows about one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCard {
    /// Stable id from the tool table.
    pub id: ToolId,
    /// Display name, such as `Creation Kit`.
    pub name: String,
    /// Processes of this tool in the process list, oldest first.
    pub instances: Vec<ToolInstance>,
    /// When Mossy last reported this tool running, in Unix ms; `None` when it has not, or
    /// reported it exited since.
    pub reported_by_mossy_at_ms: Option<i64>,
}

impl ToolCard {
    /// True when the tool has a process or Mossy says it runs.
    pub fn is_running(&self) -> bool {
        !self.instances.is_empty() || self.reported_by_mossy_at_ms.is_some()
    }
}

/// What happened, in an activity feed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// A process started.
    Started,
    /// A process exited.
    Exited,
    /// Mossy reported the tool running.
    Reported,
    /// Mossy reported the tool exited.
    ReportedExited,
    /// The operating system's crash reporter (Windows Error Reporting) took hold of the
    /// process: it crashed or hung, and its unsaved work may be lost.
    Crashed,
}

impl FeedKind {
    /// Every kind.
    pub const ALL: [FeedKind; 5] = [
        FeedKind::Started,
        FeedKind::Exited,
        FeedKind::Reported,
        FeedKind::ReportedExited,
        FeedKind::Crashed,
    ];
}

/// One line of the tool monitor's activity feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// Row id in the feed store; newer entries have larger ids.
    pub id: i64,
    /// When it happened, in Unix milliseconds.
    pub at_ms: i64,
    /// What happened.
    pub kind: FeedKind,
    /// The tool's id; unknown tools reported by Mossy get an id derived from their name.
    pub tool: ToolId,
    /// The tool's display name.
    pub tool_name: String,
    /// Process id, when known.
    pub pid: Option<u32>,
    /// Executable file name, when known.
    pub exe: Option<String>,
}

/// One update of the tool monitor panel. The first update of a subscription has
/// `feed_reset` set and carries the stored feed; later ones carry only new entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolMonitorUpdate {
    /// Every known tool, in table order, then tools only Mossy knows.
    pub cards: Vec<ToolCard>,
    /// New feed entries, newest first.
    pub feed: Vec<FeedEntry>,
    /// When true the frontend drops its feed and takes `feed` as the whole feed.
    pub feed_reset: bool,
    /// Set once the feed could not be written to disk during this session: what went wrong
    /// and that new activity is kept in memory only. The window shows it above the feed.
    #[serde(default)]
    pub feed_notice: Option<String>,
}

/// The bridge connection as the badge shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum BridgeStatus {
    /// Trying to connect for the first time or right after a drop.
    Connecting {
        /// The bridge address.
        url: String,
    },
    /// Connected and receiving.
    Connected {
        /// The bridge address.
        url: String,
    },
    /// Waiting before the next attempt.
    Retrying {
        /// The bridge address.
        url: String,
        /// When the next attempt starts, in Unix ms.
        retry_at_ms: i64,
        /// Failed attempts in a row.
        attempt: u32,
        /// Why the last attempt failed, in words.
        reason: String,
    },
    /// The bridge is turned off in settings.
    Disabled,
}

/// Counters of what the bridge client received since the app started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeCounters {
    /// Frames parsed into a known message.
    pub accepted: u64,
    /// Frames with a `type` this version does not know.
    pub unknown: u64,
    /// Frames dropped as malformed, binary or too large.
    pub dropped: u64,
}

/// One update of the bridge badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeUpdate {
    /// The connection state.
    pub status: BridgeStatus,
    /// What was received so far.
    pub counters: BridgeCounters,
}

/// What kind of failure a command had; the UI branches on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The app's data store failed.
    Storage,
    /// The stream or item asked for does not exist.
    NotFound,
    /// The request cannot be carried out as given; the message says why.
    Invalid,
    /// Something unexpected; the message says what.
    Internal,
    /// A file changed on disk since it was opened; saving again with `overwrite` replaces it.
    ChangedOnDisk,
    /// The command needs the Mossy Live window (a native dialog, the clipboard, the updater)
    /// and the panel is embedded in Mossy's window.
    NotAvailable,
}

/// A command failure as the frontend receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// One short sentence for the user.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn every_ipc_enum_round_trips() {
        for source in [ToolSource::ProcessList, ToolSource::Mossy] {
            round_trip(&source);
        }
        for kind in FeedKind::ALL {
            round_trip(&kind);
        }
        round_trip(&FileFilter {
            name: "Textures".into(),
            extensions: vec!["dds".into(), "png".into()],
        });
        for code in [
            ErrorCode::Storage,
            ErrorCode::NotFound,
            ErrorCode::Internal,
            ErrorCode::ChangedOnDisk,
            ErrorCode::NotAvailable,
        ] {
            round_trip(&IpcError {
                code,
                message: "x".into(),
            });
        }
        for status in [
            BridgeStatus::Connecting {
                url: "ws://127.0.0.1:1/bridge".into(),
            },
            BridgeStatus::Connected {
                url: "ws://127.0.0.1:1/bridge".into(),
            },
            BridgeStatus::Retrying {
                url: "ws://127.0.0.1:1/bridge".into(),
                retry_at_ms: 5,
                attempt: 2,
                reason: "refused".into(),
            },
            BridgeStatus::Disabled,
        ] {
            round_trip(&BridgeUpdate {
                status,
                counters: BridgeCounters::default(),
            });
        }
    }

    #[test]
    fn tool_monitor_update_round_trips() {
        round_trip(&ToolMonitorUpdate {
            cards: vec![ToolCard {
                id: ToolId("blender".into()),
                name: "Blender".into(),
                instances: vec![ToolInstance {
                    pid: 4,
                    exe: "blender.exe".into(),
                    memory_bytes: 1 << 20,
                    started_at_ms: 1_700_000_000_000,
                }],
                reported_by_mossy_at_ms: None,
            }],
            feed: vec![FeedEntry {
                id: 1,
                at_ms: 1_700_000_000_000,
                kind: FeedKind::Started,
                tool: ToolId("blender".into()),
                tool_name: "Blender".into(),
                pid: Some(4),
                exe: Some("blender.exe".into()),
            }],
            feed_reset: true,
            feed_notice: Some("The activity history could not be saved.".into()),
        });
    }
}
