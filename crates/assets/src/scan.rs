//! Parallel walk of a folder tree, the first stage of indexing.
//!
//! A scan lists every regular file under a folder with its size and modification time and
//! hands the results to a sink in batches while the walk goes on, so the index can write to
//! SQLite on one thread while the walker threads keep reading directories. The walk uses
//! the `ignore` crate's parallel walker with every filter turned off: modders keep files in
//! hidden folders and next to `.gitignore` files, and all of them belong in the gallery.
//!
//! Symbolic links are not followed and are not indexed; Mod Organizer 2 never creates them
//! and following them could loop.

use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread;
use std::time::UNIX_EPOCH;

use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use tracing::debug;

use crate::index::IndexError;

/// Files per batch handed to the sink. Large enough that channel traffic is negligible next
/// to the `stat` calls, small enough that the writer starts on the first batch at once.
const BATCH_FILES: usize = 512;

/// Batches that may wait for the sink. Bounds memory when SQLite is slower than the disk.
const QUEUED_BATCHES: usize = 64;

/// One regular file found by a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedFile {
    /// Path relative to the scanned root, `/`-separated, as UTF-8 text.
    pub rel_path: String,
    /// True when the name was not valid Unicode and `rel_path` is a lossy copy of it.
    pub lossy_name: bool,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (negative before 1970).
    pub modified_ns: i64,
}

impl ScannedFile {
    /// Builds the record for `path`, which lies under `root`, from its metadata.
    ///
    /// Returns `None` when `path` is not under `root` or is the root itself.
    pub fn from_metadata(root: &Path, path: &Path, metadata: &Metadata) -> Option<Self> {
        let (rel_path, lossy_name) = relative_text(root, path)?;
        Some(Self {
            rel_path,
            lossy_name,
            size: metadata.len(),
            modified_ns: modified_ns(metadata),
        })
    }
}

/// Walks `start` (which is `root` or a folder under it) on several threads and passes every
/// regular file to `sink` in batches. Returns the number of files found.
///
/// Unreadable subfolders are logged and skipped; only a `start` that cannot be read at all
/// is an error.
pub fn scan_tree<F>(root: &Path, start: &Path, mut sink: F) -> Result<usize, IndexError>
where
    F: FnMut(Vec<ScannedFile>),
{
    let metadata = std::fs::metadata(start).map_err(|source| IndexError::Io {
        path: start.to_path_buf(),
        source,
    })?;
    if !metadata.is_dir() {
        return Err(IndexError::RootNotFound(start.to_path_buf()));
    }

    let threads = thread::available_parallelism().map_or(2, |n| n.get());
    let (sender, receiver) = sync_channel(QUEUED_BATCHES);
    let mut found = 0;
    thread::scope(|scope| {
        scope.spawn(|| {
            let mut builder = BatchBuilder { root, sender };
            WalkBuilder::new(start)
                .standard_filters(false)
                .follow_links(false)
                .threads(threads)
                .build_parallel()
                .visit(&mut builder);
        });
        for batch in receiver {
            found += batch.len();
            sink(batch);
        }
    });
    Ok(found)
}

/// Scans `root` and returns every file in one list; for tests and benchmarks.
pub fn scan_all(root: &Path) -> Result<Vec<ScannedFile>, IndexError> {
    let mut files = Vec::new();
    scan_tree(root, root, |batch| files.extend(batch))?;
    Ok(files)
}

/// The text form of `path` relative to `root`, and whether it had to be made lossy.
pub(crate) fn relative_text(root: &Path, path: &Path) -> Option<(String, bool)> {
    let rel = path.strip_prefix(root).ok()?;
    if rel.as_os_str().is_empty() {
        return None;
    }
    let (text, lossy) = match rel.to_str() {
        Some(text) => (text.to_owned(), false),
        None => (rel.to_string_lossy().into_owned(), true),
    };
    if std::path::MAIN_SEPARATOR == '/' {
        Some((text, lossy))
    } else {
        Some((text.replace(std::path::MAIN_SEPARATOR, "/"), lossy))
    }
}

/// The absolute path of a row: `root` joined with its `/`-separated relative path.
pub(crate) fn absolute_path(root: &Path, rel_path: &str) -> PathBuf {
    rel_path
        .split('/')
        .fold(root.to_path_buf(), |path, part| path.join(part))
}

/// Modification time in nanoseconds since the Unix epoch; 0 when the platform has none.
pub(crate) fn modified_ns(metadata: &Metadata) -> i64 {
    let Ok(modified) = metadata.modified() else {
        return 0;
    };
    match modified.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// Hands each walker thread its own batch and a sender to the sink.
struct BatchBuilder<'a> {
    root: &'a Path,
    sender: SyncSender<Vec<ScannedFile>>,
}

impl<'s> ParallelVisitorBuilder<'s> for BatchBuilder<'s> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(BatchVisitor {
            root: self.root,
            sender: self.sender.clone(),
            batch: Vec::with_capacity(BATCH_FILES),
        })
    }
}

/// Collects files on one walker thread; sends the last partial batch when dropped.
struct BatchVisitor<'a> {
    root: &'a Path,
    sender: SyncSender<Vec<ScannedFile>>,
    batch: Vec<ScannedFile>,
}

impl BatchVisitor<'_> {
    fn record(&mut self, entry: &DirEntry) {
        if !entry.file_type().is_some_and(|kind| kind.is_file()) {
            return;
        }
        let metadata = match entry.metadata() {
            Ok(metadata) => metadata,
            Err(error) => {
                debug!(path = %entry.path().display(), %error, "file vanished during scan");
                return;
            }
        };
        if let Some(file) = ScannedFile::from_metadata(self.root, entry.path(), &metadata) {
            self.batch.push(file);
        }
    }
}

impl ParallelVisitor for BatchVisitor<'_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        match entry {
            Ok(entry) => self.record(&entry),
            Err(error) => debug!(%error, "skipping unreadable entry"),
        }
        if self.batch.len() >= BATCH_FILES {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_FILES));
            if self.sender.send(full).is_err() {
                return WalkState::Quit;
            }
        }
        WalkState::Continue
    }
}

impl Drop for BatchVisitor<'_> {
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            // The sink outlives the walk, so this only fails if the sink panicked.
            let _ = self.sender.send(std::mem::take(&mut self.batch));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_path_rejoins_relative_text() {
        let root = Path::new("/games/Mods #2");
        let path = root.join("Tëxtures ü").join("a b.dds");
        let (rel, lossy) = relative_text(root, &path).expect("path is under root");
        assert_eq!((rel.as_str(), lossy), ("Tëxtures ü/a b.dds", false));
        assert_eq!(absolute_path(root, &rel), path);
        assert_eq!(relative_text(root, root), None);
    }
}
