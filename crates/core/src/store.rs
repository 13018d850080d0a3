//! Opening the app's SQLite files the same way everywhere: folder created, WAL journal,
//! a busy timeout, the schema applied, and a damaged file told apart from other failures so
//! the caller can move it aside and start fresh.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use crate::clock::now_ms;

/// How long a write waits for another connection to the same file (a second app instance)
/// before failing. Longer than any batch takes; short enough not to stall a writer.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a SQLite file could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The folder for the file could not be created.
    CreateFolder(PathBuf, std::io::Error),
    /// The file is not a SQLite database or is damaged.
    Unreadable(rusqlite::Error),
    /// Any other SQLite failure.
    Sqlite(rusqlite::Error),
}

/// Opens or creates the database at `path` and applies `schema`. `probe` is a query that
/// reads a table, so a damaged file is found now rather than at the first write.
pub(crate) fn open(path: &Path, schema: &str, probe: &str) -> Result<Connection, OpenError> {
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)
            .map_err(|source| OpenError::CreateFolder(folder.to_owned(), source))?;
    }
    let classify = |source: rusqlite::Error| match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OpenError::Unreadable(source),
        _ => OpenError::Sqlite(source),
    };
    let connection = Connection::open(path).map_err(classify)?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
    // The first statements are the first to read the file, so they find a bad one.
    connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        })
        .map_err(classify)?;
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(classify)?;
    connection.execute_batch(schema).map_err(classify)?;
    connection
        .query_row(probe, [], |_| Ok(()))
        .map_err(classify)?;
    Ok(connection)
}

/// Renames a damaged database to `<name>.damaged-<unix ms>` and removes its WAL side files
/// (a leftover WAL would be replayed into the fresh file). Returns the new name, or the
/// path that could not be moved or removed with the I/O failure.
pub(crate) fn move_aside(path: &Path) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let mut moved = path.as_os_str().to_owned();
    moved.push(format!(".damaged-{}", now_ms()));
    let moved = PathBuf::from(moved);
    std::fs::rename(path, &moved).map_err(|err| (path.to_owned(), err))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        if let Err(err) = std::fs::remove_file(&side)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            return Err((side.into(), err));
        }
    }
    Ok(moved)
}
