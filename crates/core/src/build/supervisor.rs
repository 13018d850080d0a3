//! The task that owns a running build: reads both pipes, waits for the exit, handles cancel.
//!
//! One task does all of it with `tokio::select!`, so the sink is called from one place and
//! needs no lock, and lines keep the order in which their last bytes were read. The loop
//! ends when the process has exited and both pipes are closed. Two things can keep a pipe
//! open after the exit — something the build started still holding it, or a helper that
//! left the process group — so after the exit the loop waits at most [`DRAIN_GRACE`]
//! before killing the group, and as long again before it stops reading.
//!
//! [`DRAIN_GRACE`]: super::runner::DRAIN_GRACE

use std::io;
use std::process::ExitStatus;
use std::time::Instant;

use mossy_protocol::bridge::{BuildResult, LogStream};
use mossy_protocol::build::{BuildOutcome, LogLine, ProcessEnd};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;
use tokio::sync::watch;
use tokio::time::sleep_until;
use tracing::{info, warn};

use super::output::{AssembledLine, LineAssembler};
use super::process::{self, ProcessGroup};
use super::runner::{BuildRunner, BuildSink};
use crate::clock::now_ms;

/// Everything the build's task knows besides the child and its pipes.
#[derive(Debug)]
pub(crate) struct Supervisor {
    /// The limits it runs under.
    pub limits: BuildRunner,
    /// The profile's name, for logs.
    pub name: String,
    /// When the build started.
    pub started: Instant,
    /// When the build started, in Unix ms.
    pub started_at_ms: i64,
}

/// What the loop waits for besides output and the exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    /// Cancel grace over: kill the group.
    Kill,
    /// The process exited but the pipes stay open: kill the group.
    StopDraining,
    /// Killed and the pipes still stay open: stop reading.
    Abandon,
}

/// Lines so far, for numbering and the outcome.
#[derive(Debug, Default)]
struct LineCount {
    stdout: u64,
    stderr: u64,
}

impl LineCount {
    /// Counts a line of `stream` and returns its number in the whole output.
    fn next(&mut self, stream: LogStream) -> u64 {
        match stream {
            LogStream::Stdout => self.stdout += 1,
            LogStream::Stderr => self.stderr += 1,
        }
        self.stdout + self.stderr
    }
}

impl Supervisor {
    /// Runs the build to its end and says how it ended.
    pub(crate) async fn run(
        self,
        mut child: Child,
        mut sink: impl BuildSink,
        mut cancel: watch::Receiver<bool>,
    ) -> BuildOutcome {
        let group = ProcessGroup::of(&child);
        let mut stdout = Pipe::new(LogStream::Stdout, child.stdout.take(), self.limits.line_cap);
        let mut stderr = Pipe::new(LogStream::Stderr, child.stderr.take(), self.limits.line_cap);
        let mut lines = LineCount::default();
        let mut status: Option<io::Result<ExitStatus>> = None;
        let mut cancelled = false;
        let mut deadline: Option<(tokio::time::Instant, Deadline)> = None;

        while status.is_none() || stdout.is_open() || stderr.is_open() {
            let deadline_at = deadline.map_or_else(tokio::time::Instant::now, |(at, _)| at);
            tokio::select! {
                read = stdout.read(), if stdout.is_open() => {
                    stdout.take(read, &mut sink, &mut lines);
                }
                read = stderr.read(), if stderr.is_open() => {
                    stderr.take(read, &mut sink, &mut lines);
                }
                exit = child.wait(), if status.is_none() => {
                    status = Some(exit);
                    deadline = Some((from_now(self.limits.drain_grace), Deadline::StopDraining));
                }
                changed = cancel.changed(), if !cancelled && status.is_none() => {
                    // A closed channel means every handle was dropped: nobody wants the build.
                    if changed.is_err() || *cancel.borrow() {
                        info!(build = %self.name, "cancelling build");
                        cancelled = true;
                        group.terminate(&mut child);
                        deadline = Some((from_now(self.limits.cancel_grace), Deadline::Kill));
                    }
                }
                () = sleep_until(deadline_at), if deadline.is_some() => {
                    match deadline.map(|(_, what)| what) {
                        Some(Deadline::Kill) => {
                            group.kill(&mut child);
                            deadline = None;
                        }
                        Some(Deadline::StopDraining) => {
                            warn!(build = %self.name, "pipes open after exit; killing group");
                            group.kill(&mut child);
                            deadline =
                                Some((from_now(self.limits.drain_grace), Deadline::Abandon));
                        }
                        Some(Deadline::Abandon) | None => break,
                    }
                }
                // Not reached: after the exit a deadline is always set. Kept so the loop
                // can never spin or panic on a state with nothing to wait for.
                else => break,
            }
        }
        stdout.close(&mut sink, &mut lines);
        stderr.close(&mut sink, &mut lines);
        drop(group);

        self.outcome(status, cancelled, lines)
    }

    fn outcome(
        &self,
        status: Option<io::Result<ExitStatus>>,
        cancelled: bool,
        lines: LineCount,
    ) -> BuildOutcome {
        let end = match status {
            Some(Ok(status)) => process::process_end(status),
            Some(Err(error)) => ProcessEnd::Lost {
                reason: format!("waiting failed: {error}"),
            },
            None => ProcessEnd::Lost {
                reason: "the process did not exit".to_owned(),
            },
        };
        let result = if cancelled {
            BuildResult::Cancelled
        } else if end == (ProcessEnd::Exited { code: 0 }) {
            BuildResult::Succeeded
        } else {
            BuildResult::Failed
        };
        let reason = match result {
            BuildResult::Succeeded => None,
            BuildResult::Cancelled => Some("cancelled".to_owned()),
            BuildResult::Failed => Some(process::describe(&end)),
        };
        let duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        info!(
            build = %self.name,
            ?result,
            ?end,
            duration_ms,
            stdout_lines = lines.stdout,
            stderr_lines = lines.stderr,
            "build ended"
        );
        BuildOutcome {
            result,
            end,
            started_at_ms: self.started_at_ms,
            duration_ms,
            reason,
            stdout_lines: lines.stdout,
            stderr_lines: lines.stderr,
        }
    }
}

/// The moment `wait` from now.
fn from_now(wait: std::time::Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + wait
}

/// One of the child's output pipes and the line being assembled from it.
struct Pipe<R> {
    stream: LogStream,
    reader: Option<R>,
    buffer: Box<[u8]>,
    assembler: LineAssembler,
}

impl<R: AsyncRead + Unpin> Pipe<R> {
    fn new(stream: LogStream, reader: Option<R>, line_cap: usize) -> Self {
        Self {
            stream,
            reader,
            buffer: vec![0; super::runner::READ_CHUNK].into_boxed_slice(),
            assembler: LineAssembler::new(line_cap),
        }
    }

    fn is_open(&self) -> bool {
        self.reader.is_some()
    }

    /// Reads the next chunk; cancel-safe, so it can lose a `select!` without losing bytes.
    async fn read(&mut self) -> io::Result<usize> {
        match &mut self.reader {
            Some(reader) => reader.read(&mut self.buffer).await,
            None => Ok(0),
        }
    }

    /// Hands a chunk to the sink and its complete lines to the sink as lines.
    fn take(&mut self, read: io::Result<usize>, sink: &mut impl BuildSink, lines: &mut LineCount) {
        let count = match read {
            Ok(0) => return self.close(sink, lines),
            Ok(count) => count,
            Err(error) => {
                warn!(stream = ?self.stream, %error, "reading build output failed");
                return self.close(sink, lines);
            }
        };
        let chunk = &self.buffer[..count];
        sink.bytes(self.stream, chunk);
        let stream = self.stream;
        self.assembler
            .push(chunk, |line| deliver(stream, line, sink, lines));
    }

    /// Stops reading and delivers a last line that had no line ending.
    fn close(&mut self, sink: &mut impl BuildSink, lines: &mut LineCount) {
        self.reader = None;
        if let Some(line) = self.assembler.finish() {
            deliver(self.stream, line, sink, lines);
        }
    }
}

fn deliver(
    stream: LogStream,
    line: AssembledLine,
    sink: &mut impl BuildSink,
    lines: &mut LineCount,
) {
    sink.line(LogLine {
        number: lines.next(stream),
        at_ms: now_ms(),
        stream,
        text: line.text,
        lossy: line.lossy,
        truncated: line.truncated,
        byte_len: line.byte_len,
    });
}
