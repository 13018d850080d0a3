//! A folder of PNG thumbnails keyed by what the source file looks like on disk.
//!
//! The key is an xxh3-128 hash of (path, size, modification time, thumbnail size, cache format
//! version), so an edited texture gets a new entry and a stale one is never shown. Entries are
//! written to a temporary file in the same folder and renamed into place, so a reader (or a
//! second worker making the same thumbnail) never sees half a PNG. Old entries are not pruned.
//!
//! The cache holds no lock and no open handles: several threads can call
//! [`ThumbCache::get_or_make`] on one shared cache; scheduling them is the caller's job.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use xxhash_rust::xxh3::Xxh3;

use crate::read_error::ReadError;
use crate::thumbnail::{ThumbError, encode_png, thumbnail};

/// Thumbnail side used by the gallery unless told otherwise.
pub const DEFAULT_THUMB_SIDE: u32 = 256;

/// Bump when the thumbnailer's output changes (filter, cube layout...) so old entries are
/// ignored instead of shown.
const CACHE_FORMAT_VERSION: u32 = 1;

/// Makes temporary names unique between threads of one process; the pid covers processes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A folder of cached thumbnails.
#[derive(Debug, Clone)]
pub struct ThumbCache {
    dir: PathBuf,
    max_side: u32,
}

impl ThumbCache {
    /// A cache in `dir` (created on first write) making [`DEFAULT_THUMB_SIDE`] thumbnails.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_side: DEFAULT_THUMB_SIDE,
        }
    }

    /// The same cache making thumbnails no larger than `max_side`.
    pub fn with_max_side(self, max_side: u32) -> Self {
        Self { max_side, ..self }
    }

    /// The folder the cache writes to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the thumbnail of `source` is (or would be) cached, from its current metadata.
    pub fn entry_path(&self, source: &Path) -> Result<PathBuf, ThumbError> {
        let meta = fs::metadata(source).map_err(ReadError::Io)?;
        // Before 1970 or unknown: 0, so the key still depends on size and path.
        let modified = meta
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos());

        let mut hasher = Xxh3::new();
        hasher.update(&CACHE_FORMAT_VERSION.to_le_bytes());
        let path_bytes = source.as_os_str().as_encoded_bytes();
        hasher.update(&(path_bytes.len() as u64).to_le_bytes());
        hasher.update(path_bytes);
        hasher.update(&meta.len().to_le_bytes());
        hasher.update(&modified.to_le_bytes());
        hasher.update(&self.max_side.to_le_bytes());
        Ok(self.dir.join(format!("{:032x}.png", hasher.digest128())))
    }

    /// Returns the cached PNG thumbnail of `source`, making and storing it first if needed.
    pub fn get_or_make(&self, source: &Path) -> Result<PathBuf, ThumbError> {
        let entry = self.entry_path(source)?;
        if entry.is_file() {
            return Ok(entry);
        }

        let png = encode_png(&thumbnail(source, self.max_side)?);
        if png.is_empty() {
            return Err(ThumbError::Decode(
                "the thumbnail could not be encoded as PNG".to_owned(),
            ));
        }
        let cache_err = |path: &Path, source| ThumbError::Cache {
            path: path.to_owned(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(|e| cache_err(&self.dir, e))?;

        let temp = self.dir.join(format!(
            ".tmp-{}-{}.png",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = fs::File::create(&temp).and_then(|mut file| file.write_all(&png));
        if let Err(err) = written.and_then(|()| fs::rename(&temp, &entry)) {
            // Best effort: the temp file may not exist; the real error is the one to report.
            let _ = fs::remove_file(&temp);
            return Err(cache_err(&entry, err));
        }
        Ok(entry)
    }
}
