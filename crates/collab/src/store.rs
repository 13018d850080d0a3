//! SQLite update log: one row per incoming update, compacted into snapshots.
//!
//! Table `updates(room, seq, data)`: `seq` grows per room. A room's document is the merge of
//! all its rows in `seq` order. Compaction replaces every row up to some `seq` with one row at
//! that `seq` holding the full document state, in one transaction, so a crash mid-way leaves
//! either the old rows or the snapshot, never neither.
//!
//! The database runs in WAL mode with `synchronous = FULL`: `append` returns only once the
//! rows are on disk, which is what lets the hub acknowledge an edit after it. All methods
//! block; async callers run them on `spawn_blocking`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior, params};
use yrs::updates::decoder::Decode;
use yrs::{Doc, Transact, Update};

use crate::StoreError;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "hub.sqlite3";

/// How long a query waits for a lock held by another connection (another hub process on the
/// same data directory, or a backup tool) before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The update log of every room, behind one connection.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

/// What loading a room produced.
#[derive(Debug)]
pub struct LoadedRoom {
    /// The document with every stored update applied.
    pub doc: Doc,
    /// Highest stored `seq` (0 for a new room).
    pub last_seq: i64,
    /// Number of stored rows, snapshot included.
    pub rows: u64,
}

impl Store {
    /// Opens (creating when needed) `data_dir/hub.sqlite3`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let conn = Connection::open(data_dir.join(DB_FILE))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS updates (
                room TEXT NOT NULL,
                seq INTEGER NOT NULL,
                data BLOB NOT NULL,
                PRIMARY KEY (room, seq)
            ) WITHOUT ROWID;",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done SQLite transaction behind
        // (it rolls back on drop), so the connection is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends updates to a room's log in one committed transaction and returns the `seq` of
    /// the last one.
    pub fn append(&self, room: &str, updates: &[Vec<u8>]) -> Result<i64, StoreError> {
        let mut conn = self.conn();
        // IMMEDIATE takes the write lock up front, waiting out other writers; a deferred
        // transaction would fail at once when upgrading its read to a write.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut seq: i64 = tx.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM updates WHERE room = ?1",
            params![room],
            |row| row.get(0),
        )?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO updates (room, seq, data) VALUES (?1, ?2, ?3)")?;
            for update in updates {
                seq += 1;
                insert.execute(params![room, seq, update])?;
            }
        }
        tx.commit()?;
        Ok(seq)
    }

    /// Reads a room's rows in order and applies them to a fresh document. A row that does not
    /// decode is skipped with a warning so one bad row cannot lock a room forever.
    pub fn load(&self, room: &str) -> Result<LoadedRoom, StoreError> {
        let doc = Doc::new();
        doc.get_or_insert_text(crate::TEXT_NAME);
        let (mut last_seq, mut rows) = (0, 0);

        let conn = self.conn();
        let mut select =
            conn.prepare_cached("SELECT seq, data FROM updates WHERE room = ?1 ORDER BY seq")?;
        let mut cursor = select.query(params![room])?;
        let mut txn = doc.transact_mut();
        while let Some(row) = cursor.next()? {
            let seq: i64 = row.get(0)?;
            let data = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
            let applied = Update::decode_v1(data)
                .map_err(|err| err.to_string())
                .and_then(|update| txn.apply_update(update).map_err(|err| err.to_string()));
            if let Err(error) = applied {
                tracing::warn!(room, seq, %error, "skipping stored update that does not apply");
            }
            (last_seq, rows) = (seq, rows + 1);
        }
        drop(txn);
        Ok(LoadedRoom {
            doc,
            last_seq,
            rows,
        })
    }

    /// Replaces every row of `room` up to `upto_seq` with `snapshot` (stored at `upto_seq`),
    /// in one transaction. Rows appended after `upto_seq` are untouched.
    pub fn compact(&self, room: &str, upto_seq: i64, snapshot: &[u8]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM updates WHERE room = ?1 AND seq <= ?2",
            params![room, upto_seq],
        )?;
        tx.execute(
            "INSERT INTO updates (room, seq, data) VALUES (?1, ?2, ?3)",
            params![room, upto_seq, snapshot],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Number of rows stored for a room.
    pub fn row_count(&self, room: &str) -> Result<u64, StoreError> {
        let sql = "SELECT COUNT(*) FROM updates WHERE room = ?1";
        let count: i64 = self
            .conn()
            .query_row(sql, params![room], |row| row.get(0))?;
        Ok(count.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{GetString, ReadTxn, StateVector, Text};

    fn edits(count: usize) -> (Doc, Vec<Vec<u8>>) {
        let doc = Doc::with_client_id(3);
        let text = doc.get_or_insert_text(crate::TEXT_NAME);
        let mut updates = Vec::new();
        for i in 0..count {
            let mut txn = doc.transact_mut();
            text.push(&mut txn, &format!("{i},"));
            updates.push(txn.encode_update_v1());
        }
        (doc, updates)
    }

    fn text_of(doc: &Doc) -> String {
        doc.get_or_insert_text(crate::TEXT_NAME)
            .get_string(&doc.transact())
    }

    #[test]
    fn appended_updates_reload_into_the_same_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (doc, updates) = edits(50);
        let store = Store::open(dir.path()).expect("open");
        assert_eq!(store.append("r", &updates[..20]).expect("append"), 20);
        assert_eq!(store.append("r", &updates[20..]).expect("append"), 50);
        drop(store);

        let loaded = Store::open(dir.path())
            .expect("reopen")
            .load("r")
            .expect("load");
        assert_eq!((loaded.last_seq, loaded.rows), (50, 50));
        assert_eq!(text_of(&loaded.doc), text_of(&doc));
    }

    #[test]
    fn compaction_keeps_the_text_and_later_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (doc, updates) = edits(30);
        let store = Store::open(dir.path()).expect("open");
        store.append("r", &updates[..25]).expect("append");
        let partial = store.load("r").expect("load");
        let snapshot = partial
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        store.append("r", &updates[25..]).expect("append");

        store.compact("r", 25, &snapshot).expect("compact");
        assert_eq!(store.row_count("r").expect("count"), 6);
        assert_eq!(text_of(&store.load("r").expect("load").doc), text_of(&doc));
    }

    #[test]
    fn rooms_do_not_see_each_other() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        store.append("a", &edits(3).1).expect("append");
        assert_eq!(store.load("b").expect("load").rows, 0);
    }
}
