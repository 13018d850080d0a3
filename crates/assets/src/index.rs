//! The folder index: every file under the modder's asset folders, kept in SQLite and kept
//! current by a watcher.
//!
//! An [`AssetIndex`] owns one database file (WAL mode, so the gallery can read while a scan
//! writes) and one supervisor thread per root folder. A supervisor scans its root in
//! parallel, then follows a debounced file watcher, applying each change by looking at the
//! disk again rather than trusting the event: a create, a write, a rename in or out and a
//! delete all come down to "stat this path and update its row". When the watcher reports an
//! error or an overflow, the supervisor rescans the whole root and reconciles the rows
//! against what is on disk, so no change is lost. A root that disappears (deleted, renamed,
//! drive unplugged) is marked missing with its rows kept, and is rescanned when it returns.
//!
//! Changes are announced on the [`IndexEvent`] channel returned by [`AssetIndex::open`].
//! Rescans announce only [`IndexEvent::Rescanned`]; a listener reloads its view then.

mod mo2;
mod store;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::info;

pub use crate::kind::AssetKind;
use crate::scan;
use crate::watch::RootWatch;

pub use mo2::{Mo2Folders, find_mo2_folders};
pub(crate) use store::Store;

/// Everything that can go wrong while indexing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The index database could not be opened, read or written.
    #[error("index database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// A file or folder could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The folder does not exist or is not a folder.
    #[error("folder not found: {}", .0.display())]
    RootNotFound(PathBuf),
    /// The folder is not one of the index's roots.
    #[error("folder is not indexed: {}", .0.display())]
    UnknownRoot(PathBuf),
    /// The folder's path is not valid Unicode, so it cannot be stored as a root.
    #[error("folder path is not valid Unicode: {}", .0.display())]
    NonUtf8Root(PathBuf),
    /// The operating system refused to start a thread for the root.
    #[error("cannot start the watcher thread: {0}")]
    Thread(std::io::Error),
}

/// Where a root folder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RootState {
    /// Being scanned; rows may be incomplete.
    Scanning,
    /// Scanned and followed by the watcher.
    Ready,
    /// The folder is gone; its rows are kept and it is polled until it returns.
    Missing,
}

impl RootState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Scanning => "scanning",
            Self::Ready => "ready",
            Self::Missing => "missing",
        }
    }

    pub(crate) fn from_word(word: &str) -> Self {
        match word {
            "ready" => Self::Ready,
            "missing" => Self::Missing,
            _ => Self::Scanning,
        }
    }
}

/// A change to the index, sent to the index owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexEvent {
    /// A file was added or its size or time changed (absolute path).
    Upserted(PathBuf),
    /// A file left the index (absolute path).
    Removed(PathBuf),
    /// A root changed state.
    RootState(PathBuf, RootState),
    /// A root was scanned again and now holds this many files; reload any view of it.
    Rescanned(PathBuf, usize),
}

/// One indexed file.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRecord {
    /// The root folder the file lies under.
    pub root: PathBuf,
    /// Path under the root, `/`-separated.
    pub rel_path: String,
    /// The full path on disk.
    pub path: PathBuf,
    /// Kind by extension.
    pub kind: AssetKind,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub modified_ns: i64,
    /// True when the name was not valid Unicode and `rel_path` is a lossy copy.
    pub lossy_name: bool,
    /// The state of the root, so a view can grey out files of a missing root.
    pub root_state: RootState,
    /// Header details filled in by the readers, if any.
    pub details: Option<serde_json::Value>,
    /// Why the readers could not read the header, if they failed.
    pub details_error: Option<String>,
}

/// Which files [`AssetIndex::list`] and [`AssetIndex::count`] return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFilter {
    /// Only files of this kind.
    pub kind: Option<AssetKind>,
    /// Only files whose relative path contains this text, ignoring case.
    pub text: Option<String>,
}

/// A root folder and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootStatus {
    /// The folder.
    pub path: PathBuf,
    /// Where it stands.
    pub state: RootState,
}

/// A root as the store and the supervisors know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RootEntry {
    pub id: i64,
    pub path: PathBuf,
}

/// What the index owner and the supervisor threads share.
pub(crate) struct Shared {
    pub store: Store,
    events: Sender<IndexEvent>,
    /// One lock per root, held while a rescan or a batch of live changes is written, so a
    /// rescan started from another thread cannot bring back a row the watcher just removed.
    root_locks: Mutex<HashMap<i64, Arc<Mutex<()>>>>,
}

impl Shared {
    pub fn new(store: Store, events: Sender<IndexEvent>) -> Self {
        Self {
            store,
            events,
            root_locks: Mutex::new(HashMap::new()),
        }
    }

    /// The lock that orders writes to one root's rows.
    pub fn root_lock(&self, root_id: i64) -> Arc<Mutex<()>> {
        let mut locks = self
            .root_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(root_id).or_default())
    }

    pub fn emit(&self, event: IndexEvent) {
        // A dropped receiver means nobody is listening any more; the index still works.
        let _ = self.events.send(event);
    }

    pub fn set_state(&self, root: &RootEntry, state: RootState) -> Result<(), IndexError> {
        self.store.set_root_state(root.id, state)?;
        self.emit(IndexEvent::RootState(root.path.clone(), state));
        Ok(())
    }

    /// Scans `root` and reconciles its rows: new and changed files are written, rows of
    /// files no longer there are deleted. Returns the number of files in the root.
    pub fn rescan(&self, root: &RootEntry) -> Result<usize, IndexError> {
        let lock = self.root_lock(root.id);
        let _writing = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut reconcile = self.store.begin_reconcile(root.id, None, false)?;
        scan::scan_tree(&root.path, &root.path, |batch| reconcile.push(batch))?;

        // A root that vanished mid-scan looks empty; keep its rows rather than drop them.
        if !root.path.is_dir() {
            return Err(IndexError::RootNotFound(root.path.clone()));
        }
        let outcome = reconcile.finish(true)?;
        info!(
            root = %root.path.display(),
            files = outcome.seen,
            written = outcome.written,
            removed = outcome.removed.len(),
            "root scanned"
        );
        self.emit(IndexEvent::Rescanned(root.path.clone(), outcome.seen));
        Ok(outcome.seen)
    }
}

/// The asset index: rows in SQLite plus one watcher per root folder.
///
/// Dropping it stops every watcher.
pub struct AssetIndex {
    shared: Arc<Shared>,
    watches: Mutex<HashMap<i64, RootWatch>>,
    live: bool,
}

impl AssetIndex {
    /// Opens (or creates) the index at `db_path` and starts watching every root saved in it.
    /// The receiver gets every change from now on.
    pub fn open(db_path: &Path) -> Result<(Self, Receiver<IndexEvent>), IndexError> {
        Self::open_with(db_path, true)
    }

    /// Opens the index without scanning or watching anything; roots are only scanned when
    /// [`AssetIndex::rescan`] is called. For tools and benchmarks.
    pub fn open_unwatched(db_path: &Path) -> Result<(Self, Receiver<IndexEvent>), IndexError> {
        Self::open_with(db_path, false)
    }

    fn open_with(db_path: &Path, live: bool) -> Result<(Self, Receiver<IndexEvent>), IndexError> {
        let (sender, receiver) = channel();
        let shared = Arc::new(Shared::new(Store::open(db_path)?, sender));
        let index = Self {
            shared,
            watches: Mutex::new(HashMap::new()),
            live,
        };
        if live {
            let mut watches = index.lock_watches();
            for root in index.shared.store.root_entries()? {
                index.start_watch(&mut watches, root)?;
            }
        }
        Ok((index, receiver))
    }

    /// Adds a root folder and, when live, starts scanning and watching it in the background.
    /// Returns the root as stored (made absolute); events name it in this form.
    pub fn add_root(&self, path: &Path) -> Result<PathBuf, IndexError> {
        let path = absolute_root(path)?;
        if !path.is_dir() {
            return Err(IndexError::RootNotFound(path));
        }
        self.insert_root(path)
    }

    /// Adds a root the user chose earlier (in the settings file, say) even when it is not
    /// there now: an unplugged drive or a folder renamed while the app was closed. It shows
    /// as missing and is scanned as soon as it appears, like a root that goes away later.
    pub fn keep_root(&self, path: &Path) -> Result<PathBuf, IndexError> {
        let path = absolute_root(path)?;
        // Missing is fine; a file where it or a folder above it should be can never become
        // a folder that appears.
        if let Some(existing) = path.ancestors().find(|p| p.exists())
            && !existing.is_dir()
        {
            return Err(IndexError::RootNotFound(path));
        }
        self.insert_root(path)
    }

    fn insert_root(&self, path: PathBuf) -> Result<PathBuf, IndexError> {
        let Some(text) = path.to_str() else {
            return Err(IndexError::NonUtf8Root(path));
        };
        // Under the watchers' lock, so a removal of the same folder cannot slip between
        // the row and its watcher.
        let mut watches = self.lock_watches();
        let id = self.shared.store.add_root(text)?;
        if self.live {
            let root = RootEntry {
                id,
                path: path.clone(),
            };
            self.start_watch(&mut watches, root)?;
        }
        Ok(path)
    }

    /// Takes a root out of the gallery and stops watching it; its rows are kept aside for a
    /// while (see `Store::remove_root`). Returns false if it was not a root.
    pub fn remove_root(&self, path: &Path) -> Result<bool, IndexError> {
        let Some(root) = self.find_root(path)? else {
            return Ok(false);
        };
        // Hidden and out of the map together, so the same folder added meanwhile gets a
        // root of its own state and a watcher of its own; the old watcher may take a
        // while to stop (mid-scan), and that wait happens after the lock is released.
        let watch = {
            let mut watches = self.lock_watches();
            self.shared.store.remove_root(root.id)?;
            watches.remove(&root.id)
        };
        drop(watch);
        Ok(true)
    }

    /// Every root with its state.
    pub fn roots(&self) -> Result<Vec<RootStatus>, IndexError> {
        self.shared.store.roots()
    }

    /// Scans a root now, on this thread, and reconciles its rows with the disk. Returns the
    /// number of files in it.
    pub fn rescan(&self, root: &Path) -> Result<usize, IndexError> {
        let root = self
            .find_root(root)?
            .ok_or_else(|| IndexError::UnknownRoot(root.to_path_buf()))?;
        self.shared.rescan(&root)
    }

    /// Files matching `filter`, newest first, skipping `offset` and returning up to `limit`.
    pub fn list(
        &self,
        filter: &AssetFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AssetRecord>, IndexError> {
        self.shared.store.list(filter, offset, limit)
    }

    /// How many files match `filter`.
    pub fn count(&self, filter: &AssetFilter) -> Result<u64, IndexError> {
        self.shared.store.count(filter)
    }

    /// The row for the file at `path` (absolute, under one of the roots).
    pub fn get(&self, path: &Path) -> Result<Option<AssetRecord>, IndexError> {
        let Some((root, rel_path)) = self.locate(path)? else {
            return Ok(None);
        };
        self.shared.store.get(root.id, &rel_path)
    }

    /// Stores what the header readers made of the file at `path`: details as JSON, or the
    /// reason they failed. Returns false when the file is not in the index. The details are
    /// cleared again when the file's size or time changes.
    pub fn set_details(
        &self,
        path: &Path,
        details: Result<serde_json::Value, String>,
    ) -> Result<bool, IndexError> {
        let Some((root, rel_path)) = self.locate(path)? else {
            return Ok(false);
        };
        self.shared.store.set_details(root.id, &rel_path, details)
    }

    /// Stores why no picture could be made of the file at `path` (its data is truncated,
    /// say, though its header reads), so its details can say so. `read` is the metadata of
    /// the file as it was read: nothing is stored when the index holds another version.
    /// Kept beside the header's details, cleared like them when the file changes, and never
    /// over a header error. Returns false when nothing was stored.
    pub fn set_picture_error(
        &self,
        path: &Path,
        read: &std::fs::Metadata,
        error: &str,
    ) -> Result<bool, IndexError> {
        let Some((root, rel_path)) = self.locate(path)? else {
            return Ok(false);
        };
        let version = (read.len(), scan::modified_ns(read));
        self.shared
            .store
            .set_picture_error(root.id, &rel_path, version, error)
    }

    /// Starts a supervisor for `root` unless it has one; the caller holds the watchers' lock.
    fn start_watch(
        &self,
        watches: &mut HashMap<i64, RootWatch>,
        root: RootEntry,
    ) -> Result<(), IndexError> {
        if !watches.contains_key(&root.id) {
            let id = root.id;
            let watch = RootWatch::spawn(Arc::clone(&self.shared), root)?;
            watches.insert(id, watch);
        }
        Ok(())
    }

    fn lock_watches(&self) -> std::sync::MutexGuard<'_, HashMap<i64, RootWatch>> {
        self.watches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn find_root(&self, path: &Path) -> Result<Option<RootEntry>, IndexError> {
        // Both sides cleaned: roots stored before paths were cleaned may end in a separator.
        let clean = |path: &Path| root_path(path).unwrap_or_else(|_| path.to_path_buf());
        let path = clean(path);
        Ok(self
            .shared
            .store
            .root_entries()?
            .into_iter()
            .find(|root| clean(&root.path) == path))
    }

    /// The root holding `path` (the deepest one if roots nest) and the relative text.
    fn locate(&self, path: &Path) -> Result<Option<(RootEntry, String)>, IndexError> {
        let found = self
            .shared
            .store
            .root_entries()?
            .into_iter()
            .filter_map(|root| {
                let (rel, _) = scan::relative_text(&root.path, path)?;
                Some((root, rel))
            })
            .max_by_key(|(root, _)| root.path.as_os_str().len());
        Ok(found)
    }
}

fn absolute_root(path: &Path) -> Result<PathBuf, IndexError> {
    root_path(path).map_err(|source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The one spelling of a folder the index keeps: absolute, without `.` or `..` parts and
/// without a trailing separator, so `Data/`, `Data/./` and `Mods/../Data` name the same
/// root as `Data`. `..` is taken as written, not through symbolic links: the folder the
/// user sees in the path is the one they mean.
pub fn root_path(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Ok(clean)
}

impl Drop for AssetIndex {
    fn drop(&mut self) {
        // Each RootWatch stops and joins its thread when dropped.
        self.lock_watches().clear();
    }
}
