//! Where a profile build's output goes: each line into the center's log, and the raw
//! bytes, up to [`HISTORY_LOG_CAP`] per stream, to `<raw dir>/<id>/stdout.log` and
//! `stderr.log`; old builds' folders are pruned.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Weak};

use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::{BuildId, BuildSummary, LogLine};
use tracing::{debug, warn};

use super::Shared;
use crate::build::history::HISTORY_LOG_CAP;
use crate::build::runner::BuildSink;

/// A profile build's output on its way into the center and the raw files.
pub(super) struct LiveSink {
    shared: Weak<Shared>,
    id: BuildId,
    raw: Option<RawSpool>,
}

impl LiveSink {
    /// A sink for build `id` whose raw output goes under `raw_dir/<id>/`.
    pub(super) fn new(shared: &Arc<Shared>, id: BuildId, raw_dir: &Path) -> Self {
        Self {
            shared: Arc::downgrade(shared),
            id,
            raw: RawSpool::create(&raw_dir.join(id.0.to_string())),
        }
    }
}

impl BuildSink for LiveSink {
    fn line(&mut self, line: LogLine) {
        if let Some(shared) = self.shared.upgrade() {
            shared.with_build(self.id, |build| build.push(&line));
        }
    }

    fn bytes(&mut self, stream: LogStream, chunk: &[u8]) {
        if let Some(raw) = &mut self.raw
            && let Err(err) = raw.write(stream, chunk)
        {
            warn!(build = self.id.0, error = %err, "raw output no longer stored");
            self.raw = None;
        }
    }
}

/// Every byte a build printed, per stream, up to [`HISTORY_LOG_CAP`] each.
struct RawSpool {
    stdout: BufWriter<File>,
    stderr: BufWriter<File>,
    written: [usize; 2],
}

impl RawSpool {
    fn create(folder: &Path) -> Option<Self> {
        let open = || -> std::io::Result<Self> {
            std::fs::create_dir_all(folder)?;
            Ok(Self {
                stdout: BufWriter::new(File::create(folder.join("stdout.log"))?),
                stderr: BufWriter::new(File::create(folder.join("stderr.log"))?),
                written: [0; 2],
            })
        };
        open()
            .inspect_err(|err| {
                warn!(folder = %folder.display(), error = %err, "raw output will not be stored");
            })
            .ok()
    }

    fn write(&mut self, stream: LogStream, chunk: &[u8]) -> std::io::Result<()> {
        let (file, written) = match stream {
            LogStream::Stdout => (&mut self.stdout, &mut self.written[0]),
            LogStream::Stderr => (&mut self.stderr, &mut self.written[1]),
        };
        let room = HISTORY_LOG_CAP.saturating_sub(*written);
        let part = &chunk[..chunk.len().min(room)];
        *written += part.len();
        file.write_all(part)
    }
}

impl Drop for RawSpool {
    fn drop(&mut self) {
        for file in [&mut self.stdout, &mut self.stderr] {
            if let Err(err) = file.flush() {
                warn!(error = %err, "raw output not fully written");
            }
        }
    }
}

/// Deletes raw output folders of builds no longer in the history.
pub(super) fn prune_raw(raw_dir: &Path, kept: &[BuildSummary]) {
    let Some(oldest) = kept.iter().map(|b| b.id.0).min() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(raw_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(id) = name.to_str().and_then(|n| n.parse::<i64>().ok())
            && id < oldest
            && let Err(err) = std::fs::remove_dir_all(entry.path())
        {
            debug!(path = %entry.path().display(), error = %err, "old raw output not removed");
        }
    }
}
