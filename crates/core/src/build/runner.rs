//! Running a build profile as a child process and reading what it prints.
//!
//! [`BuildRunner::start`] spawns the profile's program directly (no shell: the arguments
//! reach it as listed), in a process group of its own, with stdin closed. One task then
//! reads stdout and stderr side by side as bytes arrive, cuts them into lines and hands each
//! line to the [`BuildSink`] stamped with the time and tagged with its stream; the same task
//! watches for the process to exit and for a cancel. The sink also receives every raw byte,
//! so a store can keep the output exactly, while display lines are capped at
//! [`DISPLAY_LINE_CAP`].
//!
//! A build always ends with a [`BuildOutcome`], including when the program cannot start
//! (the outcome says why and the build counts as failed) and when it crashes or is killed.

use std::io;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mossy_protocol::bridge::{BuildResult, LogStream};
use mossy_protocol::build::{BuildOutcome, BuildProfile, LogLine, ProcessEnd};
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::process;
use super::supervisor::Supervisor;
use crate::clock::now_ms;

/// Most bytes of one line kept for display. Compiler lines are under 1 KiB; 64 KiB still
/// shows a long generated line whole, while a runaway 10 MB line costs 64 KiB, not 10 MB.
pub const DISPLAY_LINE_CAP: usize = 64 * 1024;

/// Bytes read from a pipe at a time: the Linux pipe buffer size, so one read usually
/// empties the pipe.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// How long a cancelled build may take to stop after SIGTERM before its group gets SIGKILL.
/// Compilers stop within milliseconds; two seconds lets one remove a half-written file.
pub const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// How long output is still read after the process exited while something it started holds
/// the pipes open. Buffered output arrives within milliseconds; a helper that is still
/// running after half a second is not going to finish the build's output.
pub const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Where a running build's output goes. Called on the build's reading task, in arrival
/// order; a slow sink slows the reading and, through the full pipe, the program itself.
pub trait BuildSink: Send + 'static {
    /// One complete line, ready to show.
    fn line(&mut self, line: LogLine);

    /// Raw bytes of `stream` as read, line endings and all, before any cap or decoding.
    /// Chunks of one stream come in order; chunks of the two streams interleave as read.
    fn bytes(&mut self, stream: LogStream, chunk: &[u8]) {
        let _ = (stream, chunk);
    }
}

impl<F> BuildSink for F
where
    F: FnMut(LogLine) + Send + 'static,
{
    fn line(&mut self, line: LogLine) {
        self(line);
    }
}

/// Why a build's program did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// No such program (or a bare name not found on `PATH`).
    #[error("program not found: {program}")]
    ProgramNotFound {
        /// The program as the profile names it.
        program: String,
    },
    /// The file exists but may not be run.
    #[error("program is not executable: {program}")]
    NotExecutable {
        /// The program as the profile names it.
        program: String,
    },
    /// The profile's working folder does not exist.
    #[error("working folder not found: {folder}")]
    WorkingFolderMissing {
        /// The folder as the profile names it.
        folder: String,
    },
    /// Starting failed for another reason.
    #[error("could not start {program}: {source}")]
    Spawn {
        /// The program as the profile names it.
        program: String,
        /// What the OS said.
        source: io::Error,
    },
}

/// Starts builds. The fields are limits; [`BuildRunner::default`] uses the named constants.
#[derive(Debug, Clone, Copy)]
pub struct BuildRunner {
    /// Most bytes of a line kept for display.
    pub line_cap: usize,
    /// Time between SIGTERM and SIGKILL on cancel.
    pub cancel_grace: Duration,
    /// Time output is still read after the process exited.
    pub drain_grace: Duration,
}

impl Default for BuildRunner {
    fn default() -> Self {
        Self {
            line_cap: DISPLAY_LINE_CAP,
            cancel_grace: CANCEL_GRACE,
            drain_grace: DRAIN_GRACE,
        }
    }
}

impl BuildRunner {
    /// A runner with the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `profile`, sending its output to `sink`. Must be called inside a tokio
    /// runtime. It does not fail: a program that cannot start gives a build whose outcome
    /// is failed with the reason.
    pub fn start(&self, profile: &BuildProfile, sink: impl BuildSink) -> RunningBuild {
        let started = Instant::now();
        let started_at_ms = now_ms();
        let (cancel, cancelled) = watch::channel(false);
        let cancel = CancelHandle(Arc::new(cancel));

        let child = match spawn(profile) {
            Ok(child) => child,
            Err(error) => {
                warn!(
                    build = %profile.name,
                    program = %profile.program,
                    %error,
                    "build did not start"
                );
                let reason = error.to_string();
                let outcome = BuildOutcome {
                    result: BuildResult::Failed,
                    end: ProcessEnd::NotStarted {
                        reason: reason.clone(),
                    },
                    started_at_ms,
                    duration_ms: elapsed_ms(started),
                    reason: Some(reason),
                    stdout_lines: 0,
                    stderr_lines: 0,
                };
                return RunningBuild {
                    pid: None,
                    started_at_ms,
                    cancel,
                    run: Run::NotStarted(outcome),
                };
            }
        };
        let pid = child.id();
        info!(build = %profile.name, program = %profile.program, pid, "build started");

        let supervisor = Supervisor {
            limits: *self,
            name: profile.name.clone(),
            started,
            started_at_ms,
        };
        let task = tokio::spawn(supervisor.run(child, sink, cancelled));
        RunningBuild {
            pid,
            started_at_ms,
            cancel,
            run: Run::Started(task),
        }
    }
}

/// A build that was started. Dropping it (or the future of [`RunningBuild::wait`]) cancels
/// the build unless a [`CancelHandle`] is still held.
#[derive(Debug)]
pub struct RunningBuild {
    pid: Option<u32>,
    started_at_ms: i64,
    cancel: CancelHandle,
    run: Run,
}

#[derive(Debug)]
enum Run {
    Started(JoinHandle<BuildOutcome>),
    NotStarted(BuildOutcome),
}

impl RunningBuild {
    /// The program's process id; `None` when it did not start.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Ends the build and everything it started; [`RunningBuild::wait`] then reports it
    /// cancelled. Does nothing once the process has exited.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A handle that can cancel the build from elsewhere while another task waits for it.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Waits until the process is gone and its output read, and says how it ended.
    pub async fn wait(self) -> BuildOutcome {
        let Self {
            cancel,
            run,
            started_at_ms,
            ..
        } = self;
        let task = match run {
            Run::NotStarted(outcome) => return outcome,
            Run::Started(task) => task,
        };
        // Held until the task ends: dropping the last handle would cancel the build.
        let joined = task.await;
        drop(cancel);
        match joined {
            Ok(outcome) => outcome,
            Err(error) => {
                warn!(%error, "build task stopped");
                BuildOutcome {
                    result: BuildResult::Failed,
                    end: ProcessEnd::Lost {
                        reason: format!("the build task stopped: {error}"),
                    },
                    started_at_ms,
                    duration_ms: 0,
                    reason: Some("the app lost track of the build".to_owned()),
                    stdout_lines: 0,
                    stderr_lines: 0,
                }
            }
        }
    }
}

/// Cancels a build from anywhere; clone it freely.
#[derive(Debug, Clone)]
pub struct CancelHandle(Arc<watch::Sender<bool>>);

impl CancelHandle {
    /// Asks the build to end (see [`RunningBuild::cancel`]).
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

/// Starts the program of `profile` with piped output, in its own process group.
fn spawn(profile: &BuildProfile) -> Result<Child, StartError> {
    let mut command = Command::new(&profile.program);
    command
        .args(&profile.args)
        .envs(&profile.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(folder) = &profile.working_dir {
        if !Path::new(folder).is_dir() {
            return Err(StartError::WorkingFolderMissing {
                folder: folder.clone(),
            });
        }
        command.current_dir(folder);
    }
    process::own_group(&mut command);

    command.spawn().map_err(|source| {
        let program = profile.program.clone();
        match source.kind() {
            io::ErrorKind::NotFound => StartError::ProgramNotFound { program },
            io::ErrorKind::PermissionDenied => StartError::NotExecutable { program },
            _ => StartError::Spawn { program, source },
        }
    })
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
