//! The tool monitor's activity feed on disk: one SQLite table of starts and exits.
//!
//! The feed must survive a restart, so it lives in a SQLite file in the app's data folder,
//! in WAL mode so that appends are cheap and a crash loses at most the last batch, never
//! the file. Rows are appended in batches ([`FeedStore::append`] takes a slice and writes
//! one transaction) and the table is held to [`FEED_CAPACITY`] rows by deleting the oldest
//! after each batch with one range `DELETE` on the row id.
//!
//! A file that is not a SQLite database, or a damaged one, gives
//! [`FeedError::Unreadable`]; [`FeedStore::open_or_move_aside`] renames such a file and
//! starts an empty feed, so a bad file costs the history, not the app.

use std::path::{Path, PathBuf};

use mossy_protocol::ipc::{FeedEntry, FeedKind, ToolId};
use rusqlite::{Connection, OptionalExtension, Row, params};
use tracing::{info, warn};

use crate::store::{self, OpenError};

/// Rows kept in the feed. A modder starts and quits tools a few hundred times on a busy
/// day, so this holds weeks of history, while the whole feed stays small enough (about
/// 2 MB) to keep in memory and to send to the window in one message when it opens.
pub const FEED_CAPACITY: usize = 10_000;

/// The schema. `AUTOINCREMENT` keeps ids growing after a clear, so the window never sees
/// an old id come back for a different entry.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS feed (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    tool      TEXT    NOT NULL,
    tool_name TEXT    NOT NULL,
    pid       INTEGER,
    exe       TEXT
);
CREATE INDEX IF NOT EXISTS feed_by_time ON feed (at_ms DESC, id DESC);
CREATE INDEX IF NOT EXISTS feed_by_process ON feed (pid, at_ms) WHERE pid IS NOT NULL;
";

/// Why the feed store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// The folder for the feed file could not be created.
    #[error("could not create folder {path}: {source}")]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not a SQLite database or is damaged; move it aside and start fresh.
    #[error("feed file {path} is damaged or not a database: {source}")]
    Unreadable {
        /// The feed file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A damaged feed file could not be moved aside.
    #[error("could not move damaged feed file {path} aside: {source}")]
    MoveAside {
        /// The feed file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// A row holds a kind this version does not know.
    #[error("feed row {id} has unknown kind {kind:?}")]
    UnknownKind {
        /// The row id.
        id: i64,
        /// The stored kind.
        kind: String,
    },
    /// Any other SQLite failure.
    #[error("feed store: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// A feed entry to append; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedEntry {
    /// When it happened, in Unix ms.
    pub at_ms: i64,
    /// What happened.
    pub kind: FeedKind,
    /// The tool's id.
    pub tool: ToolId,
    /// The tool's display name.
    pub tool_name: String,
    /// Process id, when known.
    pub pid: Option<u32>,
    /// Executable file name, when known.
    pub exe: Option<String>,
}

/// Where [`FeedStore::open`] keeps a feed that lives only as long as the app.
pub const IN_MEMORY: &str = ":memory:";

/// The feed file, open.
#[derive(Debug)]
pub struct FeedStore {
    connection: Connection,
    /// The highest id ever given out, also by rows since deleted.
    last_id: i64,
}

impl FeedStore {
    /// Opens or creates the feed file at `path`, creating its folder.
    pub fn open(path: &Path) -> Result<Self, FeedError> {
        let connection =
            store::open(path, SCHEMA, "SELECT count(*) FROM feed").map_err(|err| match err {
                OpenError::CreateFolder(path, source) => FeedError::CreateFolder { path, source },
                OpenError::Unreadable(source) => FeedError::Unreadable {
                    path: path.to_owned(),
                    source,
                },
                OpenError::Sqlite(source) => FeedError::Sqlite(source),
            })?;
        let last_id = connection
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'feed'",
                [],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(0);
        Ok(Self {
            connection,
            last_id,
        })
    }

    /// A feed in memory holding this one's rows, with their ids, and giving ids on after
    /// this one's, for when this one can no longer be written: the window tells entries
    /// apart by id, so none may come back, and a tool's start already stored is still
    /// known. When this one cannot even be read, the copy starts empty.
    pub fn in_memory_successor(&self) -> Result<Self, FeedError> {
        let mut successor = Self::open(Path::new(IN_MEMORY))?;
        let rows = self.latest(FEED_CAPACITY).unwrap_or_else(|err| {
            warn!(error = %err, "the feed's rows could not be read; the copy in memory starts empty");
            Vec::new()
        });
        let transaction = successor.connection.transaction()?;
        {
            let mut insert = transaction.prepare(
                "INSERT INTO feed (id, at_ms, kind, tool, tool_name, pid, exe) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for row in &rows {
                insert.execute(params![
                    row.id,
                    row.at_ms,
                    kind_text(row.kind),
                    row.tool.as_str(),
                    row.tool_name,
                    row.pid,
                    row.exe
                ])?;
            }
        }
        // Inserting rows moved the sequence to their highest id; it goes on from the last
        // id ever given instead, which may belong to a row since deleted.
        transaction.execute("DELETE FROM sqlite_sequence WHERE name = 'feed'", [])?;
        transaction.execute(
            "INSERT INTO sqlite_sequence (name, seq) VALUES ('feed', ?1)",
            [self.last_id],
        )?;
        transaction.commit()?;
        successor.last_id = self.last_id;
        Ok(successor)
    }

    /// Opens the feed file; if it is damaged, renames it (and its WAL files) to
    /// `<name>.damaged-<unix ms>` and opens a fresh one. Returns the new name of the moved
    /// file, if one was moved.
    pub fn open_or_move_aside(path: &Path) -> Result<(Self, Option<PathBuf>), FeedError> {
        match Self::open(path) {
            Err(FeedError::Unreadable { source, .. }) => {
                let moved = store::move_aside(path)
                    .map_err(|(path, source)| FeedError::MoveAside { path, source })?;
                warn!(
                    path = %path.display(),
                    moved_to = %moved.display(),
                    error = %source,
                    "feed file was damaged; moved aside, starting an empty feed"
                );
                Ok((Self::open(path)?, Some(moved)))
            }
            other => other.map(|store| (store, None)),
        }
    }

    /// Appends entries in one transaction and returns them with their ids, in the order
    /// given, then drops the oldest rows beyond [`FEED_CAPACITY`]. A `Started` entry for a
    /// process already in the feed (same tool, pid and start time) is skipped and not
    /// returned, so tools still running across a restart of the app are not logged twice.
    pub fn append(&mut self, entries: &[NewFeedEntry]) -> Result<Vec<FeedEntry>, FeedError> {
        let transaction = self.connection.transaction()?;
        let mut appended = Vec::with_capacity(entries.len());
        {
            let mut known = transaction.prepare_cached(
                "SELECT 1 FROM feed WHERE pid = ?1 AND at_ms = ?2 AND kind = ?3 AND tool = ?4",
            )?;
            let mut insert = transaction.prepare_cached(
                "INSERT INTO feed (at_ms, kind, tool, tool_name, pid, exe) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for entry in entries {
                let kind = kind_text(entry.kind);
                if entry.kind == FeedKind::Started
                    && let Some(pid) = entry.pid
                    && known
                        .query_row(params![pid, entry.at_ms, kind, entry.tool.as_str()], |_| {
                            Ok(())
                        })
                        .optional()?
                        .is_some()
                {
                    continue;
                }
                insert.execute(params![
                    entry.at_ms,
                    kind,
                    entry.tool.as_str(),
                    entry.tool_name,
                    entry.pid,
                    entry.exe
                ])?;
                appended.push(FeedEntry {
                    id: transaction.last_insert_rowid(),
                    at_ms: entry.at_ms,
                    kind: entry.kind,
                    tool: entry.tool.clone(),
                    tool_name: entry.tool_name.clone(),
                    pid: entry.pid,
                    exe: entry.exe.clone(),
                });
            }
        }
        if !appended.is_empty() {
            // Ids are dense from the oldest kept row up, so this keeps exactly the newest
            // FEED_CAPACITY rows by insertion.
            transaction.execute(
                "DELETE FROM feed WHERE id <= (SELECT max(id) FROM feed) - ?1",
                [i64::try_from(FEED_CAPACITY).unwrap_or(i64::MAX)],
            )?;
        }
        transaction.commit()?;
        if let Some(last) = appended.last() {
            self.last_id = last.id;
        }
        Ok(appended)
    }

    /// The newest `limit` entries, newest first (by time, then by id).
    pub fn latest(&self, limit: usize) -> Result<Vec<FeedEntry>, FeedError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, at_ms, kind, tool, tool_name, pid, exe FROM feed \
             ORDER BY at_ms DESC, id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], read_row)?;
        let mut entries = Vec::new();
        for row in rows {
            let (entry, kind) = row?;
            entries.push(FeedEntry {
                kind: kind_from_text(&kind).ok_or(FeedError::UnknownKind { id: entry.id, kind })?,
                ..entry
            });
        }
        Ok(entries)
    }

    /// Deletes every entry. Ids keep growing from where they were.
    pub fn clear(&mut self) -> Result<(), FeedError> {
        let deleted = self.connection.execute("DELETE FROM feed", [])?;
        info!(deleted, "activity feed cleared");
        Ok(())
    }

    /// Makes the file unable to grow, as a full disk does (SQLite's `max_page_count`), so
    /// tests can fail writes to a real file partway through a session.
    #[cfg(test)]
    pub(crate) fn stop_growing(&self) {
        let pages: i64 = self
            .connection
            .query_row("PRAGMA page_count", [], |row| row.get(0))
            .expect("reads the page count");
        self.connection
            .pragma_update(None, "max_page_count", pages)
            .expect("caps the page count");
    }
}

/// One row, with its kind still as stored text (placeholder kind in the entry).
fn read_row(row: &Row<'_>) -> rusqlite::Result<(FeedEntry, String)> {
    let entry = FeedEntry {
        id: row.get(0)?,
        at_ms: row.get(1)?,
        kind: FeedKind::Started,
        tool: ToolId(row.get(3)?),
        tool_name: row.get(4)?,
        pid: row.get(5)?,
        exe: row.get(6)?,
    };
    Ok((entry, row.get(2)?))
}

fn kind_text(kind: FeedKind) -> &'static str {
    match kind {
        FeedKind::Started => "started",
        FeedKind::Exited => "exited",
        FeedKind::Reported => "reported",
        FeedKind::ReportedExited => "reported_exited",
        FeedKind::Crashed => "crashed",
    }
}

fn kind_from_text(text: &str) -> Option<FeedKind> {
    FeedKind::ALL
        .into_iter()
        .find(|kind| kind_text(*kind) == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: i64, kind: FeedKind, tool: &str, pid: Option<u32>) -> NewFeedEntry {
        NewFeedEntry {
            at_ms,
            kind,
            tool: ToolId(tool.into()),
            tool_name: tool.to_uppercase(),
            pid,
            exe: pid.map(|pid| format!("{tool} {pid}.exe")),
        }
    }

    fn stored(id: i64, new: &NewFeedEntry) -> FeedEntry {
        FeedEntry {
            id,
            at_ms: new.at_ms,
            kind: new.kind,
            tool: new.tool.clone(),
            tool_name: new.tool_name.clone(),
            pid: new.pid,
            exe: new.exe.clone(),
        }
    }

    #[test]
    fn appends_and_lists_newest_first_by_time_then_id() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = FeedStore::open(&dir.path().join("nested/feed.sqlite")).expect("opens");
        let new = [
            entry(2_000, FeedKind::Started, "blender", Some(7)),
            entry(1_000, FeedKind::Reported, "mossy:thing", None),
            entry(2_000, FeedKind::Exited, "blender", Some(7)),
            entry(3_000, FeedKind::ReportedExited, "xedit", None),
        ];
        let appended = store.append(&new).expect("appends");
        assert_eq!(
            appended,
            [
                stored(1, &new[0]),
                stored(2, &new[1]),
                stored(3, &new[2]),
                stored(4, &new[3])
            ]
        );
        assert_eq!(
            store.latest(10).expect("lists"),
            [
                stored(4, &new[3]),
                stored(3, &new[2]),
                stored(1, &new[0]),
                stored(2, &new[1])
            ]
        );
        assert_eq!(
            store.latest(2).expect("lists"),
            [stored(4, &new[3]), stored(3, &new[2])]
        );
    }

    #[test]
    fn survives_reopen_and_keeps_ids_growing_after_clear() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("feed.sqlite");
        let first = entry(1_000, FeedKind::Started, "blender", Some(7));
        FeedStore::open(&path)
            .expect("opens")
            .append(std::slice::from_ref(&first))
            .expect("appends");

        let mut reopened = FeedStore::open(&path).expect("reopens");
        assert_eq!(reopened.latest(10).expect("lists"), [stored(1, &first)]);
        reopened.clear().expect("clears");
        assert_eq!(reopened.latest(10).expect("lists"), []);
        let second = entry(2_000, FeedKind::Exited, "blender", Some(7));
        assert_eq!(
            reopened
                .append(std::slice::from_ref(&second))
                .expect("appends"),
            [stored(2, &second)]
        );
    }

    // Guards against a restart of the app logging every still-running tool a second time.
    #[test]
    fn skips_a_start_already_in_the_feed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = FeedStore::open(&dir.path().join("feed.sqlite")).expect("opens");
        let start = entry(1_000, FeedKind::Started, "blender", Some(7));
        let other = entry(1_000, FeedKind::Started, "blender", Some(8));
        assert_eq!(
            store
                .append(std::slice::from_ref(&start))
                .expect("appends")
                .len(),
            1
        );
        assert_eq!(
            store
                .append(&[start.clone(), other.clone(), start])
                .expect("appends"),
            [stored(2, &other)]
        );
    }

    #[test]
    fn keeps_only_the_newest_capacity_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = FeedStore::open(&dir.path().join("feed.sqlite")).expect("opens");
        let total = FEED_CAPACITY + 25;
        let batch: Vec<NewFeedEntry> = (0..total)
            .map(|n| {
                entry(
                    i64::try_from(n).expect("small"),
                    FeedKind::Exited,
                    "xedit",
                    Some(1),
                )
            })
            .collect();
        let (head, tail) = batch.split_at(total - 10);
        store.append(head).expect("appends");
        store.append(tail).expect("appends");

        let kept = store.latest(total).expect("lists");
        assert_eq!(kept.len(), FEED_CAPACITY);
        let newest = i64::try_from(total).expect("small");
        assert_eq!((kept[0].id, kept[0].at_ms), (newest, newest - 1));
        let oldest = &kept[FEED_CAPACITY - 1];
        assert_eq!((oldest.id, oldest.at_ms), (26, 25));
    }

    #[test]
    fn an_in_memory_successor_holds_the_rows_and_goes_on_from_the_last_id_given() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("feed.sqlite");
        let mut store = FeedStore::open(&path).expect("opens");
        let exit = entry(1, FeedKind::Exited, "xedit", Some(1));
        store
            .append(&[exit.clone(), exit.clone()])
            .expect("appends");
        store.clear().expect("clears");
        let start = entry(5, FeedKind::Started, "blender", Some(7));
        store.append(std::slice::from_ref(&start)).expect("appends");
        // Reopened, so the last id is read from the file rather than remembered.
        let store = FeedStore::open(&path).expect("reopens");

        let mut successor = store.in_memory_successor().expect("opens in memory");
        assert_eq!(successor.latest(10).expect("lists"), [stored(3, &start)]);
        assert_eq!(
            successor
                .append(&[start.clone(), exit.clone()])
                .expect("appends"),
            [stored(4, &exit)],
            "the start already stored is skipped; ids go on"
        );
        assert_eq!(
            FeedStore::open(&path)
                .expect("reopens")
                .latest(10)
                .expect("lists"),
            [stored(3, &start)],
            "the file is not written"
        );
    }

    #[test]
    fn a_file_that_cannot_grow_refuses_a_batch_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("feed.sqlite");
        let mut store = FeedStore::open(&path).expect("opens");
        store.stop_growing();
        let batch: Vec<NewFeedEntry> = (0..500)
            .map(|n| entry(n, FeedKind::Exited, "xedit", Some(1)))
            .collect();

        assert!(matches!(store.append(&batch), Err(FeedError::Sqlite(_))));
        assert_eq!(store.latest(10).expect("lists"), []);
    }

    #[test]
    fn damaged_file_is_an_error_and_can_be_moved_aside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("feed.sqlite");
        std::fs::write(&path, vec![0x5a_u8; 8192]).expect("writes");
        std::fs::write(dir.path().join("feed.sqlite-wal"), b"stale").expect("writes");

        assert!(matches!(
            FeedStore::open(&path),
            Err(FeedError::Unreadable { .. })
        ));
        let (store, moved) = FeedStore::open_or_move_aside(&path).expect("starts fresh");
        assert_eq!(store.latest(10).expect("lists"), []);
        let moved = moved.expect("moved aside");
        assert_eq!(std::fs::read(&moved).expect("kept"), vec![0x5a_u8; 8192]);
        assert!(
            moved.to_string_lossy().contains("feed.sqlite.damaged-"),
            "moved to {}",
            moved.display()
        );
    }
}
