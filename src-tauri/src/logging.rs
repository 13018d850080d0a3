//! Logging to stderr and to a daily rolling file in the app's log folder, and a short
//! memory of the latest warnings and errors for the "Copy diagnostics" action.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;

/// Warning and error lines kept in memory: enough to show what went wrong just before a
/// report, few enough to paste into a chat.
pub const RECENT_PROBLEMS_KEPT: usize = 20;

/// The latest warning and error lines, oldest first, at most [`RECENT_PROBLEMS_KEPT`].
static RECENT_PROBLEMS: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// Log files kept; a week of daily files covers "it broke on Tuesday" reports.
const LOG_FILES_KEPT: usize = 7;

/// Level filter when `RUST_LOG` is not set: our crates at info, the noisy webview stack at warn.
/// The updater plugin is off: it logs a failed check as an error, while for us being offline
/// is normal; `updates.rs` logs every check's outcome itself.
const DEFAULT_FILTER: &str = "info,tao=warn,wry=warn,tauri_plugin_updater=off";

/// Starts logging. Returns the guard that flushes the file writer; keep it alive.
/// When the log folder cannot be used, logs go to stderr only and a warning says why.
pub fn init(log_dir: &Path) -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_FILTER.into());
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("mossy-live")
        .filename_suffix("log")
        .max_log_files(LOG_FILES_KEPT)
        .build(log_dir);

    // Colour only on a terminal: redirected stderr, and the file (which shares formatted span
    // fields with this layer), must not receive escape codes.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr_layer = fmt::layer()
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_filter(filter());
    match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file_layer = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            tracing_subscriber::registry()
                .with(stderr_layer)
                .with(file_layer)
                .with(ProblemRing.with_filter(LevelFilter::WARN))
                .init();
            tracing::info!(dir = %log_dir.display(), "logging to file");
            Some(guard)
        }
        Err(err) => {
            tracing_subscriber::registry()
                .with(stderr_layer)
                .with(ProblemRing.with_filter(LevelFilter::WARN))
                .init();
            tracing::warn!(dir = %log_dir.display(), error = %err, "log folder unusable; stderr only");
            None
        }
    }
}

/// The latest warning and error lines, oldest first.
pub fn recent_problems() -> Vec<String> {
    let ring = RECENT_PROBLEMS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    ring.iter().cloned().collect()
}

/// Keeps each warning and error as one line in [`RECENT_PROBLEMS`].
struct ProblemRing;

impl<S: Subscriber> tracing_subscriber::Layer<S> for ProblemRing {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if *event.metadata().level() > Level::WARN {
            return;
        }
        let line = problem_line(event);
        let mut ring = RECENT_PROBLEMS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if ring.len() == RECENT_PROBLEMS_KEPT {
            ring.pop_front();
        }
        ring.push_back(line);
    }
}

/// `2026-12-04T10:00:00.123456Z WARN mossy_core::bridge: message key=value`.
fn problem_line(event: &Event<'_>) -> String {
    let mut line = String::new();
    // Writing to a String cannot fail.
    let _ = fmt::time::SystemTime.format_time(&mut Writer::new(&mut line));
    let metadata = event.metadata();
    let _ = write!(line, " {} {}:", metadata.level(), metadata.target());
    let mut fields = LineFields::default();
    event.record(&mut fields);
    line.push_str(&fields.message);
    line.push_str(&fields.rest);
    line
}

#[derive(Default)]
struct LineFields {
    message: String,
    rest: String,
}

impl Visit for LineFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.message, " {value}");
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, " {value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_latest_warnings_and_errors_only() {
        let subscriber =
            tracing_subscriber::registry().with(ProblemRing.with_filter(LevelFilter::WARN));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not kept");
            for n in 0..RECENT_PROBLEMS_KEPT + 3 {
                tracing::warn!(n, path = "C:/Mods", "thumbnail failed");
            }
            tracing::error!(error = %"disk full", "feed not saved");
        });
        let lines = recent_problems();
        assert_eq!(lines.len(), RECENT_PROBLEMS_KEPT);
        let last = lines.last().expect("a line");
        assert!(
            last.ends_with(" ERROR mossy_live_lib::logging::tests: feed not saved error=disk full"),
            "{last}"
        );
        assert!(
            lines[0].ends_with(
                " WARN mossy_live_lib::logging::tests: thumbnail failed n=4 path=C:/Mods"
            ),
            "{}",
            lines[0]
        );
        assert!(lines.iter().all(|line| !line.contains("not kept")));
    }
}
