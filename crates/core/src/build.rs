//! Builds: running a compiler or any command, reading its output, and making sense of it.
//!
//! Three stages, each usable alone:
//!
//! 1. [`runner`] starts a [`BuildProfile`] as a child process — never through a shell — and
//!    hands its stdout and stderr to a [`BuildSink`] line by line, each line stamped and
//!    tagged with its stream, the raw bytes alongside for storage. It cancels the whole
//!    process tree and records how the process ended as a [`BuildOutcome`].
//! 2. [`PapyrusParser`] turns `(stream, line)` pairs into [`BuildEvent`]s: the Papyrus
//!    compiler's batches and scripts, and errors and warnings in the forms most tools print.
//!    It is a small state machine that allocates only for lines that mean something.
//! 3. [`BuildState`] folds events into the [`BuildSnapshot`] the Build panel shows.
//!
//! [`BuildTracker`] joins stages 2 and 3 for the common case. A new build gets a new
//! tracker, so it starts with empty error and warning lists.

pub mod center;
mod follow;
pub mod history;
mod line;
mod log;
mod output;
mod parser;
mod process;
pub mod runner;
mod state;
mod supervisor;

use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::{BuildSnapshot, CompilerSummary, Diagnostic};

pub use center::{BuildCenter, BuildCenterConfig, BuildSubscription, CenterError};
pub use history::{BuildHistory, HISTORY_KEEP, HISTORY_LOG_CAP, HistoryError, StoredBuild};
pub use log::LogBuffer;
pub use mossy_protocol::build::{BuildOutcome, BuildProfile, LogLine};
pub use parser::PapyrusParser;
pub use runner::{
    BuildRunner, BuildSink, CANCEL_GRACE, CancelHandle, DISPLAY_LINE_CAP, DRAIN_GRACE,
    RunningBuild, StartError,
};
pub use state::BuildState;

/// Something a build's output said.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildEvent {
    /// The Papyrus compiler announced a batch (`Starting N compile threads for M files...`).
    BatchStarted {
        /// Compile threads.
        threads: u32,
        /// Files it will compile; the denominator of the progress bar.
        files: u32,
    },
    /// The compiler started a script (`Compiling "Name"...`).
    ScriptStarted {
        /// The script's name, namespace included.
        name: String,
    },
    /// A script compiled: the compiler moved on, or ended the batch, without a failure
    /// for it.
    ScriptSucceeded {
        /// The script's name.
        name: String,
    },
    /// A script failed (`No output generated for Name, compilation failed.`). It may come
    /// after a [`BuildEvent::ScriptSucceeded`] for the same script when stderr lagged
    /// behind stdout; the failure is the truth.
    ScriptFailed {
        /// The script's name.
        name: String,
    },
    /// An error or warning.
    DiagnosticFound(Diagnostic),
    /// The compiler ended a batch and counted its results.
    BatchFinished(CompilerSummary),
}

/// A parser and a state together: feed it lines, read the snapshot.
#[derive(Debug, Clone, Default)]
pub struct BuildTracker {
    parser: PapyrusParser,
    state: BuildState,
    events: Vec<BuildEvent>,
}

impl BuildTracker {
    /// A tracker for a new build: no scripts, no errors, no warnings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one line and returns what it meant, already applied to the snapshot.
    pub fn feed(&mut self, stream: LogStream, line: &str) -> &[BuildEvent] {
        self.events.clear();
        self.parser.feed(stream, line, &mut self.events);
        self.apply_events()
    }

    /// Like [`BuildTracker::feed`] for line `number` of a log: diagnostics found in it
    /// remember the number, so the panel can scroll to the line.
    pub fn feed_numbered(&mut self, number: u64, stream: LogStream, line: &str) -> &[BuildEvent] {
        self.events.clear();
        self.parser.feed(stream, line, &mut self.events);
        for event in &mut self.events {
            if let BuildEvent::DiagnosticFound(diagnostic) = event {
                diagnostic.log_line = Some(number);
            }
        }
        self.apply_events()
    }

    /// Ends the output (see [`PapyrusParser::finish`]) and returns the last events.
    pub fn finish(&mut self, process_succeeded: bool) -> &[BuildEvent] {
        self.events.clear();
        self.parser.finish(process_succeeded, &mut self.events);
        self.apply_events()
    }

    /// What the Build panel shows now.
    pub fn snapshot(&self) -> &BuildSnapshot {
        self.state.snapshot()
    }

    fn apply_events(&mut self) -> &[BuildEvent] {
        for event in &self.events {
            self.state.apply(event);
        }
        &self.events
    }
}
