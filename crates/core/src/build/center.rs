//! The Build panel's state: every build the app runs, Mossy reports or reads from a log
//! file, with its whole log, its parsed progress and diagnostics, and the history.
//!
//! A [`BuildCenter`] is a cheap handle. Builds feed it line by line from three places:
//! the runner's reading task (a profile build), the bus (Mossy's `build_*` messages) and a
//! log follower. Each line goes into the build's [`LogBuffer`] and through its
//! [`BuildTracker`] under one short lock, and bumps a version number. A subscriber waits
//! for the version to change and then takes one [`BuildUpdate`], so a build printing a
//! hundred thousand lines a second costs the window one update per frame; the lines
//! themselves are fetched by range for the rows on screen.
//!
//! A finished build is written to the [`BuildHistory`] off the async threads. While a
//! profile build runs, its raw output (every byte, before the display cap) is also written
//! to `<raw dir>/<id>/stdout.log` and `stderr.log`, so even a 10 MB line is kept whole.
//! That spool lives in `center/spool.rs`; Mossy's builds are followed in `center/mossy.rs`;
//! build profiles are checked and saved in `center/profiles.rs`.

mod mossy;
mod profiles;
mod spool;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mossy_protocol::bridge::{BuildResult, LogStream};
use mossy_protocol::build::{
    BuildId, BuildProfile, BuildSource, BuildStatus, BuildSummary, BuildUpdate, BuildView,
    Diagnostic, DiagnosticsDelta, LogLine, LogPage,
};
use tokio::sync::watch;
use tracing::{info, warn};

use super::follow::{FollowEvent, follow};
use super::history::{BuildHistory, HISTORY_LOG_CAP, StoredBuild};
use super::log::LogBuffer;
use super::runner::{BuildRunner, CancelHandle};
use super::{BuildEvent, BuildTracker};
use crate::bus::Bus;
use crate::clock::now_ms;
use mossy::follow_mossy;
use spool::{LiveSink, prune_raw};

/// Builds listed in each update; older ones stay in the history file.
pub const HISTORY_SHOWN: usize = 50;

/// Where the center keeps its files.
#[derive(Debug, Clone)]
pub struct BuildCenterConfig {
    /// The history database.
    pub history_file: PathBuf,
    /// Folder for the raw output of profile builds, one subfolder per build.
    pub raw_dir: PathBuf,
    /// The settings file profiles are saved in.
    pub settings_file: PathBuf,
}

/// Why a Build panel request failed; the text is for the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CenterError {
    /// No profile has that name.
    #[error("There is no build profile named \"{0}\".")]
    NoSuchProfile(String),
    /// No build has that id.
    #[error("That build is not in the history any more.")]
    NoSuchBuild,
    /// A profile build is already running.
    #[error("A build is already running; cancel it or wait for it to end.")]
    AlreadyRunning,
    /// The build has ended.
    #[error("That build has already ended.")]
    NotRunning,
    /// A profile the user entered is not usable.
    #[error("{0}")]
    InvalidProfile(String),
    /// A log file to follow is not usable.
    #[error("{0}")]
    InvalidLogFile(String),
    /// Settings could not be saved.
    #[error("The profiles could not be saved: {0}")]
    Settings(String),
    /// The history store failed.
    #[error("The build history could not be read or written: {0}")]
    Storage(String),
}

/// The Build panel's state; clone it freely.
#[derive(Clone)]
pub struct BuildCenter {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    version: watch::Sender<u64>,
    history: Mutex<BuildHistory>,
    runner: BuildRunner,
    config: BuildCenterConfig,
    /// The runtime the center was started on; requests may come from threads outside it
    /// (the app's synchronous commands run on the window's thread).
    runtime: tokio::runtime::Handle,
}

#[derive(Default)]
struct State {
    /// Running builds and the newest finished one, oldest first.
    live: Vec<LiveBuild>,
    /// The newest build.
    current: Option<BuildId>,
    /// An old build opened from the history.
    opened: Option<StoredBuild>,
    /// The newest builds from the history file.
    history: Vec<BuildSummary>,
    profiles: Vec<BuildProfile>,
    notice: Option<String>,
}

struct LiveBuild {
    view: BuildView,
    log: LogBuffer,
    tracker: BuildTracker,
    control: Control,
    /// Every diagnostic in the order found, for the streamed deltas.
    diagnostics: Vec<Diagnostic>,
}

enum Control {
    /// A profile build's process.
    Process(CancelHandle),
    /// A followed log file; send `true` to stop.
    Follow(watch::Sender<bool>),
    /// Mossy runs it; the app only watches.
    Mossy,
    /// It ended.
    Ended,
}

impl LiveBuild {
    fn new(view: BuildView) -> Self {
        let log = LogBuffer::new(view.started_at_ms);
        Self {
            view,
            log,
            tracker: BuildTracker::new(),
            control: Control::Ended,
            diagnostics: Vec::new(),
        }
    }

    fn is_running(&self) -> bool {
        self.view.status == BuildStatus::Running
    }

    fn push(&mut self, line: &LogLine) {
        let number = self.log.push(line);
        let events = self.tracker.feed_numbered(number, line.stream, &line.text);
        let before = self.diagnostics.len();
        for event in events {
            if let BuildEvent::DiagnosticFound(diagnostic) = event {
                self.diagnostics.push(diagnostic.clone());
            }
        }
        if self.diagnostics.len() > before {
            self.log.mark_problem(number);
        }
        self.view.lines = self.log.len();
        self.view.problem_lines = self.log.problem_count();
    }

    /// A marker line from the app itself, such as "the file was truncated".
    fn push_notice(&mut self, text: &str) {
        let line = LogLine {
            number: 0,
            at_ms: now_ms(),
            stream: LogStream::Stderr,
            text: format!("── Mossy Live: {text} ──"),
            lossy: false,
            truncated: false,
            byte_len: 0,
        };
        self.log.push(&line);
        self.view.lines = self.log.len();
    }

    fn view(&self) -> BuildView {
        BuildView {
            snapshot: self.tracker.snapshot().clone(),
            ..self.view.clone()
        }
    }

    fn summary(&self) -> BuildSummary {
        let snapshot = self.tracker.snapshot();
        BuildSummary {
            id: self.view.id,
            title: self.view.title.clone(),
            source: self.view.source.clone(),
            status: self.view.status,
            started_at_ms: self.view.started_at_ms,
            duration_ms: self
                .view
                .ended_at_ms
                .map(|ended| u64::try_from(ended - self.view.started_at_ms).unwrap_or(0)),
            errors: snapshot.errors,
            warnings: snapshot.warnings,
            lines: self.log.len(),
        }
    }
}

impl BuildCenter {
    /// Opens the history, reads the profiles and starts following Mossy's builds on `bus`.
    /// Must be called inside a tokio runtime; the center keeps using that runtime, so its
    /// methods may be called from any thread. A history file that cannot be used at all is
    /// replaced by one in memory, and the panel says so.
    pub fn start(config: BuildCenterConfig, profiles: Vec<BuildProfile>, bus: &Bus) -> Self {
        let mut notice = None;
        let history = match BuildHistory::open(&config.history_file) {
            Ok((history, None)) => Some(history),
            Ok((history, Some(moved))) => {
                notice = Some(format!(
                    "The build history was damaged and has been kept aside as {}.",
                    moved.display()
                ));
                Some(history)
            }
            Err(err) => {
                warn!(error = %err, "build history unusable; keeping it in memory only");
                notice = Some(format!("Build history is not being kept: {err}"));
                None
            }
        };
        let history = match history.map_or_else(BuildHistory::in_memory, Ok) {
            Ok(history) => history,
            Err(err) => {
                // An in-memory SQLite database failing to open means no memory at all.
                warn!(error = %err, "in-memory build history failed");
                notice = Some(format!("Build history is not being kept: {err}"));
                #[expect(clippy::expect_used, reason = "no way to continue without memory")]
                BuildHistory::in_memory().expect("an in-memory database opens")
            }
        };
        let listed = history.list(HISTORY_SHOWN).unwrap_or_else(|err| {
            warn!(error = %err, "build history list failed");
            Vec::new()
        });
        let center = Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    history: listed,
                    profiles,
                    notice,
                    ..State::default()
                }),
                version: watch::Sender::new(0),
                history: Mutex::new(history),
                runner: BuildRunner::new(),
                config,
                runtime: tokio::runtime::Handle::current(),
            }),
        };
        tokio::spawn(follow_mossy(
            Arc::downgrade(&center.shared),
            bus.subscribe(),
        ));
        center
    }

    /// A stream of updates; the first comes at once.
    pub fn subscribe(&self) -> BuildSubscription {
        let mut version = self.shared.version.subscribe();
        version.mark_changed();
        BuildSubscription {
            center: self.clone(),
            version,
            sent: (None, 0),
        }
    }

    /// The panel's current update, whole.
    pub fn update(&self) -> BuildUpdate {
        self.update_after(None)
    }

    /// The panel's update for a window that already has the first `sent.1` diagnostics of
    /// build `sent.0`: the current build's diagnostics come as a delta in
    /// [`BuildUpdate::diagnostics`] and its `snapshot.files` is left empty. With `None`,
    /// the update is whole and carries no delta.
    fn update_after(&self, sent: Option<(Option<BuildId>, usize)>) -> BuildUpdate {
        let state = self.shared.lock();
        let live_current = state
            .current
            .and_then(|id| state.live.iter().find(|build| build.view.id == id));
        let diagnostics = sent.and_then(|(sent_build, sent_count)| {
            let build = live_current?;
            let from = if sent_build == Some(build.view.id) {
                sent_count.min(build.diagnostics.len())
            } else {
                0
            };
            Some(DiagnosticsDelta {
                build: build.view.id,
                from: u32::try_from(from).unwrap_or(u32::MAX),
                items: build.diagnostics[from..].to_vec(),
            })
        });
        let current = state
            .current
            .and_then(|id| state.live.iter().find(|build| build.view.id == id))
            .map(LiveBuild::view);
        let mut history: Vec<BuildSummary> = state
            .live
            .iter()
            .rev()
            .filter(|build| !state.history.iter().any(|h| h.id == build.view.id))
            .map(LiveBuild::summary)
            .collect();
        history.extend(state.history.iter().map(|stored| {
            state
                .live
                .iter()
                .find(|build| build.view.id == stored.id)
                .map_or_else(|| stored.clone(), LiveBuild::summary)
        }));
        history.sort_by_key(|summary| std::cmp::Reverse(summary.id));
        let current = match (current, &diagnostics) {
            (Some(mut view), Some(_)) => {
                view.snapshot.files.clear();
                Some(view)
            }
            (current, _) => current,
        };
        BuildUpdate {
            current,
            history,
            profiles: state.profiles.clone(),
            notice: state.notice.clone(),
            diagnostics,
        }
    }

    /// Runs the profile named `name` and returns the new build's id.
    pub fn start_profile(&self, name: &str) -> Result<BuildId, CenterError> {
        let profile = {
            let state = self.shared.lock();
            if state
                .live
                .iter()
                .any(|build| build.is_running() && matches!(build.control, Control::Process(_)))
            {
                return Err(CenterError::AlreadyRunning);
            }
            state
                .profiles
                .iter()
                .find(|profile| profile.name == name)
                .cloned()
                .ok_or_else(|| CenterError::NoSuchProfile(name.to_owned()))?
        };
        let source = BuildSource::Profile {
            name: profile.name.clone(),
        };
        let id = self.shared.open_build(profile.name.clone(), source)?;
        let sink = LiveSink::new(&self.shared, id, &self.shared.config.raw_dir);
        let running = {
            let _runtime = self.shared.runtime.enter();
            self.shared.runner.start(&profile, sink)
        };
        self.shared.with_build(id, |build| {
            build.control = Control::Process(running.cancel_handle())
        });
        let shared = Arc::clone(&self.shared);
        self.shared.runtime.spawn(async move {
            let outcome = running.wait().await;
            let ok = outcome.result == BuildResult::Succeeded;
            shared.finish(id, outcome.result.into(), outcome.reason, ok);
        });
        Ok(id)
    }

    /// Follows the log file at `path` as a build, from its start, until cancelled.
    pub fn follow_log(&self, path: &Path) -> Result<BuildId, CenterError> {
        if !path.is_absolute() {
            return Err(CenterError::InvalidLogFile(
                "Give the log file's full path, such as C:\\Users\\you\\Documents\\My Games\\Fallout4\\Logs\\Script\\Papyrus.0.log.".into(),
            ));
        }
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_file() => {}
            Ok(_) => {
                return Err(CenterError::InvalidLogFile(format!(
                    "{} is a folder, not a log file.",
                    path.display()
                )));
            }
            Err(err) => {
                return Err(CenterError::InvalidLogFile(format!(
                    "{} cannot be read: {err}.",
                    path.display()
                )));
            }
        }
        let title = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        let source = BuildSource::LogFile {
            path: path.display().to_string(),
        };
        let id = self.shared.open_build(title, source)?;
        let (stop, stopped) = watch::channel(false);
        self.shared
            .with_build(id, |build| build.control = Control::Follow(stop));
        let weak = Arc::downgrade(&self.shared);
        self.shared
            .runtime
            .spawn(follow(path.to_owned(), stopped, move |event| {
                if let Some(shared) = weak.upgrade() {
                    shared.with_build(id, |build| match &event {
                        FollowEvent::Line(line) => build.push(line),
                        FollowEvent::Notice(text) => build.push_notice(text),
                    });
                }
            }));
        Ok(id)
    }

    /// Cancels a running build, stops following a log, or stops watching a Mossy build
    /// (Mossy itself is not told; it has no message for that).
    pub fn cancel(&self, id: BuildId) -> Result<(), CenterError> {
        let mut state = self.shared.lock();
        let build = state
            .live
            .iter_mut()
            .find(|build| build.view.id == id)
            .ok_or(CenterError::NotRunning)?;
        if !build.is_running() {
            return Err(CenterError::NotRunning);
        }
        match &build.control {
            Control::Process(cancel) => {
                info!(id = id.0, "build cancel requested");
                cancel.cancel();
                Ok(())
            }
            Control::Follow(stop) => {
                let _ = stop.send(true);
                drop(state);
                self.shared.finish(
                    id,
                    BuildStatus::Cancelled,
                    Some("No longer following the file.".into()),
                    true,
                );
                Ok(())
            }
            Control::Mossy => {
                drop(state);
                self.shared.finish(
                    id,
                    BuildStatus::Cancelled,
                    Some("Stopped watching here; Mossy may still be building.".into()),
                    false,
                );
                Ok(())
            }
            Control::Ended => Err(CenterError::NotRunning),
        }
    }

    /// One build's view, live or from the history.
    pub fn view(&self, id: BuildId) -> Result<BuildView, CenterError> {
        self.shared.with_log(id, |view, _| view)
    }

    /// Lines of one build (see [`LogBuffer::range`]).
    pub fn log_range(
        &self,
        id: BuildId,
        start: u64,
        count: u64,
        problems_only: bool,
    ) -> Result<LogPage, CenterError> {
        // A window shows well under a thousand rows; a larger ask is trimmed, not refused.
        let count = count.min(2_000);
        self.shared.with_log(id, |_, log| LogPage {
            build: id,
            start,
            lines: log.range(start, count, problems_only),
        })
    }

    /// The next line holding `query` (see [`LogBuffer::search`]).
    pub fn search(
        &self,
        id: BuildId,
        query: &str,
        from: u64,
        backwards: bool,
    ) -> Result<Option<u64>, CenterError> {
        self.shared
            .with_log(id, |_, log| log.search(query, from, backwards))
    }

    /// Where line `number` sits among the problem lines, for the "errors only" view.
    pub fn problem_position(&self, id: BuildId, number: u64) -> Result<Option<u64>, CenterError> {
        self.shared
            .with_log(id, |_, log| log.problem_position(number))
    }

    /// Bytes held by the logs in memory, for the memory figures.
    pub fn log_heap_bytes(&self) -> usize {
        let state = self.shared.lock();
        state.live.iter().map(|b| b.log.heap_bytes()).sum::<usize>()
            + state.opened.as_ref().map_or(0, |b| b.log.heap_bytes())
    }
}

/// Updates for one window.
pub struct BuildSubscription {
    center: BuildCenter,
    version: watch::Receiver<u64>,
    /// The build whose diagnostics were last sent as a delta, and how many.
    sent: (Option<BuildId>, usize),
}

impl BuildSubscription {
    /// Waits until something changed and returns the panel's whole update; `None` once
    /// the center is gone.
    pub async fn next_update(&mut self) -> Option<BuildUpdate> {
        self.version.changed().await.ok()?;
        self.version.mark_unchanged();
        Some(self.center.update())
    }

    /// Like [`BuildSubscription::next_update`], but the current build's diagnostics come
    /// as a delta from what this subscription sent before (see [`BuildUpdate::diagnostics`]).
    pub async fn next_delta_update(&mut self) -> Option<BuildUpdate> {
        self.version.changed().await.ok()?;
        self.version.mark_unchanged();
        let update = self.center.update_after(Some(self.sent));
        if let Some(delta) = &update.diagnostics {
            self.sent = (Some(delta.build), delta.from as usize + delta.items.len());
        }
        Some(update)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under this lock is a plain field update; a panic cannot leave a
        // half-made state that is worse than stopping the app.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn changed(&self) {
        self.version
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    fn with_build(&self, id: BuildId, change: impl FnOnce(&mut LiveBuild)) {
        let mut state = self.lock();
        if let Some(build) = state.live.iter_mut().find(|build| build.view.id == id) {
            change(build);
            drop(state);
            self.changed();
        }
    }

    /// Records a new running build, makes it the current one, and returns its id.
    fn open_build(&self, title: String, source: BuildSource) -> Result<BuildId, CenterError> {
        let started_at_ms = now_ms();
        let id = self
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .begin(&title, &source, started_at_ms)
            .map_err(|err| CenterError::Storage(err.to_string()))?;
        info!(id = id.0, %title, "build opened");
        let view = BuildView {
            id,
            title,
            source,
            status: BuildStatus::Running,
            started_at_ms,
            ended_at_ms: None,
            percent: None,
            message: None,
            reason: None,
            snapshot: Default::default(),
            lines: 0,
            problem_lines: 0,
            log_capped: false,
        };
        let mut state = self.lock();
        // Finished builds are in the history; only running ones stay in memory.
        state.live.retain(LiveBuild::is_running);
        state.live.push(LiveBuild::new(view));
        state.current = Some(id);
        drop(state);
        self.changed();
        Ok(id)
    }

    /// Ends a build: final status, parser finished, stored in the history.
    fn finish(
        self: &Arc<Self>,
        id: BuildId,
        status: BuildStatus,
        reason: Option<String>,
        process_ok: bool,
    ) {
        let mut state = self.lock();
        let Some(build) = state.live.iter_mut().find(|build| build.view.id == id) else {
            return;
        };
        if !build.is_running() {
            return;
        }
        build.tracker.finish(process_ok);
        build.view.status = status;
        build.view.reason = reason;
        build.view.ended_at_ms = Some(now_ms());
        build.control = Control::Ended;
        let (encoded, capped) = build.log.encode(HISTORY_LOG_CAP);
        build.view.log_capped = capped;
        let view = build.view();
        // A finished build that is not the current one has nothing more to show.
        if state.current != Some(id) {
            state.live.retain(|build| build.view.id != id);
        }
        drop(state);
        info!(id = id.0, status = ?view.status, lines = view.lines, "build ended");
        self.changed();
        self.store(view, encoded);
    }

    /// Writes a finished build to the history on a blocking thread, then refreshes the list.
    fn store(self: &Arc<Self>, view: BuildView, encoded: Vec<u8>) {
        let shared = Arc::clone(self);
        self.runtime.spawn_blocking(move || {
            let mut history = shared
                .history
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let stored = history.finish(&view, &encoded);
            let listed = history.list(HISTORY_SHOWN);
            drop(history);
            let mut state = shared.lock();
            match (stored, listed) {
                (Ok(()), Ok(listed)) => {
                    prune_raw(&shared.config.raw_dir, &listed);
                    state.history = listed;
                }
                (Err(err), _) | (_, Err(err)) => {
                    warn!(id = view.id.0, error = %err, "build not stored");
                    state.notice = Some(format!("The last build could not be stored: {err}"));
                }
            }
            drop(state);
            shared.changed();
        });
    }

    /// Runs `read` on a build's view and log: live, opened, or loaded from the history.
    fn with_log<T>(
        &self,
        id: BuildId,
        read: impl FnOnce(BuildView, &LogBuffer) -> T,
    ) -> Result<T, CenterError> {
        {
            let state = self.lock();
            if let Some(build) = state.live.iter().find(|build| build.view.id == id) {
                return Ok(read(build.view(), &build.log));
            }
            if let Some(opened) = state.opened.as_ref().filter(|b| b.view.id == id) {
                return Ok(read(opened.view.clone(), &opened.log));
            }
        }
        let stored = self
            .history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .load(id)
            .map_err(|err| CenterError::Storage(err.to_string()))?
            .ok_or(CenterError::NoSuchBuild)?;
        let result = read(stored.view.clone(), &stored.log);
        self.lock().opened = Some(stored);
        Ok(result)
    }
}
