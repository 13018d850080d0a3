//! The process poller against real processes.
//!
//! Copies of `/bin/sleep` stand in for the tools: the poller only looks at executable
//! names, start times and memory, so a harmless binary under a tool's name is enough. They
//! live in a folder whose path holds a space, `#` and a non-ASCII letter, as modders' folders
//! do. Every child is killed and reaped by a guard, also when an assertion fails.

#![cfg(target_os = "linux")]

use std::collections::HashSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mossy_core::bus::{Bus, BusEvent, ToolProcess};
use mossy_core::clock::now_ms;
use mossy_core::tools::{ProcessPoller, ToolTable, spawn_process_poller};
use mossy_protocol::ipc::ToolId;

/// Linux reports process times in ticks of this many per second (`USER_HZ`, fixed at 100 for
/// user space on every architecture Mossy Live builds for).
const TICKS_PER_SECOND: u64 = 100;

/// Longest wait for something the poller should see within a poll or two.
const WAIT: Duration = Duration::from_secs(10);

/// Pause between polls while waiting for a change.
const POLL_PAUSE: Duration = Duration::from_millis(100);

/// Child processes that are killed and reaped when the guard goes, whatever happened.
#[derive(Default)]
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Children {
    /// Starts `program` with `args`, keeping it in the guard, and returns its pid.
    fn start(&mut self, command: &mut Command) -> u32 {
        let child = mossy_tests::e2e::spawn_fresh_copy(command).expect("child starts");
        let pid = child.id();
        self.0.push(child);
        pid
    }

    /// Kills and reaps the child with this pid.
    fn stop(&mut self, pid: u32) {
        let child = self
            .0
            .iter_mut()
            .find(|child| child.id() == pid)
            .expect("our child");
        child.kill().expect("kill");
        child.wait().expect("reap");
    }
}

/// A folder like a modder's, with `/bin/sleep` copied in under each of `names`.
fn tool_folder(root: &Path, names: &[&str]) -> PathBuf {
    let folder = root.join("tmp").join("mods dir #1 ü");
    std::fs::create_dir_all(&folder).expect("folder");
    for name in names {
        std::fs::copy("/bin/sleep", folder.join(name)).expect("copy sleep");
    }
    folder
}

/// When the OS says the process started, in Unix ms, read from `/proc` the way the poller's
/// whole-second start times are made: boot time plus start ticks, in seconds.
fn proc_start_ms(pid: u32) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let after_name = &stat[stat.rfind(')').expect("name end") + 1..];
    // Fields after the name start at field 3 (state); the start time is field 22.
    let ticks: u64 = after_name
        .split_whitespace()
        .nth(22 - 3)
        .expect("field")
        .parse()
        .expect("ticks");
    let boot = std::fs::read_to_string("/proc/stat").expect("proc stat");
    let btime: u64 = boot
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .expect("btime")
        .trim()
        .parse()
        .expect("seconds");
    i64::try_from((btime + ticks / TICKS_PER_SECOND) * 1000).expect("fits")
}

fn tool_process(tool: &str, pid: u32, exe: &str, memory_bytes: u64) -> ToolProcess {
    ToolProcess {
        tool: ToolId(tool.into()),
        pid,
        exe: exe.into(),
        started_at_ms: proc_start_ms(pid),
        memory_bytes,
    }
}

/// Starts and exits among `events` that concern `pids`, in order; `ToolsPolled` left out.
fn changes_of(events: Vec<BusEvent>, pids: &HashSet<u32>) -> Vec<BusEvent> {
    events
        .into_iter()
        .filter(|event| match event {
            BusEvent::ToolStarted(process) | BusEvent::ToolExited { process, .. } => {
                pids.contains(&process.pid)
            }
            _ => false,
        })
        .collect()
}

fn memory_of(events: &[BusEvent], pid: u32) -> u64 {
    events
        .iter()
        .find_map(|event| match event {
            BusEvent::ToolStarted(process) if process.pid == pid => Some(process.memory_bytes),
            _ => None,
        })
        .expect("started")
}

fn poller() -> ProcessPoller {
    ProcessPoller::new(Arc::new(ToolTable::builtin())).expect("process list readable")
}

#[test]
fn finds_tools_by_exact_name_and_reports_each_exit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tools = [
        ("blender", "blender"),
        ("FO4Edit.exe", "xedit"),
        ("CreationKit.exe", "creation-kit"),
        ("OutfitStudio x64.exe", "outfit-studio"),
    ];
    let decoys = ["blender-thumbnailer", "CreationKitNotes.exe"];
    let names: Vec<&str> = tools.iter().map(|(name, _)| *name).chain(decoys).collect();
    let folder = tool_folder(dir.path(), &names);

    let mut children = Children::default();
    let spawned_at_ms = now_ms();
    let pids: Vec<u32> = names
        .iter()
        .map(|name| children.start(Command::new(folder.join(name)).arg("30")))
        .collect();
    let all: HashSet<u32> = pids.iter().copied().collect();

    let mut poller = poller();
    let first = changes_of(poller.poll_once(), &all);
    let mut expected: Vec<ToolProcess> = tools
        .iter()
        .zip(&pids)
        .map(|((exe, tool), pid)| tool_process(tool, *pid, exe, memory_of(&first, *pid)))
        .collect();
    expected.sort_by_key(|process| (process.started_at_ms, process.pid));
    assert_eq!(
        first,
        expected
            .iter()
            .cloned()
            .map(BusEvent::ToolStarted)
            .collect::<Vec<_>>()
    );
    for process in &expected {
        assert!(process.memory_bytes > 0, "no memory for {process:?}");
        // The OS keeps whole seconds; the process started within a second of spawning.
        let started = process.started_at_ms;
        assert!(
            (spawned_at_ms - 2_000..=now_ms()).contains(&started),
            "{process:?}"
        );
    }

    assert_eq!(changes_of(poller.poll_once(), &all), []);
    for process in expected {
        children.stop(process.pid);
        let before = now_ms();
        let events = changes_of(poller.poll_once(), &all);
        let [
            BusEvent::ToolExited {
                process: gone,
                noticed_at_ms,
            },
        ] = events.as_slice()
        else {
            panic!("expected one exit of {}, got {events:?}", process.pid);
        };
        // Memory is as of the last poll before the exit; everything else is the process.
        assert_eq!(
            gone,
            &ToolProcess {
                memory_bytes: gone.memory_bytes,
                ..process
            }
        );
        assert!(
            (before..=now_ms()).contains(noticed_at_ms),
            "noticed at {noticed_at_ms}"
        );
    }
}

// Windows Error Reporting is stood in for by a shell script named `WerFault.exe`: the
// poller knows the reporter by its process name (a script's process takes the script's
// name) and reads the crashed pid from its command line, as it does on Windows.
#[test]
fn a_crash_reporter_naming_a_tool_is_one_crash_of_that_tool() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = tool_folder(dir.path(), &["CreationKit.exe", "blender"]);
    let reporter = folder.join("WerFault.exe");
    std::fs::write(&reporter, "#!/bin/sh\nread _\n").expect("write reporter");
    std::fs::set_permissions(
        &reporter,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("make reporter executable");
    let report_on = |pid: u32| {
        let mut command = Command::new(&reporter);
        command
            .args(["-u", "-p", &pid.to_string(), "-s", "812"])
            .stdin(std::process::Stdio::piped());
        command
    };

    let mut children = Children::default();
    let kit = children.start(Command::new(folder.join("CreationKit.exe")).arg("30"));
    let blender = children.start(Command::new(folder.join("blender")).arg("30"));
    let mut poller = poller();
    let started = poller.poll_once();
    let memory = memory_of(&started, kit);

    // A report about a process that is not a tool, and one about the Creation Kit.
    children.start(&mut report_on(std::process::id()));
    children.start(&mut report_on(kit));
    let crashes_in = |events: Vec<BusEvent>| -> Vec<ToolProcess> {
        events
            .into_iter()
            .filter_map(|event| match event {
                BusEvent::ToolCrashed { process, .. } => Some(process),
                _ => None,
            })
            .collect()
    };
    let crashes = crashes_in(poller.poll_once());
    assert_eq!(
        crashes,
        [ToolProcess {
            memory_bytes: crashes.first().map_or(memory, |p| p.memory_bytes),
            ..tool_process("creation-kit", kit, "CreationKit.exe", memory)
        }]
    );

    // A second report about the same crash is not a second crash; Blender never crashed.
    children.start(&mut report_on(kit));
    assert_eq!(crashes_in(poller.poll_once()), []);
    assert!(poller.running().iter().any(|p| p.pid == blender));
}

#[test]
fn short_lived_loader_gives_a_start_then_an_exit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = tool_folder(dir.path(), &["f4se_loader.exe"]);
    let mut children = Children::default();
    let pid = children.start(Command::new(folder.join("f4se_loader.exe")).arg("2"));
    let ours = HashSet::from([pid]);

    // The child is not reaped until the guard drops: the poller must count a zombie as gone.
    let mut poller = poller();
    let mut changes = changes_of(poller.poll_once(), &ours);
    let started_at = Instant::now();
    while changes.len() < 2 && started_at.elapsed() < WAIT {
        std::thread::sleep(POLL_PAUSE);
        changes.extend(changes_of(poller.poll_once(), &ours));
    }

    let process = match changes.first() {
        Some(BusEvent::ToolStarted(process)) => process.clone(),
        other => panic!("expected a start first, got {other:?}"),
    };
    assert_eq!(
        process,
        tool_process("fallout4", pid, "f4se_loader.exe", process.memory_bytes)
    );
    let Some(BusEvent::ToolExited {
        process: gone,
        noticed_at_ms,
    }) = changes.get(1)
    else {
        panic!("expected an exit second, got {changes:?}");
    };
    // Memory is as of the last poll before the exit; everything else is the process.
    assert_eq!(
        gone,
        &ToolProcess {
            memory_bytes: gone.memory_bytes,
            ..process.clone()
        }
    );
    assert!(
        *noticed_at_ms >= process.started_at_ms + 1_000,
        "exit at {noticed_at_ms}"
    );
    assert_eq!(changes.len(), 2, "{changes:?}");
}

// Guards the fallback for Windows tools under Wine or Proton: the executable is the Wine
// loader and the kernel's 15-byte name is cut, so only the command line names the tool.
#[test]
fn tool_under_a_loader_is_found_by_its_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = tool_folder(dir.path(), &["wine64-preloader"]);
    let mut children = Children::default();
    let pid = children.start(
        Command::new(folder.join("wine64-preloader"))
            .arg0(r"C:\Games\Fallout 4\Fallout4Launcher.exe")
            .arg("30"),
    );

    let events = changes_of(poller().poll_once(), &HashSet::from([pid]));
    let memory = memory_of(&events, pid);
    assert_eq!(
        events,
        [BusEvent::ToolStarted(tool_process(
            "fallout4",
            pid,
            "Fallout4Launcher.exe",
            memory
        ))]
    );
}

// Guards against a launcher that replaces itself with a tool by `exec` after its first
// seconds staying unrecognised: the executable path is read again once per round of polls.
#[test]
fn launcher_that_execs_a_tool_late_is_found_within_a_round_of_polls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = tool_folder(dir.path(), &["blender"]);
    let mut children = Children::default();
    let pid = children.start(
        Command::new("/bin/sh")
            .args(["-c", r#"sleep 4 && exec "$0" 30"#])
            .arg(folder.join("blender")),
    );
    let ours = HashSet::from([pid]);
    let mut poller = poller();
    assert_eq!(changes_of(poller.poll_once(), &ours), []);

    let waited = Instant::now();
    let exe = || std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
    while !exe().ends_with("blender") {
        assert!(waited.elapsed() < WAIT, "the launcher never became blender");
        std::thread::sleep(POLL_PAUSE);
    }

    // One round of the poller's rotating re-read is 60 polls.
    let mut changes = Vec::new();
    for _ in 0..61 {
        changes.extend(changes_of(poller.poll_once(), &ours));
        if !changes.is_empty() {
            break;
        }
    }
    let memory = memory_of(&changes, pid);
    assert_eq!(
        changes,
        [BusEvent::ToolStarted(tool_process(
            "blender", pid, "blender", memory
        ))]
    );
}

#[tokio::test]
async fn spawned_poller_publishes_starts_and_exits_on_the_bus() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = tool_folder(dir.path(), &["NifSkope.exe"]);
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let _poller = spawn_process_poller(Arc::new(ToolTable::builtin()), bus).expect("poller starts");

    let mut children = Children::default();
    let pid = children.start(Command::new(folder.join("NifSkope.exe")).arg("30"));
    let seen = async {
        let mut seen = Vec::new();
        while seen.len() < 2 {
            match events.recv().await.expect("bus open") {
                BusEvent::ToolStarted(process) if process.pid == pid => {
                    seen.push(("started", process.tool));
                    children.stop(pid);
                }
                BusEvent::ToolExited { process, .. } if process.pid == pid => {
                    seen.push(("exited", process.tool));
                }
                _ => {}
            }
        }
        seen
    };
    let seen = tokio::time::timeout(WAIT, seen)
        .await
        .expect("start and exit in time");
    let nifskope = ToolId("nifskope".into());
    assert_eq!(seen, [("started", nifskope.clone()), ("exited", nifskope)]);
}
