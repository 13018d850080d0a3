//! Merging a scan into the rows of a root, or of one folder under it.
//!
//! A reconcile snapshots the stored size and time of every row in scope, takes the scan's
//! batches as they come, writes only new and changed files (sorted, in transactions of
//! [`COMMIT_ROWS`] rows) and at the end deletes the rows of files the scan did not find.
//! On a first scan into an empty table it drops the newest-first index and builds it once
//! at the end.

use std::collections::HashMap;

use rusqlite::{Connection, Row, params};

use super::{COMMIT_ROWS, NEWEST_INDEX, Store, UPSERT, execute_upsert, folder_range, to_i64};
use crate::index::IndexError;
use crate::scan::ScannedFile;

/// SQLite's own default for automatic checkpoints, restored after a scan: live changes are
/// small, and a log of about 4 MB keeps reads fast.
const WAL_CHECKPOINT_PAGES: u32 = 1000;

/// What a reconcile did.
#[derive(Debug, Default)]
pub(crate) struct ReconcileOutcome {
    /// Files found on disk.
    pub seen: usize,
    /// Rows inserted or changed.
    pub written: usize,
    /// Relative paths written, when names were asked for.
    pub upserted: Vec<String>,
    /// Relative paths whose rows were deleted.
    pub removed: Vec<String>,
}

/// A scan being merged into the rows of one root, or of one folder under it.
pub(crate) struct Reconcile<'a> {
    store: &'a Store,
    root_id: i64,
    /// Rows not yet seen on disk, with their size and time.
    unseen: HashMap<String, (i64, i64)>,
    pending: Vec<ScannedFile>,
    keep_names: bool,
    /// True once this reconcile has dropped the newest-first index to bulk-load.
    bulk: bool,
    /// True once this reconcile has turned off automatic checkpoints for its writes.
    checkpoint_deferred: bool,
    outcome: ReconcileOutcome,
    error: Option<rusqlite::Error>,
}

impl Store {
    /// Starts merging a scan of `prefix` (a folder under the root, or the whole root when
    /// `None`). With `keep_names` the outcome lists every written path.
    pub fn begin_reconcile(
        &self,
        root_id: i64,
        prefix: Option<&str>,
        keep_names: bool,
    ) -> Result<Reconcile<'_>, IndexError> {
        let unseen = {
            let conn = self.reader();
            let mut unseen = HashMap::new();
            let mut add = |row: &Row<'_>| -> rusqlite::Result<()> {
                unseen.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
                Ok(())
            };
            match prefix {
                None => {
                    let mut statement = conn.prepare_cached(
                        "SELECT rel_path, size, modified_ns FROM assets WHERE root_id = ?1",
                    )?;
                    let mut rows = statement.query([root_id])?;
                    while let Some(row) = rows.next()? {
                        add(row)?;
                    }
                }
                Some(prefix) => {
                    let (low, high) = folder_range(prefix);
                    let mut statement = conn.prepare_cached(
                        "SELECT rel_path, size, modified_ns FROM assets
                         WHERE root_id = ?1 AND (rel_path = ?2 OR (rel_path >= ?3 AND rel_path < ?4))",
                    )?;
                    let mut rows = statement.query(params![root_id, prefix, low, high])?;
                    while let Some(row) = rows.next()? {
                        add(row)?;
                    }
                }
            }
            unseen
        };
        Ok(Reconcile {
            store: self,
            root_id,
            unseen,
            pending: Vec::new(),
            keep_names,
            bulk: false,
            checkpoint_deferred: false,
            outcome: ReconcileOutcome::default(),
            error: None,
        })
    }
}

impl Reconcile<'_> {
    /// Takes one batch from the scanner. Database errors are kept for [`Reconcile::finish`].
    pub fn push(&mut self, batch: Vec<ScannedFile>) {
        for file in batch {
            self.outcome.seen += 1;
            let stored = self.unseen.remove(&file.rel_path);
            let current = (to_i64(file.size), file.modified_ns);
            if stored != Some(current) {
                self.pending.push(file);
            }
        }
        if self.pending.len() >= COMMIT_ROWS {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() || self.error.is_some() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        // Walker threads interleave folders; key order turns B-tree inserts into appends.
        pending.sort_unstable_by(|a, b| a.rel_path.cmp(&b.rel_path));
        let mut conn = self.store.writer();
        if !self.checkpoint_deferred {
            // Each checkpoint costs two fsyncs; one at the end of the scan is enough.
            self.checkpoint_deferred = conn.execute_batch("PRAGMA wal_autocheckpoint = 0").is_ok();
        }
        if !self.bulk && table_is_empty(&conn) {
            self.bulk = conn
                .execute_batch("DROP INDEX IF EXISTS assets_newest")
                .is_ok();
        }
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut statement = tx.prepare_cached(UPSERT)?;
                for file in pending {
                    if execute_upsert(&mut statement, self.root_id, &file)? {
                        self.outcome.written += 1;
                        if self.keep_names {
                            self.outcome.upserted.push(file.rel_path);
                        }
                    }
                }
            }
            tx.commit()
        })();
        if let Err(error) = result {
            self.error = Some(error);
        }
    }

    /// Writes what is left and, with `delete_unseen`, deletes the rows of files the scan did
    /// not find.
    pub fn finish(mut self, delete_unseen: bool) -> Result<ReconcileOutcome, IndexError> {
        self.flush();
        self.end_bulk()?;
        if let Some(error) = self.error.take() {
            return Err(error.into());
        }
        if delete_unseen && !self.unseen.is_empty() {
            let mut conn = self.store.writer();
            let tx = conn.transaction()?;
            {
                let mut statement =
                    tx.prepare_cached("DELETE FROM assets WHERE root_id = ?1 AND rel_path = ?2")?;
                for rel_path in std::mem::take(&mut self.unseen).into_keys() {
                    statement.execute(params![self.root_id, rel_path])?;
                    self.outcome.removed.push(rel_path);
                }
            }
            tx.commit()?;
        }
        Ok(std::mem::take(&mut self.outcome))
    }
}

impl Reconcile<'_> {
    /// Builds the newest-first index again if this reconcile dropped it, and checkpoints
    /// the write-ahead log if this reconcile put that off.
    fn end_bulk(&mut self) -> rusqlite::Result<()> {
        let conn = self.store.writer();
        if self.bulk {
            conn.execute_batch(NEWEST_INDEX)?;
            self.bulk = false;
        }
        if self.checkpoint_deferred {
            conn.execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}"
            ))?;
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
            self.checkpoint_deferred = false;
        }
        Ok(())
    }
}

impl Drop for Reconcile<'_> {
    fn drop(&mut self) {
        // A scan that failed half-way must not leave the gallery without its index, nor the
        // log growing without checkpoints.
        if let Err(error) = self.end_bulk() {
            tracing::warn!(%error, "cannot rebuild the newest-first index");
        }
    }
}

/// True when no shown root has rows; the rows of removed roots kept aside do not count.
fn table_is_empty(conn: &Connection) -> bool {
    conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM assets a JOIN roots r ON r.id = a.root_id
                            WHERE r.removed_at IS NULL)",
        [],
        |row| row.get(0),
    )
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::store::tests::{file, rows};

    #[test]
    fn reconcile_writes_changes_and_deletes_unseen_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root = store.add_root("/mods").expect("root");
        store
            .upsert(
                root,
                vec![
                    file("kept.dds", 1, 1),
                    file("changed.nif", 2, 2),
                    file("gone.esp", 3, 3),
                ],
            )
            .expect("upsert");

        let mut reconcile = store.begin_reconcile(root, None, true).expect("begin");
        reconcile.push(vec![
            file("kept.dds", 1, 1),
            file("changed.nif", 20, 2),
            file("new.ba2", 4, 4),
        ]);
        let outcome = reconcile.finish(true).expect("finish");

        assert_eq!(outcome.seen, 3);
        assert_eq!(outcome.upserted, ["changed.nif", "new.ba2"]);
        assert_eq!(outcome.removed, ["gone.esp"]);
        assert_eq!(
            rows(&store),
            [
                ("changed.nif".to_owned(), 20, 2),
                ("kept.dds".to_owned(), 1, 1),
                ("new.ba2".to_owned(), 4, 4),
            ]
        );
    }
}
