//! Starting with a broken settings file: keep it aside under a dated name and go on with
//! the defaults, so one bad edit never stops the app and the user's file is not lost.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::{Settings, SettingsError};

/// How many same-second names are tried before giving up; two starts within one second
/// with a broken file each are already unlikely.
const MAX_SAME_SECOND_BACKUPS: u32 = 100;

impl Settings {
    /// Reads the settings file like [`Settings::load`]; when the file is there but is not
    /// settings (bad TOML, a wrong type, not UTF-8), renames it to
    /// `settings.broken-<UTC time>.toml` beside it and returns the defaults with that new
    /// path. A file that cannot be read at all (permissions) is left where it is.
    pub fn load_or_move_aside(path: &Path) -> Result<(Self, Option<PathBuf>), SettingsError> {
        match Self::load(path) {
            Ok(settings) => Ok((settings, None)),
            Err(SettingsError::Parse { .. }) => {
                move_aside(path).map(|kept| (Self::default(), Some(kept)))
            }
            Err(SettingsError::Read { source, .. })
                if source.kind() == std::io::ErrorKind::InvalidData =>
            {
                move_aside(path).map(|kept| (Self::default(), Some(kept)))
            }
            Err(err) => Err(err),
        }
    }
}

fn move_aside(path: &Path) -> Result<PathBuf, SettingsError> {
    let error = |source| SettingsError::MoveAside {
        path: path.to_owned(),
        source,
    };
    let now = OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    for attempt in 1..=MAX_SAME_SECOND_BACKUPS {
        let kept = backup_path(path, &stamp, attempt);
        if kept.exists() {
            continue;
        }
        std::fs::rename(path, &kept).map_err(error)?;
        tracing::warn!(
            path = %path.display(),
            kept = %kept.display(),
            "settings file was broken; kept it aside and started with defaults"
        );
        return Ok(kept);
    }
    Err(error(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "too many backups from the same second",
    )))
}

/// `settings.broken-20261204-101500.toml`, then `settings.broken-20261204-101500-2.toml`.
fn backup_path(path: &Path, stamp: &str, attempt: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "settings".into(), |stem| stem.to_string_lossy());
    let extension = path
        .extension()
        .map_or_else(|| "toml".into(), |extension| extension.to_string_lossy());
    let name = if attempt == 1 {
        format!("{stem}.broken-{stamp}.{extension}")
    } else {
        format!("{stem}.broken-{stamp}-{attempt}.{extension}")
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SETTINGS_FILE;

    fn backups(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("lists")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.starts_with("settings.broken-"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn broken_file_is_kept_aside_and_defaults_are_loaded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[bridge\nurl = 3").expect("write");

        let (settings, kept) = Settings::load_or_move_aside(&path).expect("recovers");
        assert_eq!(settings, Settings::default());
        let kept = kept.expect("a backup path");
        assert!(
            !path.exists(),
            "the broken file no longer blocks the settings path"
        );
        assert_eq!(
            std::fs::read_to_string(&kept).expect("backup"),
            "[bridge\nurl = 3"
        );
        let name = kept
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("settings.broken-") && name.ends_with(".toml") && name.len() == 36,
            "{name}"
        );
        assert_eq!(backups(dir.path()), [name]);
    }

    #[test]
    fn wrong_types_and_bad_utf8_count_as_broken_too() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[bridge]\nurl = 3\n").expect("write");
        let (_, first) = Settings::load_or_move_aside(&path).expect("recovers");
        std::fs::write(&path, b"[bridge]\nurl = \"\xff\"\n").expect("write");
        let (_, second) = Settings::load_or_move_aside(&path).expect("recovers");

        let (first, second) = (first.expect("kept"), second.expect("kept"));
        assert_ne!(
            first, second,
            "a second backup in the same second gets its own name"
        );
        assert_eq!(backups(dir.path()).len(), 2);
    }

    #[test]
    fn good_and_missing_files_are_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        assert_eq!(
            Settings::load_or_move_aside(&path).expect("defaults"),
            (Settings::default(), None)
        );
        std::fs::write(&path, "[bridge]\nenabled = false\n").expect("write");
        let (settings, kept) = Settings::load_or_move_aside(&path).expect("loads");
        assert!(!settings.bridge.enabled);
        assert_eq!(kept, None);
        assert!(backups(dir.path()).is_empty());
    }

    #[test]
    fn backup_names_count_up_within_one_second() {
        let path = Path::new("/cfg/settings.toml");
        assert_eq!(
            backup_path(path, "20261204-101500", 1),
            Path::new("/cfg/settings.broken-20261204-101500.toml")
        );
        assert_eq!(
            backup_path(path, "20261204-101500", 3),
            Path::new("/cfg/settings.broken-20261204-101500-3.toml")
        );
    }
}
