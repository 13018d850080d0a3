//! The Build panel's state, folded from [`BuildEvent`]s.
//!
//! Everything the panel shows besides the log is derived here and nowhere else: progress
//! (files finished over files announced), each script's status, diagnostics grouped by file
//! with the first printed first, and the error and warning counts. Folding the same events
//! always gives the same [`BuildSnapshot`], which is what the tests compare.

use std::collections::{HashMap, HashSet};

use mossy_protocol::build::{
    BuildSnapshot, Diagnostic, FileDiagnostics, ScriptEntry, ScriptStatus, Severity,
};

use super::BuildEvent;

/// One build's state. A new build starts from [`BuildState::new`], with empty error and
/// warning lists.
#[derive(Debug, Clone, Default)]
pub struct BuildState {
    snapshot: BuildSnapshot,
    /// Script name → index into `snapshot.scripts`.
    scripts: HashMap<String, usize>,
    /// Scripts known only from a failure so far: their `Compiling` line is still to come.
    unstarted: HashSet<String>,
    /// File (as printed) → index into `snapshot.files`.
    files: HashMap<Option<String>, usize>,
    /// Scripts whose status is succeeded or failed.
    finished_scripts: u32,
    /// Files in batches the compiler declared finished.
    files_in_finished_batches: u32,
}

impl BuildState {
    /// The state before any output: nothing announced, nothing found.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event into account.
    pub fn apply(&mut self, event: &BuildEvent) {
        match event {
            BuildEvent::BatchStarted { files, .. } => {
                let announced = self.snapshot.progress.announced.unwrap_or(0);
                self.snapshot.progress.announced = Some(announced.saturating_add(*files));
            }
            BuildEvent::ScriptStarted { name } => self.set_status(name, ScriptStatus::Compiling),
            BuildEvent::ScriptSucceeded { name } => self.set_status(name, ScriptStatus::Succeeded),
            BuildEvent::ScriptFailed { name } => self.set_status(name, ScriptStatus::Failed),
            BuildEvent::DiagnosticFound(diagnostic) => self.add_diagnostic(diagnostic),
            BuildEvent::BatchFinished(summary) => {
                self.files_in_finished_batches =
                    self.files_in_finished_batches.saturating_add(summary.files);
                self.snapshot.summary = Some(*summary);
            }
        }
        self.snapshot.progress.finished = self.finished_scripts.max(self.files_in_finished_batches);
    }

    /// What the panel shows now.
    pub fn snapshot(&self) -> &BuildSnapshot {
        &self.snapshot
    }

    /// The state as a value to send or store.
    pub fn into_snapshot(self) -> BuildSnapshot {
        self.snapshot
    }

    /// Moves a script to `status`, adding it if new. A failure stays until the script
    /// starts again: a late "taken as compiled" never hides it. Scripts are listed in the
    /// order they started, also when a failure read early added one before its start.
    fn set_status(&mut self, name: &str, status: ScriptStatus) {
        let Some(&index) = self.scripts.get(name) else {
            self.scripts
                .insert(name.to_owned(), self.snapshot.scripts.len());
            self.snapshot.scripts.push(ScriptEntry {
                name: name.to_owned(),
                status,
            });
            if status == ScriptStatus::Compiling {
                return;
            }
            self.finished_scripts += 1;
            self.unstarted.insert(name.to_owned());
            return;
        };
        let index = if status == ScriptStatus::Compiling && self.unstarted.remove(name) {
            self.move_to_end(index)
        } else {
            index
        };

        let entry = &mut self.snapshot.scripts[index];
        let was_finished = entry.status != ScriptStatus::Compiling;
        if entry.status == ScriptStatus::Failed && status == ScriptStatus::Succeeded {
            return;
        }
        entry.status = status;
        match (was_finished, status != ScriptStatus::Compiling) {
            (false, true) => self.finished_scripts += 1,
            (true, false) => self.finished_scripts -= 1,
            _ => {}
        }
    }

    /// Moves the script at `index` to the end of the list and returns its new index.
    fn move_to_end(&mut self, index: usize) -> usize {
        let entry = self.snapshot.scripts.remove(index);
        self.snapshot.scripts.push(entry);
        for (shifted, entry) in self.snapshot.scripts.iter().enumerate().skip(index) {
            if let Some(slot) = self.scripts.get_mut(&entry.name) {
                *slot = shifted;
            }
        }
        self.snapshot.scripts.len() - 1
    }

    fn add_diagnostic(&mut self, diagnostic: &Diagnostic) {
        match diagnostic.severity {
            Severity::Error => self.snapshot.errors += 1,
            Severity::Warning => self.snapshot.warnings += 1,
        }
        let index = match self.files.get(&diagnostic.file) {
            Some(&index) => index,
            None => {
                let index = self.snapshot.files.len();
                self.snapshot.files.push(FileDiagnostics {
                    file: diagnostic.file.clone(),
                    diagnostics: Vec::new(),
                });
                self.files.insert(diagnostic.file.clone(), index);
                index
            }
        };
        self.snapshot.files[index]
            .diagnostics
            .push(diagnostic.clone());
    }
}

#[cfg(test)]
mod tests {
    use mossy_protocol::build::{BuildProgress, CompilerSummary};

    use super::*;

    fn fold(events: &[BuildEvent]) -> BuildSnapshot {
        let mut state = BuildState::new();
        for event in events {
            state.apply(event);
        }
        state.into_snapshot()
    }

    fn script(name: &str, status: ScriptStatus) -> ScriptEntry {
        ScriptEntry {
            name: name.to_owned(),
            status,
        }
    }

    fn started(name: &str) -> BuildEvent {
        BuildEvent::ScriptStarted {
            name: name.to_owned(),
        }
    }

    fn succeeded(name: &str) -> BuildEvent {
        BuildEvent::ScriptSucceeded {
            name: name.to_owned(),
        }
    }

    fn failed(name: &str) -> BuildEvent {
        BuildEvent::ScriptFailed {
            name: name.to_owned(),
        }
    }

    #[test]
    fn a_new_build_has_nothing_and_an_indeterminate_bar() {
        assert_eq!(fold(&[]), BuildSnapshot::default());
        assert_eq!(fold(&[]).progress.fraction(), None);
    }

    #[test]
    fn progress_without_an_announcement_stays_indeterminate() {
        let snapshot = fold(&[started("A"), succeeded("A"), started("B")]);
        assert_eq!(
            snapshot.progress,
            BuildProgress {
                finished: 1,
                announced: None
            }
        );
    }

    // Guards against a late stdout line ("taken as compiled") hiding a failure that stderr
    // delivered first.
    #[test]
    fn a_failure_is_not_undone_by_a_late_success() {
        let snapshot = fold(&[
            BuildEvent::BatchStarted {
                threads: 1,
                files: 2,
            },
            started("A"),
            failed("A"),
            succeeded("A"),
            started("B"),
        ]);
        assert_eq!(
            snapshot.scripts,
            [
                script("A", ScriptStatus::Failed),
                script("B", ScriptStatus::Compiling)
            ]
        );
        assert_eq!(
            snapshot.progress,
            BuildProgress {
                finished: 1,
                announced: Some(2)
            }
        );
    }

    // Guards against stderr running ahead: a script first seen through its failure must
    // still be listed in start order, and stay failed.
    #[test]
    fn a_script_failed_before_it_started_takes_its_start_place() {
        let snapshot = fold(&[
            failed("C"),
            started("A"),
            started("B"),
            started("C"),
            failed("C"),
            succeeded("A"),
        ]);
        assert_eq!(
            snapshot.scripts,
            [
                script("A", ScriptStatus::Succeeded),
                script("B", ScriptStatus::Compiling),
                script("C", ScriptStatus::Failed),
            ]
        );
        assert_eq!(
            snapshot.progress,
            BuildProgress {
                finished: 2,
                announced: None
            }
        );
    }

    #[test]
    fn the_batch_summary_completes_the_bar() {
        let summary = CompilerSummary {
            files: 3,
            succeeded: 3,
            failed: 0,
        };
        let snapshot = fold(&[
            BuildEvent::BatchStarted {
                threads: 1,
                files: 3,
            },
            started("A"),
            BuildEvent::BatchFinished(summary),
        ]);
        assert_eq!(
            snapshot.progress,
            BuildProgress {
                finished: 3,
                announced: Some(3)
            }
        );
        assert_eq!(snapshot.summary, Some(summary));
    }
}
