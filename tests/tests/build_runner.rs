//! The build runner against a real child process: `mossy-fake-compiler`.
//!
//! The binary must be built first (`cargo build -p mossy-fake-compiler`, which the test
//! script does) or named by `MOSSY_FAKE_COMPILER_BIN`; without it these tests fail rather
//! than skip. Every process a test starts is ended by the runner when the build ends or is
//! dropped, also when an assertion fails; the cancel tests also end the grandchild by pid
//! if the runner did not.

use std::collections::BTreeMap;

use mossy_core::build::{BuildRunner, BuildSink, BuildTracker, DISPLAY_LINE_CAP, RunningBuild};
use mossy_protocol::bridge::{BuildResult, LogStream};
use mossy_protocol::build::{BuildOutcome, BuildProfile, LogLine, ProcessEnd};
use mossy_tests::{fake_compiler, log_fixture, within};
use tokio::sync::mpsc;

/// Milliseconds between replayed lines: slow enough that lines arrive one by one, as from a
/// compiler, fast enough that a transcript plays in well under a second.
const REPLAY_DELAY_MS: &str = "5";

/// How long the grandchild of a cancel test sleeps: far longer than any test waits, and
/// short enough that one left behind by a broken runner goes away by itself.
const GRANDCHILD_SLEEP_S: &str = "30";

fn fixture(name: &str) -> String {
    log_fixture(name)
}

/// A profile running the fake compiler with `args`.
fn profile(args: &[&str]) -> BuildProfile {
    BuildProfile {
        name: format!("fake {}", args.first().unwrap_or(&"")),
        program: fake_compiler(),
        args: args.iter().map(|&arg| arg.to_owned()).collect(),
        working_dir: None,
        env: BTreeMap::new(),
    }
}

/// Starts `profile` with a sink that sends every line to the returned receiver.
fn start(profile: &BuildProfile) -> (RunningBuild, mpsc::UnboundedReceiver<LogLine>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let build = BuildRunner::new().start(profile, move |line: LogLine| {
        let _ = sender.send(line);
    });
    (build, receiver)
}

/// Every line the sink received, with `at_ms` zeroed so lines compare as whole values.
fn received(receiver: &mut mpsc::UnboundedReceiver<LogLine>) -> Vec<LogLine> {
    let mut lines = Vec::new();
    while let Ok(mut line) = receiver.try_recv() {
        line.at_ms = 0;
        lines.push(line);
    }
    lines
}

/// A plain line as the runner delivers it (with `at_ms` zeroed).
fn plain(number: u64, stream: LogStream, text: &str) -> LogLine {
    LogLine {
        number,
        at_ms: 0,
        stream,
        text: text.to_owned(),
        lossy: false,
        truncated: false,
        byte_len: text.len() as u64,
    }
}

/// `outcome` with its timing replaced by `reference`'s, for whole-value comparison.
fn timed_like(mut outcome: BuildOutcome, reference: &BuildOutcome) -> BuildOutcome {
    outcome.started_at_ms = reference.started_at_ms;
    outcome.duration_ms = reference.duration_ms;
    outcome
}

#[tokio::test]
async fn a_replayed_compile_parses_to_the_same_snapshot_as_its_transcript() {
    let transcript = fixture("mixed-order.log");
    let (build, mut lines) = start(&profile(&["replay", &transcript, REPLAY_DELAY_MS]));
    let outcome = within("the replay to end", build.wait()).await;
    let lines = received(&mut lines);

    assert_eq!(
        outcome,
        BuildOutcome {
            result: BuildResult::Failed,
            end: ProcessEnd::Exited { code: 1 },
            reason: Some("exited with code 1".to_owned()),
            stdout_lines: 10,
            stderr_lines: 4,
            ..outcome.clone()
        }
    );
    let numbers: Vec<u64> = lines.iter().map(|line| line.number).collect();
    assert_eq!(numbers, (1..=14).collect::<Vec<_>>());

    // The two pipes interleave as they please; the parsed result must not care.
    let mut live = BuildTracker::new();
    for line in &lines {
        live.feed(line.stream, &line.text);
    }
    live.finish(false);
    let text = std::fs::read_to_string(&transcript).expect("the transcript");
    let mut in_file_order = BuildTracker::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('O') {
            in_file_order.feed(LogStream::Stdout, rest.trim_start_matches(' '));
        } else if let Some(rest) = line.strip_prefix('E') {
            in_file_order.feed(LogStream::Stderr, rest.trim_start_matches(' '));
        }
    }
    in_file_order.finish(false);
    assert_eq!(live.snapshot(), in_file_order.snapshot());
}

#[tokio::test]
async fn a_fast_flood_of_lines_arrives_complete_and_in_order() {
    const LINES: u64 = 200_000;
    let (build, mut lines) = start(&profile(&["lines", &LINES.to_string()]));
    let outcome = within("the flood to end", build.wait()).await;

    let expected: Vec<LogLine> = (1..=LINES)
        .map(|number| plain(number, LogStream::Stdout, &format!("line {number}")))
        .collect();
    assert_eq!(received(&mut lines), expected);
    assert_eq!(
        (outcome.result, outcome.stdout_lines, outcome.stderr_lines),
        (BuildResult::Succeeded, LINES, 0)
    );
}

/// Keeps display lines and counts raw bytes per stream.
struct Recorder {
    lines: mpsc::UnboundedSender<LogLine>,
    raw: mpsc::UnboundedSender<(LogStream, usize)>,
}

impl BuildSink for Recorder {
    fn line(&mut self, line: LogLine) {
        let _ = self.lines.send(line);
    }

    fn bytes(&mut self, stream: LogStream, chunk: &[u8]) {
        let _ = self.raw.send((stream, chunk.len()));
    }
}

#[tokio::test]
async fn invalid_utf8_is_shown_lossily_and_a_10_mib_line_is_capped_but_stored_whole() {
    const HUGE: u64 = 10 * 1024 * 1024;
    let (lines, mut line_receiver) = mpsc::unbounded_channel();
    let (raw, mut raw_receiver) = mpsc::unbounded_channel();
    let build = BuildRunner::new().start(&profile(&["invalid-utf8"]), Recorder { lines, raw });
    let outcome = within("the program to end", build.wait()).await;

    let mut lines = received(&mut line_receiver);
    lines.sort_by_key(|line| (line.stream == LogStream::Stdout, line.number));
    let renumbered: Vec<LogLine> = lines
        .into_iter()
        .map(|line| LogLine { number: 0, ..line })
        .collect();
    let cafe = r"C:\Mods\Caf� Quest.psc(3,1): variable x is undefined";
    let huge = LogLine {
        text: "x".repeat(DISPLAY_LINE_CAP),
        truncated: true,
        byte_len: HUGE,
        ..plain(0, LogStream::Stdout, "")
    };
    assert_eq!(
        renumbered,
        [
            LogLine {
                lossy: true,
                byte_len: 52,
                ..plain(0, LogStream::Stderr, cafe)
            },
            LogLine {
                lossy: true,
                byte_len: 12,
                ..plain(0, LogStream::Stdout, "bad �� bytes")
            },
            huge,
            plain(0, LogStream::Stdout, "after the huge line"),
            plain(0, LogStream::Stdout, "no line ending"),
        ]
    );

    let mut raw_bytes = BTreeMap::new();
    while let Ok((stream, count)) = raw_receiver.try_recv() {
        *raw_bytes.entry(format!("{stream:?}")).or_insert(0_u64) += count as u64;
    }
    let stdout_bytes = 13 + HUGE + 1 + 20 + 14;
    assert_eq!(
        raw_bytes,
        BTreeMap::from([("Stderr".into(), 54), ("Stdout".into(), stdout_bytes)])
    );
    assert_eq!(outcome.result, BuildResult::Succeeded);
}

#[tokio::test]
async fn a_program_that_does_not_exist_fails_with_a_clear_reason() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let program = folder
        .path()
        .join("PapyrusCompiler.exe")
        .to_string_lossy()
        .into_owned();
    let (build, mut lines) = start(&BuildProfile {
        program: program.clone(),
        ..profile(&[])
    });
    assert_eq!(build.pid(), None);
    let outcome = within("the outcome", build.wait()).await;

    let reason = format!("program not found: {program}");
    assert_eq!(
        outcome,
        timed_like(
            BuildOutcome {
                result: BuildResult::Failed,
                end: ProcessEnd::NotStarted {
                    reason: reason.clone()
                },
                started_at_ms: 0,
                duration_ms: 0,
                reason: Some(reason),
                stdout_lines: 0,
                stderr_lines: 0,
            },
            &outcome
        )
    );
    assert_eq!(received(&mut lines), []);
}

#[tokio::test]
async fn a_missing_working_folder_fails_before_starting() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let missing = folder.path().join("Mods Ä").to_string_lossy().into_owned();
    let (build, _lines) = start(&BuildProfile {
        working_dir: Some(missing.clone()),
        ..profile(&["exit", "0"])
    });
    let outcome = within("the outcome", build.wait()).await;

    let reason = format!("working folder not found: {missing}");
    assert_eq!(
        (outcome.result, outcome.end, outcome.reason),
        (
            BuildResult::Failed,
            ProcessEnd::NotStarted {
                reason: reason.clone()
            },
            Some(reason)
        )
    );
}

#[tokio::test]
async fn a_silent_program_has_no_lines_and_its_exit_code_decides() {
    for (code, result, reason) in [
        ("0", BuildResult::Succeeded, None),
        (
            "3",
            BuildResult::Failed,
            Some("exited with code 3".to_owned()),
        ),
    ] {
        let (build, mut lines) = start(&profile(&["exit", code]));
        let outcome = within("the program to exit", build.wait()).await;
        assert_eq!(
            outcome,
            BuildOutcome {
                result,
                end: ProcessEnd::Exited {
                    code: code.parse().expect("a code")
                },
                reason,
                stdout_lines: 0,
                stderr_lines: 0,
                ..outcome.clone()
            }
        );
        assert_eq!(received(&mut lines), []);
    }
}

#[tokio::test]
async fn arguments_folder_and_environment_reach_the_program_unchanged() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let work = folder.path().join("Mods Ä (WIP)");
    std::fs::create_dir(&work).expect("a working folder");
    let args = ["show", "two words", "$HOME", "*.psc", "quote\"d", ""];
    let build_profile = BuildProfile {
        working_dir: Some(work.to_string_lossy().into_owned()),
        env: BTreeMap::from([("MOSSY_FAKE_VALUE".to_owned(), "x; y".to_owned())]),
        ..profile(&args)
    };
    let (build, mut lines) = start(&build_profile);
    let outcome = within("the program to exit", build.wait()).await;

    let texts: Vec<String> = received(&mut lines)
        .into_iter()
        .map(|line| line.text)
        .collect();
    assert_eq!(
        texts,
        [
            format!("cwd {}", work.display()),
            "arg two words".to_owned(),
            "arg $HOME".to_owned(),
            "arg *.psc".to_owned(),
            "arg quote\"d".to_owned(),
            "arg ".to_owned(),
            "env MOSSY_FAKE_VALUE=x; y".to_owned(),
        ]
    );
    assert_eq!(outcome.result, BuildResult::Succeeded);
}

#[cfg(unix)]
mod unix {
    //! Crashes, signals and process trees, which need Unix process groups to test here.

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[tokio::test]
    async fn a_crash_fails_with_the_signal_named() {
        let (build, _lines) = start(&profile(&["crash"]));
        let outcome = within("the crash", build.wait()).await;

        assert_eq!(
            outcome,
            BuildOutcome {
                result: BuildResult::Failed,
                end: ProcessEnd::Signalled {
                    signal: 6,
                    name: Some("SIGABRT".to_owned())
                },
                reason: Some("ended by signal 6 (SIGABRT)".to_owned()),
                ..outcome.clone()
            }
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_executable_fails_with_a_clear_reason() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let program = folder.path().join("compile.sh");
        std::fs::write(&program, "echo hi\n").expect("a script file");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o644))
            .expect("permissions");
        let program = program.to_string_lossy().into_owned();
        let (build, _lines) = start(&BuildProfile {
            program: program.clone(),
            ..profile(&[])
        });
        let outcome = within("the outcome", build.wait()).await;

        let reason = format!("program is not executable: {program}");
        assert_eq!(
            (outcome.result, outcome.end, outcome.reason),
            (
                BuildResult::Failed,
                ProcessEnd::NotStarted {
                    reason: reason.clone()
                },
                Some(reason)
            )
        );
    }

    #[tokio::test]
    async fn cancel_ends_the_whole_process_tree() {
        let (build, mut lines) = start(&profile(&["grandchild", GRANDCHILD_SLEEP_S]));
        let child = Reaper(build.pid().expect("the child's pid"));
        let grandchild = Reaper(grandchild_pid(&mut lines).await);

        build.cancel();
        let outcome = within("the cancelled build to end", build.wait()).await;

        assert_eq!(
            outcome,
            BuildOutcome {
                result: BuildResult::Cancelled,
                end: ProcessEnd::Signalled {
                    signal: 15,
                    name: Some("SIGTERM".to_owned())
                },
                reason: Some("cancelled".to_owned()),
                stdout_lines: 1,
                stderr_lines: 0,
                ..outcome.clone()
            }
        );
        within("the grandchild to end", grandchild.gone()).await;
        within("the child to end", child.gone()).await;
    }

    #[tokio::test]
    async fn dropping_a_running_build_ends_its_process_tree() {
        let (build, mut lines) = start(&profile(&["grandchild", GRANDCHILD_SLEEP_S]));
        let child = Reaper(build.pid().expect("the child's pid"));
        let grandchild = Reaper(grandchild_pid(&mut lines).await);

        drop(build);

        within("the grandchild to end", grandchild.gone()).await;
        within("the child to end", child.gone()).await;
    }

    /// Reads the `grandchild PID` line the fake compiler prints once its child runs.
    async fn grandchild_pid(lines: &mut mpsc::UnboundedReceiver<LogLine>) -> u32 {
        let line = within("the grandchild's pid", lines.recv())
            .await
            .expect("a line");
        let pid = line.text.strip_prefix("grandchild ").expect("the pid line");
        pid.parse().expect("a pid")
    }

    /// A process a test started, killed by pid when the test ends and it is still running,
    /// so a failing test leaves nothing behind.
    struct Reaper(u32);

    impl Reaper {
        /// Running, not a zombie waiting to be reaped by its (new) parent.
        fn running(&self) -> bool {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.0)) else {
                return false;
            };
            // The state follows the command name, which is in parentheses.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.trim_start().chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        }

        /// Waits until the process no longer runs.
        async fn gone(&self) {
            while self.running() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }

    impl Drop for Reaper {
        fn drop(&mut self) {
            let ours = std::fs::read_to_string(format!("/proc/{}/cmdline", self.0))
                .is_ok_and(|cmdline| cmdline.contains("mossy-fake-compiler"));
            if ours && self.running() {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &self.0.to_string()])
                    .status();
            }
        }
    }
}
