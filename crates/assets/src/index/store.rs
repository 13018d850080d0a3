//! The SQLite side of the index: schema, batched writes and the gallery's queries.
//!
//! Two connections to one WAL database: the writer, shared by the supervisors, and the
//! reader for queries, so the gallery never waits for a scan's transaction. Writes go in
//! transactions of up to [`COMMIT_ROWS`] rows.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{AssetFilter, AssetKind, AssetRecord, IndexError, RootEntry, RootState, RootStatus};
use crate::scan::{ScannedFile, absolute_path};

mod reconcile;

/// Rows per transaction during a scan. Small enough that the writer starts while the walk
/// is still going (the two overlap), large enough that a 100k-file scan makes ten commits,
/// not 100k. Each one holds the writer for tens of milliseconds, so another root's live
/// changes still show well within the gallery's one-second promise.
const COMMIT_ROWS: usize = 10_000;

/// How long the rows of a removed root are kept, in seconds: a folder taken out by mistake,
/// or for a while, comes back at once; after a week it is forgotten at the next start.
const KEEP_REMOVED_SECONDS: i64 = 7 * 24 * 60 * 60;

/// How long a connection waits for the other's lock; only another process could hold it
/// this long, and then failing with an error is better than hanging.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Page cache of the writer in KiB. A 100k-file root is about 10 MB of table and index;
/// with SQLite's default 2 MB cache a scan spends most of its time evicting pages.
const WRITER_CACHE_KIB: u32 = 64 * 1024;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS roots (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    removed_at INTEGER
);
CREATE TABLE IF NOT EXISTS assets (
    root_id INTEGER NOT NULL,
    rel_path TEXT NOT NULL,
    lossy_name INTEGER NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER NOT NULL,
    modified_ns INTEGER NOT NULL,
    details TEXT,
    details_error TEXT,
    PRIMARY KEY (root_id, rel_path)
) WITHOUT ROWID;
";

/// The index behind "newest first". Kept apart from [`SCHEMA`] because a first scan into an
/// empty table drops it and builds it once at the end, which is several times cheaper than
/// keeping it sorted row by row.
const NEWEST_INDEX: &str = "CREATE INDEX IF NOT EXISTS assets_newest ON assets (modified_ns DESC)";

const UPSERT: &str = "
INSERT INTO assets (root_id, rel_path, lossy_name, kind, size, modified_ns)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (root_id, rel_path) DO UPDATE SET
    lossy_name = excluded.lossy_name,
    size = excluded.size,
    modified_ns = excluded.modified_ns,
    details = NULL,
    details_error = NULL
WHERE size != excluded.size OR modified_ns != excluded.modified_ns";

const SELECT_RECORD: &str = "
SELECT r.path, a.rel_path, a.kind, a.size, a.modified_ns, a.lossy_name, r.state,
       a.details, a.details_error
FROM assets a JOIN roots r ON r.id = a.root_id AND r.removed_at IS NULL";

const FILTER: &str = "
WHERE (?1 IS NULL OR a.kind = ?1) AND (?2 IS NULL OR instr(fold_case(a.rel_path), ?2) > 0)";

/// The index database.
pub(crate) struct Store {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, IndexError> {
        let writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        writer.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        })?;
        // WAL with NORMAL sync stays consistent on a crash; a lost last commit is rescanned.
        writer.execute_batch("PRAGMA synchronous = NORMAL;")?;
        writer.execute_batch(&format!("PRAGMA cache_size = -{WRITER_CACHE_KIB};"))?;
        writer.execute_batch(SCHEMA)?;
        add_removed_at(&writer)?;
        writer.execute_batch(NEWEST_INDEX)?;
        // Only tidying: the gallery works the same with old rows still kept aside.
        if let Err(error) = forget_removed_roots(&writer, unix_seconds() - KEEP_REMOVED_SECONDS) {
            tracing::warn!(%error, "removed folders' rows not forgotten; trying at the next start");
        }

        let reader = Connection::open(path)?;
        reader.busy_timeout(BUSY_TIMEOUT)?;
        // SQLite's lower() folds ASCII only; modders' folder names are often not ASCII.
        reader.create_scalar_function(
            "fold_case",
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |context| Ok(context.get_raw(0).as_str().map(str::to_lowercase).ok()),
        )?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a root, or brings back one removed lately with its rows: the gallery shows them
    /// at once and the scan that follows corrects what changed meanwhile.
    pub fn add_root(&self, path: &str) -> Result<i64, IndexError> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO roots (path, state) VALUES (?1, ?2)
             ON CONFLICT (path) DO UPDATE SET state = excluded.state, removed_at = NULL
             WHERE removed_at IS NOT NULL",
            params![path, RootState::Scanning.as_str()],
        )?;
        let id = conn.query_row("SELECT id FROM roots WHERE path = ?1", [path], |row| {
            row.get(0)
        })?;
        Ok(id)
    }

    /// Takes a root out of the gallery. Its rows are kept aside for [`KEEP_REMOVED_SECONDS`]
    /// so that adding the folder again shows it at once; nothing reads them meanwhile.
    pub fn remove_root(&self, id: i64) -> Result<(), IndexError> {
        self.writer().execute(
            "UPDATE roots SET removed_at = ?2 WHERE id = ?1",
            params![id, unix_seconds()],
        )?;
        Ok(())
    }

    pub fn set_root_state(&self, id: i64, state: RootState) -> Result<(), IndexError> {
        self.writer().execute(
            "UPDATE roots SET state = ?2 WHERE id = ?1",
            params![id, state.as_str()],
        )?;
        Ok(())
    }

    pub fn root_entries(&self) -> Result<Vec<RootEntry>, IndexError> {
        let conn = self.reader();
        let mut statement = conn
            .prepare_cached("SELECT id, path FROM roots WHERE removed_at IS NULL ORDER BY path")?;
        let rows = statement.query_map([], |row| {
            Ok(RootEntry {
                id: row.get(0)?,
                path: PathBuf::from(row.get::<_, String>(1)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn roots(&self) -> Result<Vec<RootStatus>, IndexError> {
        let conn = self.reader();
        let mut statement = conn.prepare_cached(
            "SELECT path, state FROM roots WHERE removed_at IS NULL ORDER BY path",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(RootStatus {
                path: PathBuf::from(row.get::<_, String>(0)?),
                state: RootState::from_word(&row.get::<_, String>(1)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Writes the given files; returns the relative paths whose rows actually changed.
    pub fn upsert(&self, root_id: i64, files: Vec<ScannedFile>) -> Result<Vec<String>, IndexError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let mut changed = Vec::new();
        {
            let mut statement = tx.prepare_cached(UPSERT)?;
            for file in files {
                if execute_upsert(&mut statement, root_id, &file)? {
                    changed.push(file.rel_path);
                }
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Deletes the rows of the given paths and of everything under them, should they be
    /// folders. Returns the relative paths whose rows were deleted.
    pub fn remove(&self, root_id: i64, rel_paths: &[String]) -> Result<Vec<String>, IndexError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let mut removed = Vec::new();
        {
            let mut statement = tx.prepare_cached(
                "DELETE FROM assets
                 WHERE root_id = ?1 AND (rel_path = ?2 OR (rel_path >= ?3 AND rel_path < ?4))
                 RETURNING rel_path",
            )?;
            for rel_path in rel_paths {
                let (low, high) = folder_range(rel_path);
                let mut rows = statement.query(params![root_id, rel_path, low, high])?;
                while let Some(row) = rows.next()? {
                    removed.push(row.get(0)?);
                }
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    pub fn get(&self, root_id: i64, rel_path: &str) -> Result<Option<AssetRecord>, IndexError> {
        let conn = self.reader();
        let sql = format!("{SELECT_RECORD} WHERE a.root_id = ?1 AND a.rel_path = ?2");
        let mut statement = conn.prepare_cached(&sql)?;
        Ok(statement
            .query_row(params![root_id, rel_path], read_record)
            .optional()?)
    }

    pub fn list(
        &self,
        filter: &AssetFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AssetRecord>, IndexError> {
        let conn = self.reader();
        let sql = format!(
            "{SELECT_RECORD} {FILTER}
             ORDER BY a.modified_ns DESC, a.root_id, a.rel_path LIMIT ?3 OFFSET ?4"
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let (kind, text) = filter_params(filter);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![kind, text, limit, offset], read_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn count(&self, filter: &AssetFilter) -> Result<u64, IndexError> {
        let conn = self.reader();
        let sql = format!(
            "SELECT count(*) FROM assets a
             JOIN roots r ON r.id = a.root_id AND r.removed_at IS NULL {FILTER}"
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let (kind, text) = filter_params(filter);
        let count: i64 = statement.query_row(params![kind, text], |row| row.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    pub fn set_details(
        &self,
        root_id: i64,
        rel_path: &str,
        details: Result<serde_json::Value, String>,
    ) -> Result<bool, IndexError> {
        let (json, error) = match details {
            Ok(value) => (Some(value.to_string()), None),
            Err(error) => (None, Some(error)),
        };
        // A picture error stored meanwhile stays (see set_picture_error); a changed file's
        // row had both cleared by its upsert.
        let changed = self.writer().execute(
            "UPDATE assets SET details = ?3, details_error = coalesce(?4, details_error)
             WHERE root_id = ?1 AND rel_path = ?2",
            params![root_id, rel_path, json, error],
        )?;
        Ok(changed > 0)
    }

    /// Stores why a file's picture could not be made, unless an error is stored already
    /// (the header's says more) or the row is of another version of the file than the one
    /// read (`size`, `modified_ns`): a half-copied file's error must not outlive the copy.
    /// True when it was stored.
    pub fn set_picture_error(
        &self,
        root_id: i64,
        rel_path: &str,
        (size, modified_ns): (u64, i64),
        error: &str,
    ) -> Result<bool, IndexError> {
        let changed = self.writer().execute(
            "UPDATE assets SET details_error = ?3
             WHERE root_id = ?1 AND rel_path = ?2 AND details_error IS NULL
               AND size = ?4 AND modified_ns = ?5",
            params![root_id, rel_path, error, to_i64(size), modified_ns],
        )?;
        Ok(changed > 0)
    }
}

/// Indexes made before roots were kept aside on removal lack the column. Another process
/// adding it first is fine.
fn add_removed_at(conn: &Connection) -> rusqlite::Result<()> {
    let present: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('roots') WHERE name = 'removed_at')",
        [],
        |row| row.get(0),
    )?;
    if present {
        return Ok(());
    }
    match conn.execute_batch("ALTER TABLE roots ADD COLUMN removed_at INTEGER") {
        Err(error) if error.to_string().contains("duplicate column") => Ok(()),
        result => result,
    }
}

/// Deletes the roots removed before `cutoff` (Unix seconds), with their rows.
fn forget_removed_roots(conn: &Connection, cutoff: i64) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "DELETE FROM assets WHERE root_id IN (SELECT id FROM roots WHERE removed_at < ?1)",
        [cutoff],
    )?;
    tx.execute("DELETE FROM roots WHERE removed_at < ?1", [cutoff])?;
    tx.commit()
}

fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| to_i64(since.as_secs()))
}

/// Runs the upsert for one file; true when a row was inserted or changed.
fn execute_upsert(
    statement: &mut rusqlite::CachedStatement<'_>,
    root_id: i64,
    file: &ScannedFile,
) -> rusqlite::Result<bool> {
    let changed = statement.execute(params![
        root_id,
        file.rel_path,
        file.lossy_name,
        AssetKind::from_path(Path::new(&file.rel_path)).as_str(),
        to_i64(file.size),
        file.modified_ns,
    ])?;
    Ok(changed > 0)
}

/// Bounds of the paths under folder `prefix`: `prefix/` up to, not including, `prefix0`
/// (`0` is the byte after `/`), so the primary key answers it as a range.
fn folder_range(prefix: &str) -> (String, String) {
    (format!("{prefix}/"), format!("{prefix}0"))
}

fn filter_params(filter: &AssetFilter) -> (Option<&'static str>, Option<String>) {
    let kind = filter.kind.map(AssetKind::as_str);
    let text = filter
        .text
        .as_deref()
        .filter(|text| !text.is_empty())
        .map(str::to_lowercase);
    (kind, text)
}

fn to_i64(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}

fn read_record(row: &Row<'_>) -> rusqlite::Result<AssetRecord> {
    let root = PathBuf::from(row.get::<_, String>(0)?);
    let rel_path: String = row.get(1)?;
    let details: Option<String> = row.get(7)?;
    Ok(AssetRecord {
        path: absolute_path(&root, &rel_path),
        root,
        rel_path,
        kind: AssetKind::from_word(&row.get::<_, String>(2)?),
        size: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
        modified_ns: row.get(4)?,
        lossy_name: row.get(5)?,
        root_state: RootState::from_word(&row.get::<_, String>(6)?),
        details: details.and_then(|text| serde_json::from_str(&text).ok()),
        details_error: row.get(8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn file(rel_path: &str, size: u64, modified_ns: i64) -> ScannedFile {
        ScannedFile {
            rel_path: rel_path.to_owned(),
            lossy_name: false,
            size,
            modified_ns,
        }
    }

    pub(super) fn rows(store: &Store) -> Vec<(String, u64, i64)> {
        let mut rows: Vec<_> = store
            .list(&AssetFilter::default(), 0, 1000)
            .expect("list")
            .into_iter()
            .map(|record| (record.rel_path, record.size, record.modified_ns))
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn a_removed_root_is_hidden_and_comes_back_with_its_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root = store.add_root("/mods #2").expect("root");
        let other = store.add_root("/data").expect("other root");
        store
            .upsert(root, vec![file("a.dds", 1, 1), file("b.nif", 2, 2)])
            .expect("upsert");
        store
            .upsert(other, vec![file("c.esp", 3, 3)])
            .expect("upsert other");
        store.set_root_state(root, RootState::Ready).expect("state");

        store.remove_root(root).expect("remove");
        let paths = |store: &Store| -> Vec<String> {
            store
                .roots()
                .expect("roots")
                .into_iter()
                .map(|status| status.path.display().to_string())
                .collect()
        };
        assert_eq!(paths(&store), ["/data"]);
        assert_eq!(store.root_entries().expect("entries").len(), 1);
        assert_eq!(rows(&store), [("c.esp".to_owned(), 3, 3)]);
        assert_eq!(store.count(&AssetFilter::default()).expect("count"), 1);
        assert_eq!(store.get(root, "a.dds").expect("get"), None);

        // Added again: the same root, its rows shown before any scan, marked as scanning.
        assert_eq!(store.add_root("/mods #2").expect("again"), root);
        assert_eq!(paths(&store), ["/data", "/mods #2"]);
        assert_eq!(store.count(&AssetFilter::default()).expect("count"), 3);
        let record = store.get(root, "b.nif").expect("get").expect("row");
        assert_eq!(record.root_state, RootState::Scanning);

        // Adding a root that is there already leaves its state alone.
        store.set_root_state(root, RootState::Ready).expect("state");
        assert_eq!(store.add_root("/mods #2").expect("once more"), root);
        assert_eq!(store.roots().expect("roots")[1].state, RootState::Ready);
    }

    #[test]
    fn roots_removed_long_ago_are_forgotten_at_open() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("index.db");
        let store = Store::open(&db).expect("open");
        let old = store.add_root("/old").expect("root");
        let recent = store.add_root("/recent").expect("root");
        store
            .upsert(old, vec![file("a.dds", 1, 1)])
            .expect("upsert");
        store
            .upsert(recent, vec![file("b.dds", 1, 1)])
            .expect("upsert");
        store.remove_root(old).expect("remove");
        store.remove_root(recent).expect("remove");
        let long_ago = unix_seconds() - KEEP_REMOVED_SECONDS - 60;
        store
            .writer()
            .execute(
                "UPDATE roots SET removed_at = ?1 WHERE id = ?2",
                params![long_ago, old],
            )
            .expect("age it");
        drop(store);

        let store = Store::open(&db).expect("open again");
        let left: Vec<(String, i64)> = {
            let conn = store.reader();
            let mut statement = conn
                .prepare("SELECT r.path, count(*) FROM assets a JOIN roots r ON r.id = a.root_id GROUP BY r.path")
                .expect("prepare");
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        };
        assert_eq!(left, [("/recent".to_owned(), 1)]);
        assert_ne!(store.add_root("/old").expect("new root"), old);
    }

    #[test]
    fn an_index_from_before_kept_roots_opens() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("index.db");
        {
            let conn = Connection::open(&db).expect("old index");
            conn.execute_batch(
                "CREATE TABLE roots (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
                                     state TEXT NOT NULL);
                 INSERT INTO roots (path, state) VALUES ('/mods', 'ready');",
            )
            .expect("old schema");
        }

        let store = Store::open(&db).expect("open");
        let root = store.add_root("/mods").expect("root");
        store
            .upsert(root, vec![file("a.dds", 1, 1)])
            .expect("upsert");
        store.remove_root(root).expect("remove");
        assert_eq!(store.roots().expect("roots"), []);
    }

    #[test]
    fn folder_removal_takes_only_that_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root = store.add_root("/mods").expect("root");
        let names = ["a/x.dds", "a/b/y.dds", "a b/z.dds", "a0.dds", "a.dds"];
        store
            .upsert(root, names.iter().map(|name| file(name, 1, 1)).collect())
            .expect("upsert");

        let mut removed = store.remove(root, &["a".to_owned()]).expect("remove");
        removed.sort();

        assert_eq!(removed, ["a/b/y.dds", "a/x.dds"]);
        let left: Vec<_> = rows(&store).into_iter().map(|row| row.0).collect();
        assert_eq!(left, ["a b/z.dds", "a.dds", "a0.dds"]);
    }

    #[test]
    fn details_survive_until_the_file_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root = store.add_root("/mods").expect("root");
        store
            .upsert(root, vec![file("t.dds", 1, 1)])
            .expect("upsert");
        let details = serde_json::json!({ "width": 512 });
        assert!(
            store
                .set_details(root, "t.dds", Ok(details.clone()))
                .expect("details")
        );

        let unchanged = store
            .upsert(root, vec![file("t.dds", 1, 1)])
            .expect("same file");
        assert!(unchanged.is_empty());
        let record = store.get(root, "t.dds").expect("get").expect("row");
        assert_eq!(
            (record.details, record.details_error),
            (Some(details), None)
        );

        store
            .upsert(root, vec![file("t.dds", 2, 2)])
            .expect("changed file");
        let record = store.get(root, "t.dds").expect("get").expect("row");
        assert_eq!((record.details, record.details_error), (None, None));
    }

    #[test]
    fn a_picture_error_keeps_the_header_and_never_hides_a_header_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("index.db")).expect("open");
        let root = store.add_root("/mods").expect("root");
        store
            .upsert(root, vec![file("cut.dds", 1, 1), file("bad.dds", 1, 1)])
            .expect("upsert");
        let details = serde_json::json!({ "width": 512 });
        let error = |name: &str| {
            store
                .get(root, name)
                .expect("get")
                .expect("row")
                .details_error
        };

        // The picture fails before the header is stored, and after: either way both stay.
        // An error about another version of the file than the row's is not stored.
        let read = (1, 1);
        assert!(
            !store
                .set_picture_error(root, "cut.dds", (1, 2), "an older copy")
                .expect("store")
        );
        assert!(
            store
                .set_picture_error(root, "cut.dds", read, "data cut short")
                .expect("store")
        );
        store
            .set_details(root, "cut.dds", Ok(details.clone()))
            .expect("details");
        let record = store.get(root, "cut.dds").expect("get").expect("row");
        assert_eq!(record.details, Some(details));
        assert_eq!(error("cut.dds").as_deref(), Some("data cut short"));
        assert!(
            !store
                .set_picture_error(root, "cut.dds", read, "again")
                .expect("store")
        );

        store
            .set_details(root, "bad.dds", Err("not a DDS header".into()))
            .expect("details");
        assert!(
            !store
                .set_picture_error(root, "bad.dds", read, "no picture")
                .expect("store")
        );
        assert_eq!(error("bad.dds").as_deref(), Some("not a DDS header"));

        // A new version of the file starts clean.
        store
            .upsert(root, vec![file("cut.dds", 2, 2)])
            .expect("changed file");
        assert_eq!(error("cut.dds"), None);
    }
}
