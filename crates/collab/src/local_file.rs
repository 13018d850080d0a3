//! Local files as the Editor panel opens and saves them: a [`DiskStamp`] taken when the file is
//! read, a save that refuses to overwrite a file someone else changed since, an atomic write,
//! and the room name a file is shared under.
//!
//! The stamp holds size, modification time and a content hash. Size and time alone miss an edit
//! that keeps the size within the file system's time resolution; the hash alone would make every
//! save read the whole file, which it does anyway to compare, so all three are cheap.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use mossy_protocol::editor::DiskStamp;

use crate::config::{MAX_ROOM_NAME, validate_room_name};

/// Largest file the editor opens. The hub's first sync of a document must fit in one
/// WebSocket message ([`crate::config::MAX_MESSAGE_BYTES`], 4 MiB), and Yjs spends a few bytes
/// of structure per run of text; 2 MiB leaves that room and is far above any Papyrus script.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Room used when a file name has no letter or digit to build one from.
const FALLBACK_ROOM: &str = "file";

/// Why a file could not be opened or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read.
    #[error("{} could not be read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{} is {size} bytes; the editor opens files up to {MAX_FILE_BYTES} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// The file is not UTF-8 text.
    #[error("{} is not UTF-8 text; save it as UTF-8 in another editor first", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
    /// The file changed on disk (or vanished) since it was opened.
    #[error("{} changed on disk since it was opened", path.display())]
    ChangedOnDisk {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be written.
    #[error("{} could not be written: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// Reads a text file for editing and stamps it.
pub fn open_text(path: &Path) -> Result<(String, DiskStamp), FileError> {
    let read = |source| FileError::Read {
        path: path.to_owned(),
        source,
    };
    let size = fs::metadata(path).map_err(read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
            size,
        });
    }
    let bytes = fs::read(path).map_err(read)?;
    let stamp = stamp_bytes(path, &bytes).map_err(read)?;
    let text = String::from_utf8(bytes).map_err(|_| FileError::NotText {
        path: path.to_owned(),
    })?;
    Ok((text, stamp))
}

/// The stamp of the file as it is on disk now.
pub fn current_stamp(path: &Path) -> Result<DiskStamp, FileError> {
    let bytes = fs::read(path).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })?;
    stamp_bytes(path, &bytes).map_err(|source| FileError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Writes `text` to `path` and returns the new stamp. Unless `overwrite` is set, the file must
/// still match `expected` (the stamp from opening or the last save); otherwise nothing is
/// written and [`FileError::ChangedOnDisk`] comes back. The write goes to a temporary file in
/// the same folder that is then renamed over the target, so a crash leaves either the old or
/// the new file, never half of one.
pub fn save_text(
    path: &Path,
    text: &str,
    expected: &DiskStamp,
    overwrite: bool,
) -> Result<DiskStamp, FileError> {
    if !overwrite {
        let unchanged = match current_stamp(path) {
            Ok(stamp) => stamp == *expected,
            Err(FileError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                false
            }
            Err(err) => return Err(err),
        };
        if !unchanged {
            return Err(FileError::ChangedOnDisk {
                path: path.to_owned(),
            });
        }
    }
    write_atomically(path, text.as_bytes()).map_err(|source| FileError::Write {
        path: path.to_owned(),
        source,
    })?;
    stamp_bytes(path, text.as_bytes()).map_err(|source| FileError::Write {
        path: path.to_owned(),
        source,
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = folder.join(format!(".{name}.mossy-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn stamp_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<DiskStamp> {
    let modified_ms = fs::metadata(path)?
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Ok(DiskStamp {
        size: bytes.len() as u64,
        modified_ms,
        hash: format!("{:016x}", fnv1a(bytes)),
    })
}

/// FNV-1a, 64 bit: a change detector, not a defence against someone forging a collision.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The room a file is shared in: its file name with every character outside letters, digits,
/// `-`, `_` and `.` replaced by `-`, runs of `-` and `.` shortened, and cut to
/// [`MAX_ROOM_NAME`]. Modders who open the same script name meet in the same room. The result
/// always passes [`validate_room_name`].
pub fn room_for_path(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut room = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '_' | '.') {
            c
        } else {
            '-'
        };
        let previous = room.chars().last();
        if (c == '-' || c == '.') && previous == Some(c) {
            continue;
        }
        room.push(c);
    }
    let mut room = room.trim_matches(|c| c == '-' || c == '.').to_owned();
    room.truncate(MAX_ROOM_NAME);
    let room = room.trim_end_matches(['-', '.']).to_owned();
    if validate_room_name(&room) && room.chars().any(|c| c.is_ascii_alphanumeric()) {
        room
    } else {
        FALLBACK_ROOM.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let base = tempfile::tempdir().expect("temp dir");
        let odd = base.path().join("Mod #2 ü");
        fs::create_dir(&odd).expect("odd folder");
        base
    }

    fn odd_file(base: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = base.path().join("Mod #2 ü").join("Quest Script ü.psc");
        fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn opens_a_file_in_a_folder_with_space_hash_and_umlaut() {
        let base = folder();
        let path = odd_file(&base, "Scriptname Quest\n");
        let (text, stamp) = open_text(&path).expect("opens");
        assert_eq!(text, "Scriptname Quest\n");
        assert_eq!(stamp.size, 17);
        assert_eq!(stamp.hash, format!("{:016x}", fnv1a(b"Scriptname Quest\n")));
    }

    #[test]
    fn save_writes_when_the_file_is_unchanged() {
        let base = folder();
        let path = odd_file(&base, "old\n");
        let (_, stamp) = open_text(&path).expect("opens");
        let new_stamp = save_text(&path, "new text\n", &stamp, false).expect("saves");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new text\n");
        assert_eq!(new_stamp, current_stamp(&path).expect("stamp"));
        // The returned stamp is good for the next save.
        save_text(&path, "again\n", &new_stamp, false).expect("saves twice");
    }

    // Guards against silently overwriting another program's edit.
    #[test]
    fn save_refuses_a_file_changed_on_disk_unless_told_to_overwrite() {
        let base = folder();
        let path = odd_file(&base, "one\n");
        let (_, stamp) = open_text(&path).expect("opens");
        // Same size, so only the hash (or time) tells.
        fs::write(&path, "two\n").expect("outside edit");
        let refused = save_text(&path, "mine\n", &stamp, false);
        assert!(
            matches!(refused, Err(FileError::ChangedOnDisk { .. })),
            "{refused:?}"
        );
        assert_eq!(fs::read_to_string(&path).expect("read"), "two\n");

        save_text(&path, "mine\n", &stamp, true).expect("overwrite");
        assert_eq!(fs::read_to_string(&path).expect("read"), "mine\n");
    }

    #[test]
    fn save_refuses_a_file_deleted_since_opening() {
        let base = folder();
        let path = odd_file(&base, "one\n");
        let (_, stamp) = open_text(&path).expect("opens");
        fs::remove_file(&path).expect("delete");
        let refused = save_text(&path, "mine\n", &stamp, false);
        assert!(
            matches!(refused, Err(FileError::ChangedOnDisk { .. })),
            "{refused:?}"
        );
    }

    #[test]
    fn atomic_save_leaves_no_temporary_file() {
        let base = folder();
        let path = odd_file(&base, "one\n");
        let (_, stamp) = open_text(&path).expect("opens");
        save_text(&path, "two\n", &stamp, false).expect("saves");
        let names: Vec<_> = fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["Quest Script ü.psc".to_owned()]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let base = folder();
        let path = odd_file(&base, "one\n");
        let (_, stamp) = open_text(&path).expect("opens");
        // A folder where the temporary file would go makes the write fail before the rename.
        let temp = path.parent().expect("parent").join(format!(
            ".Quest Script ü.psc.mossy-{}.tmp",
            std::process::id()
        ));
        fs::create_dir(&temp).expect("block the temp name");
        let failed = save_text(&path, "two\n", &stamp, false);
        assert!(matches!(failed, Err(FileError::Write { .. })), "{failed:?}");
        assert_eq!(fs::read_to_string(&path).expect("read"), "one\n");
    }

    #[test]
    fn refuses_non_utf8_and_oversized_files() {
        let base = folder();
        let latin1 = base.path().join("latin1.psc");
        fs::write(&latin1, b"Scriptname Caf\xe9\n").expect("write");
        assert!(matches!(open_text(&latin1), Err(FileError::NotText { .. })));

        let big = base.path().join("big.psc");
        let file = fs::File::create(&big).expect("create");
        file.set_len(MAX_FILE_BYTES + 1).expect("grow");
        assert!(matches!(open_text(&big), Err(FileError::TooLarge { .. })));
    }

    #[test]
    fn the_panel_and_the_hub_agree_on_room_names() {
        for name in [
            "a",
            "notes",
            "a..b",
            "../x",
            "",
            ".",
            "a b",
            "é",
            "Quest-Script-.psc",
        ] {
            assert_eq!(
                mossy_protocol::editor::is_valid_room_name(name),
                validate_room_name(name),
                "{name:?}"
            );
        }
        assert_eq!(mossy_protocol::editor::MAX_ROOM_NAME, MAX_ROOM_NAME);
    }

    #[test]
    fn room_names_come_from_the_file_name_and_are_always_valid() {
        let cases = [
            ("/mods/Mod #2 ü/Quest Script ü.psc", "Quest-Script-.psc"),
            ("C:/x/MyQuestScript.psc", "MyQuestScript.psc"),
            ("/x/..hidden..psc", "hidden.psc"),
            ("/x/#ü#", "file"),
            ("/", "file"),
            ("/x/a  b--c", "a-b-c"),
        ];
        for (path, room) in cases {
            assert_eq!(room_for_path(Path::new(path)), room, "{path}");
        }
        let long = format!("/x/{}.psc", "é".repeat(300) + &"a".repeat(300));
        let room = room_for_path(Path::new(&long));
        assert!(validate_room_name(&room), "{room}");
        assert!(room.len() <= MAX_ROOM_NAME);
    }
}
