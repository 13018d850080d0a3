//! What the Build panel shows: build profiles, log lines, diagnostics, progress and outcomes.
//!
//! The backend runs a build (a [`BuildProfile`]), reads its output into [`LogLine`]s, parses
//! the lines into diagnostics and script results, and folds those into a [`BuildSnapshot`];
//! when the process ends it records a [`BuildOutcome`]. Every type here crosses IPC as is, so
//! the frontend renders what the backend computed and never parses a compiler line itself.
//!
//! Positions are 1-based, as compilers print them. A Papyrus `(0,0)` means "the whole file"
//! and arrives here as a [`Diagnostic`] with a file but no line ([`Diagnostic::is_file_level`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bridge::{BuildResult, LogStream};

/// A command the app can run as a build: the Papyrus compiler, Archive2, or anything else.
///
/// The program is started directly, never through a shell, so `args` reach it exactly as
/// listed: no quoting, globbing or variable expansion happens on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildProfile {
    /// What the user calls it, such as `Compile quest scripts`.
    pub name: String,
    /// The program to start: a path, or a bare name looked up on `PATH`.
    pub program: String,
    /// Arguments, one element per argument.
    #[serde(default)]
    pub args: Vec<String>,
    /// The folder the program starts in; the app's own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Variables added to (or replacing those in) the app's environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The build cannot produce this output.
    Error,
    /// Worth a look; the output is still produced.
    Warning,
}

/// One error or warning a tool printed, with where it points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file as the tool printed it (a Windows path stays a Windows path); `None` for a
    /// message about no file in particular, such as a missing flags file.
    pub file: Option<String>,
    /// 1-based line; `None` when the tool gave none or gave 0 (the whole file).
    pub line: Option<u32>,
    /// 1-based column; `None` when the tool gave none or gave 0.
    pub column: Option<u32>,
    /// The tool's code for the message, such as `C4996` or `E0425`, when it printed one.
    pub code: Option<String>,
    /// The message text.
    pub message: String,
    /// The 1-based number of the log line it was read from, so the panel can scroll there;
    /// `None` when it was not read from a numbered log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_line: Option<u64>,
}

impl Diagnostic {
    /// True for a message about a whole file: a file but no line, as Papyrus' `(0,0)`.
    pub fn is_file_level(&self) -> bool {
        self.file.is_some() && self.line.is_none()
    }
}

/// Where one script of a Papyrus batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptStatus {
    /// The compiler started it and has not said how it went.
    Compiling,
    /// It compiled: the next script started or the batch ended without a failure for it.
    Succeeded,
    /// The compiler printed `No output generated for ...` for it.
    Failed,
}

/// One script the compiler worked on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptEntry {
    /// The name as the compiler printed it, namespace included (`DLC03:TrapBear`).
    pub name: String,
    /// How it is going.
    pub status: ScriptStatus,
}

/// How far a build is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildProgress {
    /// Files the tool finished, successfully or not.
    pub finished: u32,
    /// Files the tool said it would work on; `None` when it never said, and the bar is then
    /// indeterminate rather than a made-up number.
    pub announced: Option<u32>,
}

impl BuildProgress {
    /// Finished over announced, from 0 to 1; `None` when nothing was announced.
    pub fn fraction(&self) -> Option<f32> {
        let announced = self.announced?;
        if announced == 0 {
            return Some(1.0);
        }
        let fraction = f64::from(self.finished.min(announced)) / f64::from(announced);
        // A fraction from 0 to 1 loses nothing a progress bar can show as f32.
        #[expect(clippy::cast_possible_truncation, reason = "a value from 0 to 1")]
        Some(fraction as f32)
    }
}

/// The Papyrus compiler's own count at the end of a batch
/// (`Batch compile of M files finished. S succeeded, F failed.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompilerSummary {
    /// Files in the batch.
    pub files: u32,
    /// Files that compiled.
    pub succeeded: u32,
    /// Files that did not.
    pub failed: u32,
}

/// The diagnostics of one file, in the order the tool printed them: the first is the one to
/// fix first, as later errors often follow from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDiagnostics {
    /// The file as printed; `None` gathers messages about no file in particular.
    pub file: Option<String>,
    /// Its diagnostics, first printed first.
    pub diagnostics: Vec<Diagnostic>,
}

/// Everything the Build panel shows about the running or last build, apart from the log.
/// A new build starts from [`BuildSnapshot::default`]: no errors, no warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSnapshot {
    /// Files finished over files announced.
    pub progress: BuildProgress,
    /// Scripts in the order the compiler started them.
    pub scripts: Vec<ScriptEntry>,
    /// Diagnostics grouped by file, files in the order their first diagnostic arrived.
    pub files: Vec<FileDiagnostics>,
    /// Diagnostics of [`Severity::Error`].
    pub errors: u32,
    /// Diagnostics of [`Severity::Warning`].
    pub warnings: u32,
    /// The compiler's own count, once it printed one.
    pub summary: Option<CompilerSummary>,
}

/// One line of a build's output, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// 1-based position in the build's output, both streams counted together.
    pub number: u64,
    /// When its last byte was read, in Unix ms.
    pub at_ms: i64,
    /// The stream it came from.
    pub stream: LogStream,
    /// The text without its line ending, cut to the display cap.
    pub text: String,
    /// True when the bytes were not valid UTF-8 and `text` shows replacement characters.
    pub lossy: bool,
    /// True when the line was longer than the display cap and `text` holds only its start.
    pub truncated: bool,
    /// The line's full length in bytes, line ending excluded.
    pub byte_len: u64,
}

/// How a build's process ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProcessEnd {
    /// It exited by itself with a status code.
    Exited {
        /// The exit code; 0 means success to almost every tool.
        code: i32,
    },
    /// A signal ended it: a crash, or a kill (also the app's own, on cancel).
    Signalled {
        /// The signal number.
        signal: i32,
        /// Its name, such as `SIGSEGV`, when known.
        name: Option<String>,
    },
    /// The program never ran.
    NotStarted {
        /// Why, in words.
        reason: String,
    },
    /// The app lost track of the process (waiting on it failed).
    Lost {
        /// Why, in words.
        reason: String,
    },
}

/// How a build ended, recorded once its process is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildOutcome {
    /// Succeeded, failed or cancelled.
    pub result: BuildResult,
    /// What happened to the process.
    pub end: ProcessEnd,
    /// When the build started, in Unix ms.
    pub started_at_ms: i64,
    /// From start until the process was gone and its output read, in ms.
    pub duration_ms: u64,
    /// One sentence for the user when it did not succeed, such as `exited with code 1`.
    pub reason: Option<String>,
    /// Lines read from standard output.
    pub stdout_lines: u64,
    /// Lines read from standard error.
    pub stderr_lines: u64,
}

/// Where a build shown in the panel comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BuildSource {
    /// The app ran a build profile.
    Profile {
        /// The profile's name.
        name: String,
    },
    /// Mossy reported it over the bridge.
    Mossy {
        /// Mossy's id for it, when Mossy gave one.
        build_id: Option<String>,
    },
    /// A log file the app follows, such as the game's `Papyrus.0.log`.
    LogFile {
        /// The file's path.
        path: String,
    },
}

/// Where a build stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    /// Still going.
    Running,
    /// Ended well.
    Succeeded,
    /// Ended with errors, or could not run.
    Failed,
    /// Stopped by the user (or, for a followed log, no longer followed).
    Cancelled,
}

impl From<BuildResult> for BuildStatus {
    fn from(result: BuildResult) -> Self {
        match result {
            BuildResult::Succeeded => Self::Succeeded,
            BuildResult::Failed => Self::Failed,
            BuildResult::Cancelled => Self::Cancelled,
        }
    }
}

/// The app's own number for a build, unique across runs (it is the history row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BuildId(pub i64);

/// One build as the panel shows it, apart from its log lines, which are fetched by range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildView {
    /// The app's number for it.
    pub id: BuildId,
    /// A title: the profile name, Mossy's title or the followed file's name.
    pub title: String,
    /// Where it comes from.
    pub source: BuildSource,
    /// Where it stands.
    pub status: BuildStatus,
    /// When it started, in Unix ms.
    pub started_at_ms: i64,
    /// When it ended, in Unix ms; `None` while running.
    pub ended_at_ms: Option<i64>,
    /// Mossy's own percentage (0 to 100), when Mossy reports one. The panel prefers the
    /// parsed files-finished progress in [`BuildSnapshot::progress`] when there is one.
    pub percent: Option<f32>,
    /// The current step, in words.
    pub message: Option<String>,
    /// Why it failed or stopped, in one sentence.
    pub reason: Option<String>,
    /// Progress, scripts and diagnostics parsed from the log.
    pub snapshot: BuildSnapshot,
    /// Log lines so far.
    pub lines: u64,
    /// Log lines that hold an error or warning (the "errors only" view).
    pub problem_lines: u64,
    /// True when the stored copy of the log stopped at the size cap.
    pub log_capped: bool,
}

/// One past or running build in the history list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildSummary {
    /// The app's number for it.
    pub id: BuildId,
    /// Its title.
    pub title: String,
    /// Where it came from.
    pub source: BuildSource,
    /// Where it stands.
    pub status: BuildStatus,
    /// When it started, in Unix ms.
    pub started_at_ms: i64,
    /// How long it ran, in ms; `None` while running.
    pub duration_ms: Option<u64>,
    /// Errors found.
    pub errors: u32,
    /// Warnings found.
    pub warnings: u32,
    /// Log lines.
    pub lines: u64,
}

/// One update of the Build panel. Sent when something changed, at most once per frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildUpdate {
    /// The newest build, running or not; `None` before the first.
    pub current: Option<BuildView>,
    /// Past and running builds, newest first.
    pub history: Vec<BuildSummary>,
    /// The build profiles from settings.
    pub profiles: Vec<BuildProfile>,
    /// A problem the user should know about that belongs to no build, such as history that
    /// cannot be stored.
    pub notice: Option<String>,
    /// The current build's diagnostics as a delta, in streamed updates: the window adds
    /// them to what it has, and `current.snapshot.files` is then left empty, so a build
    /// with thousands of errors costs each update only its new ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<DiagnosticsDelta>,
}

/// Diagnostics of one build in the order they were found, from position `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosticsDelta {
    /// The build they belong to.
    pub build: BuildId,
    /// Position of the first item; 0 means "these are all of them".
    pub from: u32,
    /// The diagnostics.
    pub items: Vec<Diagnostic>,
}

/// Log lines of one build, from `start` (0-based position in the list asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// The build.
    pub build: BuildId,
    /// Position of the first line in the list asked for (all lines, or problem lines only).
    pub start: u64,
    /// The lines.
    pub lines: Vec<LogLine>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    fn diagnostic(severity: Severity) -> Diagnostic {
        Diagnostic {
            severity,
            file: Some(r"C:\Mods\Scripts\Source\User\DLC03\TrapBear.psc".into()),
            line: Some(12),
            column: None,
            code: Some("C4996".into()),
            message: "variable Foo is undefined".into(),
            log_line: Some(42),
        }
    }

    #[test]
    fn severity_round_trips() {
        for severity in [Severity::Error, Severity::Warning] {
            round_trip(&severity);
            round_trip(&diagnostic(severity));
        }
    }

    #[test]
    fn script_status_round_trips() {
        for status in [
            ScriptStatus::Compiling,
            ScriptStatus::Succeeded,
            ScriptStatus::Failed,
        ] {
            round_trip(&ScriptEntry {
                name: "DLC03:TrapBear".into(),
                status,
            });
        }
    }

    #[test]
    fn process_end_round_trips() {
        for end in [
            ProcessEnd::Exited { code: 1 },
            ProcessEnd::Signalled {
                signal: 9,
                name: Some("SIGKILL".into()),
            },
            ProcessEnd::NotStarted {
                reason: "program not found".into(),
            },
            ProcessEnd::Lost {
                reason: "wait failed".into(),
            },
        ] {
            round_trip(&BuildOutcome {
                result: BuildResult::Failed,
                end,
                started_at_ms: 1_796_378_400_000,
                duration_ms: 1_250,
                reason: Some("exited with code 1".into()),
                stdout_lines: 3,
                stderr_lines: 1,
            });
        }
    }

    #[test]
    fn snapshot_profile_and_log_line_round_trip() {
        round_trip(&BuildSnapshot {
            progress: BuildProgress {
                finished: 1,
                announced: Some(2),
            },
            scripts: vec![ScriptEntry {
                name: "MyQuestScript".into(),
                status: ScriptStatus::Failed,
            }],
            files: vec![FileDiagnostics {
                file: None,
                diagnostics: vec![diagnostic(Severity::Warning)],
            }],
            errors: 0,
            warnings: 1,
            summary: Some(CompilerSummary {
                files: 2,
                succeeded: 1,
                failed: 1,
            }),
        });
        round_trip(&BuildProfile {
            name: "Scripts".into(),
            program: r"C:\Games\Fallout 4\Papyrus Compiler\PapyrusCompiler.exe".into(),
            args: vec![
                "MyQuestScript.psc".into(),
                "-f=Institute_Papyrus_Flags.flg".into(),
            ],
            working_dir: Some("D:/Mods/Éléonore".into()),
            env: BTreeMap::from([("LANG".into(), "C".into())]),
        });
        round_trip(&LogLine {
            number: 7,
            at_ms: 1_796_378_400_000,
            stream: LogStream::Stderr,
            text: "Caf\u{fffd}.psc(1,1): bad".into(),
            lossy: true,
            truncated: false,
            byte_len: 19,
        });
    }

    #[test]
    fn a_bare_profile_needs_only_name_and_program() {
        let profile: BuildProfile =
            serde_json::from_str(r#"{"name":"x","program":"make"}"#).expect("parses");
        assert_eq!(
            profile,
            BuildProfile {
                name: "x".into(),
                program: "make".into(),
                args: Vec::new(),
                working_dir: None,
                env: BTreeMap::new(),
            }
        );
    }

    #[test]
    fn progress_is_indeterminate_without_an_announcement() {
        assert_eq!(
            BuildProgress {
                finished: 3,
                announced: None
            }
            .fraction(),
            None
        );
        assert_eq!(
            BuildProgress {
                finished: 1,
                announced: Some(4)
            }
            .fraction(),
            Some(0.25)
        );
        assert_eq!(
            BuildProgress {
                finished: 9,
                announced: Some(4)
            }
            .fraction(),
            Some(1.0)
        );
        assert_eq!(
            BuildProgress {
                finished: 0,
                announced: Some(0)
            }
            .fraction(),
            Some(1.0)
        );
    }
}
