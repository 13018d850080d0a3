//! Logging to stderr and to a daily rolling file in the app's log folder.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// Log files kept; a week of daily files covers "it broke on Tuesday" reports.
const LOG_FILES_KEPT: usize = 7;

/// Level filter when `RUST_LOG` is not set: our crates at info, the noisy webview stack at warn.
const DEFAULT_FILTER: &str = "info,tao=warn,wry=warn";

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
                .init();
            tracing::info!(dir = %log_dir.display(), "logging to file");
            Some(guard)
        }
        Err(err) => {
            tracing_subscriber::registry().with(stderr_layer).init();
            tracing::warn!(dir = %log_dir.display(), error = %err, "log folder unusable; stderr only");
            None
        }
    }
}
