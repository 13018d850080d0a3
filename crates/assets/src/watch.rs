//! One supervisor thread per root folder: first scan, live watcher, rescans and the wait
//! for a missing folder.
//!
//! The supervisor starts the debounced watcher *before* scanning, so a file written during
//! the scan is either seen by the scan or reported afterwards; applying a report twice is
//! harmless because every report is applied by looking at the disk again. Watcher errors
//! and overflows (notify's rescan flag) lead to a full rescan of the root. The root itself
//! is checked after every batch of events and every [`ROOT_POLL`]; when it is gone or has
//! been replaced by another folder of the same name, the watcher is dropped, the root is
//! marked missing and polled until it is back, and then scanned again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use file_id::FileId;
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{
    DebounceEventResult, DebouncedEvent, Debouncer, RecommendedCache, new_debouncer,
};
use tracing::{debug, info, warn};

use crate::index::{IndexError, IndexEvent, RootEntry, RootState, Shared};
use crate::scan::{self, ScannedFile, absolute_path};

/// Quiet time before the watcher hands over a batch of events. Long enough to merge the
/// create-and-write bursts that tools like xEdit and archivers make, short enough that a
/// new file shows well within the one second the gallery promises.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How often a root's existence is checked, both while watched and while missing. Drives
/// unplugged or folders renamed away are noticed within this; checking is one `stat`.
pub const ROOT_POLL: Duration = Duration::from_secs(2);

/// What the supervisor thread receives.
pub(crate) enum Control {
    /// A batch from the debounced watcher.
    Debounced(DebounceEventResult),
    /// Stop and return.
    Stop,
}

/// A running supervisor; dropping it stops the thread and waits for it.
pub(crate) struct RootWatch {
    control: Sender<Control>,
    /// Set when stopping: the supervisor may be mid-scan and see `Stop` only afterwards,
    /// and by then a new supervisor for the same root (removed and added again) owns its
    /// state.
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RootWatch {
    pub fn spawn(shared: Arc<Shared>, root: RootEntry) -> Result<Self, IndexError> {
        let (control, receiver) = channel();
        let stopping = Arc::new(AtomicBool::new(false));
        let supervisor = Supervisor {
            shared,
            root,
            control: control.clone(),
            receiver,
            stopping: Arc::clone(&stopping),
        };
        let thread = std::thread::Builder::new()
            .name("asset-index-root".to_owned())
            .spawn(move || supervisor.run())
            .map_err(IndexError::Thread)?;
        Ok(Self {
            control,
            stopping,
            thread: Some(thread),
        })
    }

    /// Hands the supervisor a message as if it came from the watcher.
    #[cfg(test)]
    pub fn inject(&self, message: Control) {
        let _ = self.control.send(message);
    }
}

impl Drop for RootWatch {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Release);
        let _ = self.control.send(Control::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("asset index supervisor panicked");
        }
    }
}

/// How following a root ended.
enum Flow {
    Stop,
    RootLost,
}

type Watcher = Debouncer<RecommendedWatcher, RecommendedCache>;

struct Supervisor {
    shared: Arc<Shared>,
    root: RootEntry,
    control: Sender<Control>,
    receiver: Receiver<Control>,
    stopping: Arc<AtomicBool>,
}

impl Supervisor {
    fn run(self) {
        info!(root = %self.root.path.display(), "watching root");
        loop {
            if !self.root.path.is_dir() {
                self.set_state(RootState::Missing);
                info!(root = %self.root.path.display(), "root missing; waiting for it");
                if let Flow::Stop = self.wait_for_root() {
                    return;
                }
            }

            self.set_state(RootState::Scanning);
            let identity = file_id::get_file_id(&self.root.path).ok();
            let watcher = self.start_watcher();
            if self.rescan().is_err() && !self.root.path.is_dir() {
                continue;
            }
            self.set_state(RootState::Ready);

            let flow = self.follow(identity.as_ref());
            drop(watcher);
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    fn start_watcher(&self) -> Option<Watcher> {
        let control = self.control.clone();
        let handler = move |result: DebounceEventResult| {
            let _ = control.send(Control::Debounced(result));
        };
        let started = new_debouncer(DEBOUNCE, None, handler).and_then(|mut watcher| {
            watcher.watch(&self.root.path, RecursiveMode::Recursive)?;
            Ok(watcher)
        });
        match started {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                // Without a watcher the root is still scanned and polled; changes show up
                // at the next rescan only.
                warn!(root = %self.root.path.display(), %error, "cannot watch root");
                None
            }
        }
    }

    /// Applies watcher reports until told to stop or the root goes away.
    fn follow(&self, identity: Option<&FileId>) -> Flow {
        loop {
            match self.receiver.recv_timeout(ROOT_POLL) {
                Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return Flow::Stop,
                Ok(Control::Debounced(result)) => {
                    if !self.root_intact(identity) {
                        return Flow::RootLost;
                    }
                    match result {
                        Ok(events) if events.iter().any(|event| event.need_rescan()) => {
                            info!(root = %self.root.path.display(), "watcher overflowed");
                            self.rescan_now();
                        }
                        Ok(events) => self.apply(&events),
                        Err(errors) => {
                            for error in &errors {
                                warn!(root = %self.root.path.display(), %error, "watcher error");
                            }
                            self.rescan_now();
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !self.root_intact(identity) {
                        return Flow::RootLost;
                    }
                }
            }
        }
    }

    /// Polls every [`ROOT_POLL`] until the root exists again or the supervisor is stopped.
    fn wait_for_root(&self) -> Flow {
        loop {
            match self.receiver.recv_timeout(ROOT_POLL) {
                Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return Flow::Stop,
                // Reports from a dropped watcher are stale; the rescan covers them.
                Ok(Control::Debounced(_)) | Err(RecvTimeoutError::Timeout) => {}
            }
            if self.root.path.is_dir() {
                return Flow::RootLost;
            }
        }
    }

    /// The root still exists and is the same folder that is being watched.
    fn root_intact(&self, identity: Option<&FileId>) -> bool {
        if !self.root.path.is_dir() {
            return false;
        }
        match (identity, file_id::get_file_id(&self.root.path)) {
            (Some(watched), Ok(current)) => *watched == current,
            _ => true,
        }
    }

    fn rescan_now(&self) {
        self.set_state(RootState::Scanning);
        if self.rescan().is_ok() {
            self.set_state(RootState::Ready);
        }
    }

    fn rescan(&self) -> Result<usize, IndexError> {
        self.shared.rescan(&self.root).inspect_err(|error| {
            warn!(root = %self.root.path.display(), %error, "root scan failed");
        })
    }

    fn set_state(&self, state: RootState) {
        // A stopping supervisor says nothing more about the root.
        if self.stopping.load(Ordering::Acquire) {
            return;
        }
        if let Err(error) = self.shared.set_state(&self.root, state) {
            warn!(root = %self.root.path.display(), %error, "cannot save root state");
        }
    }

    /// Brings the rows of every path named in `events` in line with the disk.
    fn apply(&self, events: &[DebouncedEvent]) {
        let paths: BTreeSet<&Path> = events
            .iter()
            .filter(|event| !is_read_only_access(&event.kind))
            .flat_map(|event| event.paths.iter().map(PathBuf::as_path))
            .collect();

        let mut files = Vec::new();
        let mut gone = Vec::new();
        let mut folders = Vec::new();
        for path in paths {
            let Some((rel_path, _)) = scan::relative_text(&self.root.path, path) else {
                continue;
            };
            match std::fs::symlink_metadata(path) {
                Ok(metadata) if metadata.is_file() => {
                    files.extend(ScannedFile::from_metadata(&self.root.path, path, &metadata));
                }
                Ok(metadata) if metadata.is_dir() => folders.push((path, rel_path)),
                // Gone, or no longer a regular file: either way it has no row now.
                _ => gone.push(rel_path),
            }
        }
        debug!(
            root = %self.root.path.display(),
            files = files.len(),
            gone = gone.len(),
            folders = folders.len(),
            "applying changes"
        );

        if let Err(error) = self.apply_changes(files, &gone, &folders) {
            warn!(root = %self.root.path.display(), %error, "cannot apply changes; rescanning");
            self.rescan_now();
        }
    }

    fn apply_changes(
        &self,
        files: Vec<ScannedFile>,
        gone: &[String],
        folders: &[(&Path, String)],
    ) -> Result<(), IndexError> {
        let lock = self.shared.root_lock(self.root.id);
        let _writing = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let store = &self.shared.store;
        for rel_path in store.remove(self.root.id, gone)? {
            self.emit(IndexEvent::Removed(absolute_path(
                &self.root.path,
                &rel_path,
            )));
        }
        for rel_path in store.upsert(self.root.id, files)? {
            self.emit(IndexEvent::Upserted(absolute_path(
                &self.root.path,
                &rel_path,
            )));
        }

        // A folder that appears (created, or renamed in with files inside) gets no event
        // per file, so it is scanned like a small root.
        for (folder, rel_path) in folders {
            let mut reconcile = store.begin_reconcile(self.root.id, Some(rel_path), true)?;
            scan::scan_tree(&self.root.path, folder, |batch| reconcile.push(batch))?;
            let outcome = reconcile.finish(true)?;
            for rel_path in outcome.removed {
                self.emit(IndexEvent::Removed(absolute_path(
                    &self.root.path,
                    &rel_path,
                )));
            }
            for rel_path in outcome.upserted {
                self.emit(IndexEvent::Upserted(absolute_path(
                    &self.root.path,
                    &rel_path,
                )));
            }
        }
        Ok(())
    }

    fn emit(&self, event: IndexEvent) {
        self.shared.emit(event);
    }
}

/// Opening or reading a file changes nothing worth a row update.
fn is_read_only_access(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Access(
            AccessKind::Open(_) | AccessKind::Read | AccessKind::Close(AccessMode::Read)
        )
    )
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::Receiver;
    use std::time::Instant;

    use super::*;
    use crate::index::{AssetFilter, Store};

    /// How long a test waits for the supervisor before failing.
    const DEADLINE: Duration = Duration::from_secs(10);

    fn wait_for(events: &Receiver<IndexEvent>, wanted: impl Fn(&IndexEvent) -> bool) {
        let end = Instant::now() + DEADLINE;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(event) if wanted(&event) => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("event not seen within {DEADLINE:?}");
    }

    fn indexed(shared: &Shared) -> Vec<(String, u64)> {
        let mut rows: Vec<_> = shared
            .store
            .list(&AssetFilter::default(), 0, 1000)
            .expect("list")
            .into_iter()
            .map(|record| (record.rel_path, record.size))
            .collect();
        rows.sort();
        rows
    }

    // A root removed mid-scan and added again has a new supervisor; the old one, finishing
    // its scan, must not mark the root ready over the new one's scanning.
    #[test]
    fn a_stopped_supervisor_leaves_the_root_state_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root_path = dir.path().join("Big #1 ü");
        std::fs::create_dir_all(&root_path).expect("mkdir");
        for n in 0..2000 {
            std::fs::write(root_path.join(format!("f {n}.dds")), b"x").expect("write");
        }
        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root = RootEntry {
            id: store
                .add_root(root_path.to_str().expect("utf-8"))
                .expect("root"),
            path: root_path,
        };
        let (sender, events) = channel();
        let shared = Arc::new(Shared::new(store, sender));

        // Stopped at once: whatever it got through, its scan ends after the stop.
        drop(RootWatch::spawn(Arc::clone(&shared), root.clone()).expect("spawn"));

        let states: Vec<RootState> = events
            .try_iter()
            .filter_map(|event| match event {
                IndexEvent::RootState(_, state) => Some(state),
                _ => None,
            })
            .collect();
        assert!(!states.contains(&RootState::Ready), "{states:?}");
        let stored = shared.store.roots().expect("roots")[0].state;
        assert_eq!(stored, RootState::Scanning);
    }

    // Guards the overflow path: a watcher error must lead to a rescan that reconciles rows
    // the watcher never reported.
    #[test]
    fn watcher_error_triggers_reconciling_rescan() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root_path = dir.path().join("Mods #2");
        std::fs::create_dir_all(root_path.join("Tëxtures ü")).expect("mkdir");
        std::fs::write(root_path.join("Tëxtures ü/a b.dds"), b"abc").expect("write");

        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root_text = root_path.to_str().expect("utf-8 temp path");
        let root = RootEntry {
            id: store.add_root(root_text).expect("root"),
            path: root_path.clone(),
        };
        let (sender, events) = channel();
        let shared = Arc::new(Shared::new(store, sender));
        let watch = RootWatch::spawn(Arc::clone(&shared), root.clone()).expect("spawn");
        wait_for(&events, |event| {
            *event == IndexEvent::RootState(root.path.clone(), RootState::Ready)
        });

        // Rows the watcher knows nothing about: a stale one and a missing one.
        shared
            .store
            .upsert(
                root.id,
                vec![ScannedFile {
                    rel_path: "stale.nif".to_owned(),
                    lossy_name: false,
                    size: 9,
                    modified_ns: 9,
                }],
            )
            .expect("stale row");
        shared
            .store
            .remove(root.id, &["Tëxtures ü".to_owned()])
            .expect("drop row");
        assert_eq!(indexed(&shared), [("stale.nif".to_owned(), 9)]);

        watch.inject(Control::Debounced(Err(vec![notify::Error::generic(
            "injected",
        )])));
        wait_for(&events, |event| {
            matches!(event, IndexEvent::Rescanned(_, 1))
        });

        assert_eq!(indexed(&shared), [("Tëxtures ü/a b.dds".to_owned(), 3)]);
    }
}
