//! The streaming parser: one line in, zero or more [`BuildEvent`]s out.
//!
//! The Papyrus compiler never says that a script compiled; it says when one failed. So a
//! script counts as compiled when the compiler moves on without a failure for it: with one
//! compile thread, when the next script starts; with N threads, when an (N+1)th script
//! starts while N are in flight (the oldest is taken as done); and at the end of the batch.
//!
//! Errors come on stderr and the rest on stdout, two pipes read side by side, so a line may
//! arrive before one that was printed earlier. The parser gives the same final state for any
//! such interleaving: a late failure turns a script that was taken as compiled into a failed
//! one, and a failure that arrives before its script's `Compiling` line is remembered and
//! applied when that line comes.

use std::collections::{HashSet, VecDeque};

use mossy_protocol::bridge::LogStream;

use super::BuildEvent;
use super::line::{PapyrusLine, diagnostic_line, papyrus_line};

/// Turns build output into [`BuildEvent`]s, line by line.
///
/// One parser serves one build; a new build gets a new parser, and so starts with no
/// scripts, errors or warnings. Plain log lines cost a few prefix and byte searches and no
/// allocation.
#[derive(Debug, Clone)]
pub struct PapyrusParser {
    /// Compile threads of the current batch; 1 until the compiler says otherwise.
    threads: usize,
    /// Scripts started and not yet known to be done, oldest first.
    in_flight: VecDeque<String>,
    /// Scripts that started in the current batch.
    started: HashSet<String>,
    /// Scripts reported failed before their `Compiling` line arrived (stderr ran ahead).
    failed_before_start: Vec<String>,
}

impl Default for PapyrusParser {
    fn default() -> Self {
        Self::new()
    }
}

impl PapyrusParser {
    /// A parser for a new build.
    pub fn new() -> Self {
        Self {
            threads: 1,
            in_flight: VecDeque::new(),
            started: HashSet::new(),
            failed_before_start: Vec::new(),
        }
    }

    /// Reads one line (without its line ending) that came on `stream`, pushing what it
    /// means onto `events`. A plain log line pushes nothing.
    pub fn feed(&mut self, stream: LogStream, line: &str, events: &mut Vec<BuildEvent>) {
        if let Some(papyrus) = papyrus_line(line) {
            self.papyrus(papyrus, events);
        } else if let Some(diagnostic) = diagnostic_line(stream, line) {
            events.push(BuildEvent::DiagnosticFound(diagnostic));
        }
    }

    /// Ends the build's output. Scripts still in flight compiled if the process succeeded;
    /// if it did not (it crashed, or was cancelled, before saying anything about them),
    /// they failed.
    pub fn finish(&mut self, process_succeeded: bool, events: &mut Vec<BuildEvent>) {
        if process_succeeded {
            self.all_in_flight_succeeded(events);
        } else {
            events.extend(
                self.in_flight
                    .drain(..)
                    .map(|name| BuildEvent::ScriptFailed { name }),
            );
        }
        self.started.clear();
        self.failed_before_start.clear();
    }

    fn papyrus(&mut self, line: PapyrusLine<'_>, events: &mut Vec<BuildEvent>) {
        match line {
            PapyrusLine::BatchStarted { threads, files } => {
                self.all_in_flight_succeeded(events);
                // Early failures stay: stderr may have run ahead of this very line.
                self.started.clear();
                self.threads = usize::try_from(threads).unwrap_or(usize::MAX).max(1);
                events.push(BuildEvent::BatchStarted { threads, files });
            }
            PapyrusLine::Compiling(name) => self.script_started(name, events),
            PapyrusLine::NoOutput(name) => self.script_failed(name, events),
            PapyrusLine::BatchFinished(summary) => {
                self.all_in_flight_succeeded(events);
                events.push(BuildEvent::BatchFinished(summary));
            }
        }
    }

    fn script_started(&mut self, name: &str, events: &mut Vec<BuildEvent>) {
        self.started.insert(name.to_owned());
        if let Some(early) = self
            .failed_before_start
            .iter()
            .position(|failed| failed == name)
        {
            let name = self.failed_before_start.swap_remove(early);
            events.push(BuildEvent::ScriptStarted { name: name.clone() });
            events.push(BuildEvent::ScriptFailed { name });
            return;
        }
        if self.in_flight.len() >= self.threads
            && let Some(done) = self.in_flight.pop_front()
        {
            events.push(BuildEvent::ScriptSucceeded { name: done });
        }
        events.push(BuildEvent::ScriptStarted {
            name: name.to_owned(),
        });
        self.in_flight.push_back(name.to_owned());
    }

    fn script_failed(&mut self, name: &str, events: &mut Vec<BuildEvent>) {
        if let Some(index) = self.in_flight.iter().position(|running| running == name) {
            self.in_flight.remove(index);
        } else if !self.started.contains(name) {
            // Its `Compiling` line is still on the way (or never comes); remember the
            // failure so that line does not reopen the script.
            self.failed_before_start.push(name.to_owned());
        }
        events.push(BuildEvent::ScriptFailed {
            name: name.to_owned(),
        });
    }

    fn all_in_flight_succeeded(&mut self, events: &mut Vec<BuildEvent>) {
        events.extend(
            self.in_flight
                .drain(..)
                .map(|name| BuildEvent::ScriptSucceeded { name }),
        );
    }
}

#[cfg(test)]
mod tests {
    use mossy_protocol::build::CompilerSummary;

    use super::*;

    fn parse(lines: &[(LogStream, &str)], process_succeeded: bool) -> Vec<BuildEvent> {
        let mut parser = PapyrusParser::new();
        let mut events = Vec::new();
        for (stream, line) in lines {
            parser.feed(*stream, line, &mut events);
        }
        parser.finish(process_succeeded, &mut events);
        events
    }

    fn started(name: &str) -> BuildEvent {
        BuildEvent::ScriptStarted {
            name: name.to_owned(),
        }
    }

    fn succeeded(name: &str) -> BuildEvent {
        BuildEvent::ScriptSucceeded {
            name: name.to_owned(),
        }
    }

    fn failed(name: &str) -> BuildEvent {
        BuildEvent::ScriptFailed {
            name: name.to_owned(),
        }
    }

    #[test]
    fn with_several_threads_the_oldest_script_is_done_when_one_too_many_runs() {
        use LogStream::Stdout;
        let events = parse(
            &[
                (Stdout, "Starting 2 compile threads for 3 files..."),
                (Stdout, "Compiling \"A\"..."),
                (Stdout, "Compiling \"B\"..."),
                (Stdout, "Compiling \"C\"..."),
                (
                    Stdout,
                    "Batch compile of 3 files finished. 3 succeeded, 0 failed.",
                ),
            ],
            true,
        );
        assert_eq!(
            events,
            [
                BuildEvent::BatchStarted {
                    threads: 2,
                    files: 3
                },
                started("A"),
                started("B"),
                succeeded("A"),
                started("C"),
                succeeded("B"),
                succeeded("C"),
                BuildEvent::BatchFinished(CompilerSummary {
                    files: 3,
                    succeeded: 3,
                    failed: 0
                }),
            ]
        );
    }

    // Guards against stderr running ahead: a failure read before its script's `Compiling`
    // line must not be forgotten when that line arrives.
    #[test]
    fn a_failure_read_before_its_start_still_counts() {
        use LogStream::{Stderr, Stdout};
        let events = parse(
            &[
                (Stderr, "No output generated for A, compilation failed."),
                (Stdout, "Compiling \"A\"..."),
                (Stdout, "Compiling \"B\"..."),
            ],
            true,
        );
        assert_eq!(
            events,
            [
                failed("A"),
                started("A"),
                failed("A"),
                started("B"),
                succeeded("B")
            ]
        );
    }

    #[test]
    fn scripts_still_running_when_a_process_fails_failed() {
        let events = parse(&[(LogStream::Stdout, "Compiling \"A\"...")], false);
        assert_eq!(events, [started("A"), failed("A")]);
    }

    #[test]
    fn plain_lines_give_no_events() {
        let events = parse(
            &[
                (
                    LogStream::Stdout,
                    "Papyrus Compiler Version 2.8.0.4 for Fallout 4",
                ),
                (LogStream::Stderr, ""),
            ],
            true,
        );
        assert_eq!(events, []);
    }
}
