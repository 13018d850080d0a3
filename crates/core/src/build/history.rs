//! Past builds on disk: one SQLite file with a row per build and its log.
//!
//! A build gets its row when it starts (its id is the row id, so ids stay unique across
//! runs of the app) and its results and log when it ends. A row still marked running when
//! the app starts belongs to a build the app never saw end (a crash, a power cut); it is
//! marked failed with that reason. The log is stored whole up to [`HISTORY_LOG_CAP`] bytes
//! of text per build; past the cap the build is flagged so the panel can say so. The
//! newest [`HISTORY_KEEP`] builds are kept.

use std::path::{Path, PathBuf};

use mossy_protocol::build::{
    BuildId, BuildSnapshot, BuildSource, BuildStatus, BuildSummary, BuildView,
};
use rusqlite::{Connection, OptionalExtension, params};
use tracing::warn;

use super::log::LogBuffer;
use crate::store::{self, OpenError};

/// Most bytes of log text stored per build: a million typical lines fit in about a tenth
/// of it, and a runaway tool cannot fill the disk.
pub const HISTORY_LOG_CAP: usize = 512 * 1024 * 1024;

/// Builds kept; older ones are deleted as new ones end.
pub const HISTORY_KEEP: usize = 200;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS builds (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    started_at_ms INTEGER NOT NULL,
    ended_at_ms   INTEGER,
    reason        TEXT,
    errors        INTEGER NOT NULL DEFAULT 0,
    warnings      INTEGER NOT NULL DEFAULT 0,
    lines         INTEGER NOT NULL DEFAULT 0,
    log_capped    INTEGER NOT NULL DEFAULT 0,
    snapshot      TEXT
);
CREATE TABLE IF NOT EXISTS build_logs (
    build_id INTEGER PRIMARY KEY REFERENCES builds(id) ON DELETE CASCADE,
    data     BLOB NOT NULL
);
";

/// Why the history store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The file could not be opened or created.
    #[error("build history {path} cannot be opened: {reason}")]
    Open {
        /// The history file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// A stored row could not be read back.
    #[error("build {id} in the history is damaged: {reason}")]
    Damaged {
        /// The build.
        id: i64,
        /// What is wrong.
        reason: String,
    },
    /// Any other SQLite failure.
    #[error("build history: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The history file, open.
#[derive(Debug)]
pub struct BuildHistory {
    connection: Connection,
}

/// A build from the history, as it was when it ended.
#[derive(Debug, Clone)]
pub struct StoredBuild {
    /// What the panel shows about it.
    pub view: BuildView,
    /// Its log.
    pub log: LogBuffer,
}

impl BuildHistory {
    /// Opens (or creates) the history at `path`. A damaged file is moved aside and a fresh
    /// one started; the moved file's new name is returned so the user can be told.
    pub fn open(path: &Path) -> Result<(Self, Option<PathBuf>), HistoryError> {
        let open = |path: &Path| store::open(path, SCHEMA, "SELECT count(*) FROM builds");
        let open_error = |reason: String| HistoryError::Open {
            path: path.to_owned(),
            reason,
        };
        let (connection, moved) = match open(path) {
            Ok(connection) => (connection, None),
            Err(OpenError::Unreadable(source)) => {
                let moved = store::move_aside(path).map_err(|(side, err)| {
                    open_error(format!(
                        "damaged, and {} cannot be moved: {err}",
                        side.display()
                    ))
                })?;
                warn!(path = %path.display(), moved_to = %moved.display(), error = %source,
                    "build history was damaged; moved aside, starting empty");
                let connection = open(path).map_err(|err| open_error(describe(err)))?;
                (connection, Some(moved))
            }
            Err(err) => return Err(open_error(describe(err))),
        };
        connection.pragma_update(None, "foreign_keys", "ON")?;
        let history = Self { connection };
        history.close_interrupted()?;
        Ok((history, moved))
    }

    /// A history kept in memory only, for when the file cannot be used.
    pub fn in_memory() -> Result<Self, HistoryError> {
        let connection = Connection::open_in_memory()?;
        connection.execute_batch(SCHEMA)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        Ok(Self { connection })
    }

    /// Records a build that is starting and returns its id.
    pub fn begin(
        &self,
        title: &str,
        source: &BuildSource,
        started_at_ms: i64,
    ) -> Result<BuildId, HistoryError> {
        self.connection.execute(
            "INSERT INTO builds (title, source, status, started_at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![
                title,
                to_json(source),
                status_text(BuildStatus::Running),
                started_at_ms
            ],
        )?;
        Ok(BuildId(self.connection.last_insert_rowid()))
    }

    /// Records how a build ended, with its log (already encoded by
    /// [`LogBuffer::encode`]), and deletes the oldest builds beyond [`HISTORY_KEEP`].
    pub fn finish(&mut self, view: &BuildView, encoded_log: &[u8]) -> Result<(), HistoryError> {
        let transaction = self.connection.transaction()?;
        transaction.execute(
            "UPDATE builds SET title = ?2, status = ?3, ended_at_ms = ?4, reason = ?5, \
             errors = ?6, warnings = ?7, lines = ?8, log_capped = ?9, snapshot = ?10 \
             WHERE id = ?1",
            params![
                view.id.0,
                view.title,
                status_text(view.status),
                view.ended_at_ms,
                view.reason,
                view.snapshot.errors,
                view.snapshot.warnings,
                i64::try_from(view.lines).unwrap_or(i64::MAX),
                view.log_capped,
                to_json(&view.snapshot),
            ],
        )?;
        transaction.execute(
            "INSERT OR REPLACE INTO build_logs (build_id, data) VALUES (?1, ?2)",
            params![view.id.0, encoded_log],
        )?;
        transaction.execute(
            "DELETE FROM builds WHERE id <= (SELECT id FROM builds ORDER BY id DESC \
             LIMIT 1 OFFSET ?1)",
            [i64::try_from(HISTORY_KEEP).unwrap_or(i64::MAX)],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// The newest `limit` builds, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<BuildSummary>, HistoryError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, title, source, status, started_at_ms, ended_at_ms, errors, warnings, \
             lines FROM builds ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
                row.get::<_, u32>(6)?,
                row.get::<_, u32>(7)?,
                row.get::<_, i64>(8)?,
            ))
        })?;
        let mut builds = Vec::new();
        for row in rows {
            let (id, title, source, status, started, ended, errors, warnings, lines) = row?;
            builds.push(BuildSummary {
                id: BuildId(id),
                title,
                source: from_json(id, &source)?,
                status: status_from_text(id, &status)?,
                started_at_ms: started,
                duration_ms: ended.map(|ended| u64::try_from(ended - started).unwrap_or(0)),
                errors,
                warnings,
                lines: u64::try_from(lines).unwrap_or(0),
            });
        }
        Ok(builds)
    }

    /// One stored build with its log; `None` when there is no such build.
    pub fn load(&self, id: BuildId) -> Result<Option<StoredBuild>, HistoryError> {
        let row = self
            .connection
            .query_row(
                "SELECT b.title, b.source, b.status, b.started_at_ms, b.ended_at_ms, b.reason, \
                 b.lines, b.log_capped, b.snapshot, l.data FROM builds b \
                 LEFT JOIN build_logs l ON l.build_id = b.id WHERE b.id = ?1",
                [id.0],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, Option<i64>>(4)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, bool>(7)?,
                        row.get::<_, Option<String>>(8)?,
                        row.get::<_, Option<Vec<u8>>>(9)?,
                    ))
                },
            )
            .optional()?;
        let Some((title, source, status, started, ended, reason, capped, snapshot, data)) = row
        else {
            return Ok(None);
        };
        let log = match data {
            Some(data) => LogBuffer::decode(&data).ok_or_else(|| HistoryError::Damaged {
                id: id.0,
                reason: "its log cannot be read".into(),
            })?,
            None => LogBuffer::new(started),
        };
        let snapshot: BuildSnapshot = match snapshot {
            Some(json) => from_json(id.0, &json)?,
            None => BuildSnapshot::default(),
        };
        let view = BuildView {
            id,
            title,
            source: from_json(id.0, &source)?,
            status: status_from_text(id.0, &status)?,
            started_at_ms: started,
            ended_at_ms: ended,
            percent: None,
            message: None,
            reason,
            snapshot,
            lines: log.len(),
            problem_lines: log.problem_count(),
            log_capped: capped,
        };
        Ok(Some(StoredBuild { view, log }))
    }

    /// Marks builds left running by an earlier run of the app as failed.
    // TODO(delivery): with two app instances the second would mark the first's running
    // builds failed; the single-instance plugin removes the case.
    fn close_interrupted(&self) -> Result<(), HistoryError> {
        let closed = self.connection.execute(
            "UPDATE builds SET status = ?1, reason = ?2 WHERE status = ?3",
            params![
                status_text(BuildStatus::Failed),
                "Mossy Live closed before this build ended.",
                status_text(BuildStatus::Running)
            ],
        )?;
        if closed > 0 {
            warn!(
                closed,
                "builds left running by an earlier run were marked failed"
            );
        }
        Ok(())
    }
}

fn describe(err: OpenError) -> String {
    match err {
        OpenError::CreateFolder(folder, source) => {
            format!("could not create {}: {source}", folder.display())
        }
        OpenError::Unreadable(source) | OpenError::Sqlite(source) => source.to_string(),
    }
}

fn status_text(status: BuildStatus) -> &'static str {
    match status {
        BuildStatus::Running => "running",
        BuildStatus::Succeeded => "succeeded",
        BuildStatus::Failed => "failed",
        BuildStatus::Cancelled => "cancelled",
    }
}

fn status_from_text(id: i64, text: &str) -> Result<BuildStatus, HistoryError> {
    [
        BuildStatus::Running,
        BuildStatus::Succeeded,
        BuildStatus::Failed,
        BuildStatus::Cancelled,
    ]
    .into_iter()
    .find(|status| status_text(*status) == text)
    .ok_or_else(|| HistoryError::Damaged {
        id,
        reason: format!("unknown status {text:?}"),
    })
}

fn to_json(value: &impl serde::Serialize) -> String {
    // These types hold strings, numbers and enums only; serialising them cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

fn from_json<T: serde::de::DeserializeOwned>(id: i64, json: &str) -> Result<T, HistoryError> {
    serde_json::from_str(json).map_err(|err| HistoryError::Damaged {
        id,
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use mossy_protocol::bridge::LogStream;
    use mossy_protocol::build::LogLine;

    use super::*;

    fn view(id: BuildId, log: &LogBuffer) -> BuildView {
        BuildView {
            id,
            title: "Quest scripts".into(),
            source: BuildSource::Profile {
                name: "Quest scripts".into(),
            },
            status: BuildStatus::Failed,
            started_at_ms: 1_000,
            ended_at_ms: Some(3_500),
            percent: None,
            message: None,
            reason: Some("exited with code 1".into()),
            snapshot: BuildSnapshot {
                errors: 1,
                ..BuildSnapshot::default()
            },
            lines: log.len(),
            problem_lines: log.problem_count(),
            log_capped: false,
        }
    }

    fn log() -> LogBuffer {
        let mut log = LogBuffer::new(1_000);
        for (i, text) in ["Compiling \"Quest\"...", "Quest.psc(3,1): bad"]
            .iter()
            .enumerate()
        {
            log.push(&LogLine {
                number: 0,
                at_ms: 1_000 + i as i64,
                stream: LogStream::Stdout,
                text: (*text).into(),
                lossy: false,
                truncated: false,
                byte_len: text.len() as u64,
            });
        }
        log.mark_problem(2);
        log
    }

    #[test]
    fn a_finished_build_reads_back_as_it_was_after_reopening() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("Bau #1 ü").join("builds.sqlite3");
        let (mut history, moved) = BuildHistory::open(&path).expect("opens");
        assert!(moved.is_none());
        let source = BuildSource::Profile {
            name: "Quest scripts".into(),
        };
        let id = history
            .begin("Quest scripts", &source, 1_000)
            .expect("begins");
        let log = log();
        let view = view(id, &log);
        history
            .finish(&view, &log.encode(HISTORY_LOG_CAP).0)
            .expect("finishes");
        drop(history);

        let (history, _) = BuildHistory::open(&path).expect("reopens");
        let stored = history.load(id).expect("loads").expect("exists");
        assert_eq!(stored.view, view);
        assert_eq!(stored.log.range(0, 10, false), log.range(0, 10, false));
        assert_eq!(stored.log.range(0, 10, true), log.range(0, 10, true));
        let listed = history.list(10).expect("lists");
        assert_eq!(
            listed,
            vec![BuildSummary {
                id,
                title: "Quest scripts".into(),
                source,
                status: BuildStatus::Failed,
                started_at_ms: 1_000,
                duration_ms: Some(2_500),
                errors: 1,
                warnings: 0,
                lines: 2,
            }]
        );
        assert!(
            history
                .load(BuildId(id.0 + 99))
                .expect("query works")
                .is_none()
        );
    }

    #[test]
    fn a_build_left_running_is_marked_failed_on_the_next_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("builds.sqlite3");
        let (history, _) = BuildHistory::open(&path).expect("opens");
        let id = history
            .begin("x", &BuildSource::Mossy { build_id: None }, 5)
            .expect("begins");
        drop(history);
        let (history, _) = BuildHistory::open(&path).expect("reopens");
        let listed = history.list(1).expect("lists");
        assert_eq!(listed[0].id, id);
        assert_eq!(listed[0].status, BuildStatus::Failed);
    }

    #[test]
    fn only_the_newest_builds_are_kept() {
        let (mut history, _) = {
            let history = BuildHistory::in_memory().expect("opens");
            (history, ())
        };
        let log = log();
        let mut last = BuildId(0);
        for _ in 0..HISTORY_KEEP + 5 {
            last = history
                .begin("x", &BuildSource::Mossy { build_id: None }, 1_000)
                .expect("begins");
            history
                .finish(&view(last, &log), &log.encode(HISTORY_LOG_CAP).0)
                .expect("finishes");
        }
        let listed = history.list(HISTORY_KEEP * 2).expect("lists");
        assert_eq!(listed.len(), HISTORY_KEEP);
        assert_eq!(listed[0].id, last);
        let count: i64 = history
            .connection
            .query_row("SELECT count(*) FROM build_logs", [], |row| row.get(0))
            .expect("counts");
        assert_eq!(count, HISTORY_KEEP as i64, "logs of deleted builds go too");
    }

    #[test]
    fn a_damaged_file_is_moved_aside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("builds.sqlite3");
        std::fs::write(&path, vec![0x5a_u8; 8192]).expect("writes garbage");
        let (history, moved) = BuildHistory::open(&path).expect("opens fresh");
        let moved = moved.expect("moved aside");
        assert!(moved.exists());
        assert!(history.list(10).expect("lists").is_empty());
    }
}
