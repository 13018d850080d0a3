//! The app's one event bus.
//!
//! Sources publish [`BusEvent`]s; every panel state subscribes. It is a tokio broadcast
//! channel: publishing never blocks a source, and a subscriber that falls more than
//! [`BUS_CAPACITY`] events behind is told how many it missed (`RecvError::Lagged`) instead
//! of slowing everyone down.

use mossy_protocol::bridge::BridgeMessage;
use mossy_protocol::ipc::{BridgeStatus, ToolId};
use tokio::sync::broadcast;

/// Events buffered per subscriber. A 1,000 messages/s bridge burst plus process events
/// fits several seconds of backlog; more would only hide a stuck subscriber.
pub const BUS_CAPACITY: usize = 8192;

/// Something that happened, published by a source.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BusEvent {
    /// The bridge connection changed state.
    BridgeStatusChanged(BridgeStatus),
    /// Mossy sent a message.
    BridgeMessageReceived {
        /// The decoded message.
        message: BridgeMessage,
        /// When the app received it, in Unix ms.
        received_at_ms: i64,
    },
    /// A tool's process appeared in the process list.
    ToolStarted(ToolProcess),
    /// A tool's process left the process list.
    ToolExited {
        /// The process that left.
        process: ToolProcess,
        /// When the poller noticed it gone, in Unix ms (the OS does not say when).
        noticed_at_ms: i64,
    },
    /// The operating system's crash reporter started for a running tool's process: Windows
    /// Error Reporting (`WerFault.exe -p <pid>`) holds a process that crashed or hung. The
    /// process usually stays in the list until the user closes the report.
    ToolCrashed {
        /// The tool process the report is about.
        process: ToolProcess,
        /// When the poller saw the reporter, in Unix ms.
        noticed_at_ms: i64,
    },
    /// The poller finished a poll in which some tool process started, exited or changed
    /// memory (and every ten polls regardless, so a lagging subscriber catches up).
    ToolsPolled {
        /// Every running tool process with its memory at this poll.
        running: Vec<ToolProcess>,
    },
}

/// A process that the tool table classified as a known tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolProcess {
    /// The tool it belongs to.
    pub tool: ToolId,
    /// Process id.
    pub pid: u32,
    /// Executable file name as found.
    pub exe: String,
    /// When the process started, in Unix ms, from the OS.
    pub started_at_ms: i64,
    /// Resident memory in bytes at the last poll.
    pub memory_bytes: u64,
}

/// The bus: a cheap handle, clone it freely.
#[derive(Debug, Clone)]
pub struct Bus {
    sender: broadcast::Sender<BusEvent>,
}

impl Default for Bus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus {
    /// A bus with [`BUS_CAPACITY`] events of backlog per subscriber.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BUS_CAPACITY);
        Self { sender }
    }

    /// Publishes an event to every current subscriber; with none, the event is dropped.
    pub fn publish(&self, event: BusEvent) {
        let _ = self.sender.send(event);
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.sender.subscribe()
    }
}
