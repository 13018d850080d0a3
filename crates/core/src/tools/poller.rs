//! Finds running modding tools in the operating system's process list.
//!
//! [`ProcessPoller::poll_once`] refreshes the list through `sysinfo`, asking only for what
//! classification needs — the executable path once per process, resident memory, and the
//! command line only for the few processes that need it — never CPU time, environment or
//! threads. On Linux, where `sysinfo` reads several `/proc` files per process, a poll reads
//! only the processes that appeared or vanished (found by listing `/proc`), the tools
//! themselves and a small rotating slice of the rest.
//!
//! It classifies every process with the [`ToolTable`] (how a process is named is in the
//! `process_name` module) and diffs the result with the previous poll: a new pid is a
//! [`BusEvent::ToolStarted`], a vanished one a [`BusEvent::ToolExited`], and a pid whose
//! start time changed was reused, which is an exit followed by a start. When anything
//! changed, memory included, a [`BusEvent::ToolsPolled`] with every running tool process
//! follows; it also goes out every ten polls regardless, so a subscriber that missed events
//! catches up.
//!
//! A crash reporter naming a running tool's pid (see the `crash_reports` module) is a
//! [`BusEvent::ToolCrashed`], once per tool process, after that poll's other events.
//!
//! [`spawn_process_poller`] runs the poller on its own thread every [`POLL_INTERVAL`] and
//! publishes on the bus until its [`PollerHandle`] is dropped.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};
use tracing::{debug, info, trace, warn};

use super::ToolTable;
use super::crash_reports::{is_crash_reporter, reported_pid};
use super::process_name::{is_live_user_process, may_hold_tool_in_cmd, tool_process};
use crate::bus::{Bus, BusEvent, ToolProcess};
use crate::clock::now_ms;

/// How often the process list is read. Tools run for minutes to hours, so a start or exit
/// shown within a second is live to a modder, while one poll of a few hundred processes
/// costs under a millisecond of CPU (see BENCHMARKS.md): polling faster would only spend
/// CPU on a machine that is busy running Fallout 4 and its tools.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Processes younger than this, in seconds, get their executable path read again on each
/// poll. A process caught between `fork` and `exec` still shows its parent's executable,
/// and `sysinfo` otherwise reads the path only once per process; a few seconds covers the
/// window with a wide margin while keeping the extra reads to a handful per poll.
const RECHECK_EXE_YOUNGER_THAN_SECS: u64 = 3;

/// Every this many polls a [`BusEvent::ToolsPolled`] goes out even when nothing changed,
/// so a subscriber that fell behind the bus and missed an exit is corrected within ten
/// seconds; one small event per ten seconds costs nothing.
const RESYNC_EVERY_POLLS: u32 = 10;

/// On Linux, every process is read again, executable path included, once per this many
/// polls, one slice of the pids per poll, besides the new, vanished and tool processes read
/// on every poll. That catches what the cheap poll cannot see: a pid freed and handed to a
/// tool between two polls (the kernel would have to cycle through its whole pid range
/// within a second), and a launcher that replaced itself with a tool by `exec` after its
/// first few seconds. Once a minute bounds those rare delays; slicing keeps every poll
/// equally cheap.
#[cfg(target_os = "linux")]
const RECHECK_ALL_WITHIN_POLLS: u32 = 60;

/// Why the poller could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PollerError {
    /// The operating system's process list is not available.
    #[error("cannot read the process list: {0}")]
    ProcessList(#[source] sysinfo::Error),
    /// The poller thread could not be started.
    #[error("cannot start the process poller thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// Reads the process list and reports tool processes that started or exited since the
/// previous poll.
#[derive(Debug)]
pub struct ProcessPoller {
    table: Arc<ToolTable>,
    system: System,
    /// Tool processes at the previous poll, by pid.
    running: HashMap<u32, ToolProcess>,
    /// Processes (pid, start time in s) whose command line was already asked for.
    cmd_asked: HashSet<(Pid, u64)>,
    /// Tool processes (pid, start time in ms) already reported as crashed.
    crashed: HashSet<(u32, i64)>,
    /// Polls since the last [`BusEvent::ToolsPolled`].
    polls_since_published: u32,
    /// Polls so far, choosing the slice of pids read again (Linux).
    #[cfg(target_os = "linux")]
    polls: u32,
}

impl ProcessPoller {
    /// A poller that has not polled yet: its first poll reports every running tool as
    /// started, stamped with the time the OS says it started.
    pub fn new(table: Arc<ToolTable>) -> Result<Self, PollerError> {
        let system = System::new().map_err(PollerError::ProcessList)?;
        Ok(Self {
            table,
            system,
            running: HashMap::new(),
            cmd_asked: HashSet::new(),
            crashed: HashSet::new(),
            polls_since_published: 0,
            #[cfg(target_os = "linux")]
            polls: 0,
        })
    }

    /// Tool processes found by the last poll, oldest first.
    pub fn running(&self) -> Vec<ToolProcess> {
        sorted(self.running.values().cloned().collect())
    }

    /// Reads the process list once and returns what changed: exits first, then starts,
    /// oldest first, then a [`BusEvent::ToolsPolled`] if any of that or any tool's memory
    /// changed (and every ten polls regardless). Usually empty.
    pub fn poll_once(&mut self) -> Vec<BusEvent> {
        let began = Instant::now();
        let noticed_at_ms = now_ms();
        self.refresh();

        let mut current = HashMap::with_capacity(self.running.len());
        let mut needs_cmd = Vec::new();
        let mut new_reporters = Vec::new();
        for (pid, process) in self.system.processes() {
            if !is_live_user_process(process) {
                continue;
            }
            let asked = self.cmd_asked.contains(&(*pid, process.start_time()));
            match tool_process(&self.table, process) {
                Some(found) => {
                    current.insert(pid.as_u32(), found);
                }
                None if !asked && is_reporter_process(process) => new_reporters.push(*pid),
                None if !asked && may_hold_tool_in_cmd(process) => needs_cmd.push(*pid),
                None => {}
            }
        }
        if !needs_cmd.is_empty() {
            self.read_command_lines(&needs_cmd);
            for pid in &needs_cmd {
                if let Some(found) = self
                    .system
                    .process(*pid)
                    .and_then(|p| tool_process(&self.table, p))
                {
                    current.insert(pid.as_u32(), found);
                }
            }
        }

        let mut events = self.diff(current, noticed_at_ms);
        if !new_reporters.is_empty() {
            self.read_command_lines(&new_reporters);
            events.extend(self.crashes(&new_reporters, noticed_at_ms));
        }
        trace!(
            processes = self.system.processes().len(),
            tools = self.running.len(),
            events = events.len(),
            elapsed_us = began.elapsed().as_micros(),
            "process list polled"
        );
        events
    }

    /// Refreshes pids, memory and new processes' executables; then reads the executable
    /// path again for young processes (see [`RECHECK_EXE_YOUNGER_THAN_SECS`]) and, on Linux,
    /// for this poll's slice of the rest, since `sysinfo` otherwise keeps the first path it
    /// read even after the process replaced itself with `exec`.
    fn refresh(&mut self) {
        let base = ProcessRefreshKind::nothing().without_tasks().with_memory();
        let (which, mut recheck) = self.pids_to_refresh();
        let which = which
            .as_deref()
            .map_or(ProcessesToUpdate::All, ProcessesToUpdate::Some);
        self.system.refresh_processes_specifics(
            which,
            true,
            base.with_exe(UpdateKind::OnlyIfNotSet),
        );

        let now_s = u64::try_from(now_ms() / 1000).unwrap_or(0);
        recheck.extend(
            self.system
                .processes()
                .iter()
                .filter(|(_, process)| {
                    is_live_user_process(process)
                        && process
                            .start_time()
                            .saturating_add(RECHECK_EXE_YOUNGER_THAN_SECS)
                            >= now_s
                })
                .map(|(pid, _)| *pid),
        );
        if !recheck.is_empty() {
            self.system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&recheck),
                true,
                base.with_exe(UpdateKind::Always),
            );
        }

        let processes = self.system.processes();
        self.cmd_asked.retain(|(pid, start)| {
            processes
                .get(pid)
                .is_some_and(|process| process.start_time() == *start)
        });
    }

    /// The processes to read this poll, and those to read with their executable path again.
    ///
    /// On Linux: those that appeared or vanished since the last poll, found by listing
    /// `/proc`, and the tool processes, whose memory and start time matter; plus one slice
    /// of the rest to read again (see [`RECHECK_ALL_WITHIN_POLLS`]). Reading every process's
    /// files costs a few milliseconds for 300 processes; listing the folder costs almost
    /// nothing. `None` means read them all: on the first poll, or when `/proc` cannot be
    /// listed.
    #[cfg(target_os = "linux")]
    fn pids_to_refresh(&mut self) -> (Option<Vec<Pid>>, Vec<Pid>) {
        self.polls = self.polls.wrapping_add(1);
        if self.system.processes().is_empty() {
            return (None, Vec::new());
        }
        let Ok(folder) = std::fs::read_dir("/proc") else {
            return (None, Vec::new());
        };

        let listed: HashSet<Pid> = folder
            .filter_map(|entry| {
                entry
                    .ok()?
                    .file_name()
                    .to_str()?
                    .parse()
                    .ok()
                    .map(Pid::from_u32)
            })
            .collect();
        let known = self.system.processes();
        let mut changed: Vec<Pid> = listed
            .iter()
            .filter(|pid| !known.contains_key(pid))
            .copied()
            .collect();
        changed.extend(known.keys().filter(|pid| !listed.contains(pid)));
        changed.extend(self.running.keys().map(|pid| Pid::from_u32(*pid)));

        let slice = self.polls % RECHECK_ALL_WITHIN_POLLS;
        let recheck = known
            .keys()
            .filter(|pid| listed.contains(pid) && pid.as_u32() % RECHECK_ALL_WITHIN_POLLS == slice)
            .copied()
            .collect();
        (Some(changed), recheck)
    }

    /// Elsewhere read them all: Windows hands `sysinfo` the whole list in one system call.
    #[cfg(not(target_os = "linux"))]
    fn pids_to_refresh(&mut self) -> (Option<Vec<Pid>>, Vec<Pid>) {
        (None, Vec::new())
    }

    fn read_command_lines(&mut self, pids: &[Pid]) {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(pids),
            false,
            ProcessRefreshKind::nothing()
                .without_tasks()
                .with_memory()
                .with_cmd(UpdateKind::OnlyIfNotSet),
        );
        for pid in pids {
            if let Some(process) = self.system.process(*pid) {
                self.cmd_asked.insert((*pid, process.start_time()));
            }
        }
    }

    /// A [`BusEvent::ToolCrashed`] for each running tool that one of these new crash
    /// reporter processes names and that was not reported before.
    fn crashes(&mut self, reporters: &[Pid], noticed_at_ms: i64) -> Vec<BusEvent> {
        let mut events = Vec::new();
        for reporter in reporters {
            let Some(pid) = self
                .system
                .process(*reporter)
                .and_then(|process| reported_pid(process.cmd()))
            else {
                continue;
            };
            let Some(process) = self.running.get(&pid) else {
                debug!(pid, "a crash report about a process that is not a tool");
                continue;
            };
            if self.crashed.insert((pid, process.started_at_ms)) {
                info!(tool = process.tool.as_str(), pid, exe = %process.exe, "tool crashed");
                events.push(BusEvent::ToolCrashed {
                    process: process.clone(),
                    noticed_at_ms,
                });
            }
        }
        events
    }

    fn diff(&mut self, current: HashMap<u32, ToolProcess>, noticed_at_ms: i64) -> Vec<BusEvent> {
        let same_process = |a: &ToolProcess, b: &ToolProcess| {
            a.started_at_ms == b.started_at_ms && a.tool == b.tool && a.exe == b.exe
        };
        let exited = sorted(
            self.running
                .values()
                .filter(|old| {
                    !current
                        .get(&old.pid)
                        .is_some_and(|new| same_process(old, new))
                })
                .cloned()
                .collect(),
        );
        let started = sorted(
            current
                .values()
                .filter(|new| {
                    !self
                        .running
                        .get(&new.pid)
                        .is_some_and(|old| same_process(old, new))
                })
                .cloned()
                .collect(),
        );
        let changed = !exited.is_empty()
            || !started.is_empty()
            || current.values().any(|new| {
                self.running
                    .get(&new.pid)
                    .is_some_and(|old| old.memory_bytes != new.memory_bytes)
            });

        let mut events = Vec::with_capacity(exited.len() + started.len() + 1);
        for process in exited {
            let (tool, pid) = (process.tool.as_str(), process.pid);
            debug!(tool, pid, exe = %process.exe, "tool exited");
            events.push(BusEvent::ToolExited {
                process,
                noticed_at_ms,
            });
        }
        for process in started {
            let (tool, pid) = (process.tool.as_str(), process.pid);
            debug!(tool, pid, exe = %process.exe, "tool started");
            events.push(BusEvent::ToolStarted(process));
        }
        self.running = current;
        let running = &self.running;
        self.crashed.retain(|(pid, started_at_ms)| {
            running
                .get(pid)
                .is_some_and(|process| process.started_at_ms == *started_at_ms)
        });
        self.polls_since_published += 1;
        if changed || self.polls_since_published >= RESYNC_EVERY_POLLS {
            self.polls_since_published = 0;
            events.push(BusEvent::ToolsPolled {
                running: self.running(),
            });
        }
        events
    }
}

/// Stops the poller thread when dropped, within a poll's time.
#[derive(Debug)]
pub struct PollerHandle {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for PollerHandle {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread out of its wait at once.
        self.stop.take();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("process poller thread panicked");
        }
    }
}

/// Starts polling the process list on a dedicated thread, every [`POLL_INTERVAL`],
/// publishing what changed on `bus` until the returned handle is dropped.
pub fn spawn_process_poller(table: Arc<ToolTable>, bus: Bus) -> Result<PollerHandle, PollerError> {
    let mut poller = ProcessPoller::new(table)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = thread::Builder::new()
        .name("process-poller".into())
        .spawn(move || {
            info!(
                interval_ms = POLL_INTERVAL.as_millis(),
                "process poller started"
            );
            loop {
                for event in poller.poll_once() {
                    bus.publish(event);
                }
                match stopped.recv_timeout(POLL_INTERVAL) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            info!("process poller stopped");
        })
        .map_err(PollerError::Thread)?;
    Ok(PollerHandle {
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// True for Windows Error Reporting, by executable file name or process name.
fn is_reporter_process(process: &sysinfo::Process) -> bool {
    process
        .exe()
        .and_then(|exe| exe.file_name())
        .is_some_and(|name| is_crash_reporter(&name.to_string_lossy()))
        || is_crash_reporter(&process.name().to_string_lossy())
}

fn sorted(mut processes: Vec<ToolProcess>) -> Vec<ToolProcess> {
    processes.sort_by_key(|process| (process.started_at_ms, process.pid));
    processes
}

#[cfg(test)]
mod tests {
    use super::*;
    use mossy_protocol::ipc::ToolId;

    fn process(tool: &str, pid: u32, started_at_ms: i64, memory_bytes: u64) -> ToolProcess {
        ToolProcess {
            tool: ToolId(tool.into()),
            pid,
            exe: format!("{tool}.exe"),
            started_at_ms,
            memory_bytes,
        }
    }

    fn poller_with(running: &[ToolProcess]) -> ProcessPoller {
        let mut poller = ProcessPoller::new(Arc::new(ToolTable::builtin())).expect("process list");
        poller.running = running.iter().map(|p| (p.pid, p.clone())).collect();
        poller
    }

    fn by_pid(processes: &[ToolProcess]) -> HashMap<u32, ToolProcess> {
        processes.iter().map(|p| (p.pid, p.clone())).collect()
    }

    #[test]
    fn diff_reports_exits_then_starts_then_the_running_list() {
        let kept = process("blender", 10, 1_000, 5);
        let gone = process("xedit", 11, 2_000, 5);
        let new = process("mo2", 12, 3_000, 5);
        let mut poller = poller_with(&[kept.clone(), gone.clone()]);
        let events = poller.diff(by_pid(&[kept.clone(), new.clone()]), 9_000);
        assert_eq!(
            events,
            [
                BusEvent::ToolExited {
                    process: gone,
                    noticed_at_ms: 9_000
                },
                BusEvent::ToolStarted(new.clone()),
                BusEvent::ToolsPolled {
                    running: vec![kept, new]
                },
            ]
        );
    }

    // Guards against a reused pid hiding that one tool exited and another started.
    #[test]
    fn diff_treats_a_reused_pid_as_exit_and_start() {
        let old = process("blender", 10, 1_000, 5);
        let reused = process("blender", 10, 4_000, 7);
        let mut poller = poller_with(std::slice::from_ref(&old));
        let events = poller.diff(by_pid(std::slice::from_ref(&reused)), 9_000);
        assert_eq!(
            events,
            [
                BusEvent::ToolExited {
                    process: old,
                    noticed_at_ms: 9_000
                },
                BusEvent::ToolStarted(reused.clone()),
                BusEvent::ToolsPolled {
                    running: vec![reused]
                },
            ]
        );
    }

    #[test]
    fn diff_reports_memory_changes_and_nothing_when_nothing_changed() {
        let before = process("blender", 10, 1_000, 5);
        let after = process("blender", 10, 1_000, 9);
        let mut poller = poller_with(std::slice::from_ref(&before));
        assert_eq!(
            poller.diff(by_pid(std::slice::from_ref(&before)), 9_000),
            []
        );
        assert_eq!(
            poller.diff(by_pid(std::slice::from_ref(&after)), 9_500),
            [BusEvent::ToolsPolled {
                running: vec![after]
            }]
        );
    }

    #[test]
    fn handle_drop_stops_the_thread_without_waiting_a_poll_interval() {
        let handle = spawn_process_poller(Arc::new(ToolTable::builtin()), Bus::new())
            .expect("poller starts");
        thread::sleep(Duration::from_millis(50));
        let began = Instant::now();
        drop(handle);
        assert!(
            began.elapsed() < POLL_INTERVAL / 2,
            "drop took {:?}",
            began.elapsed()
        );
    }
}
