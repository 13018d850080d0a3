//! Finds the folders of a Mod Organizer 2 instance that the index should watch.
//!
//! Under MO2 the game's Data folder is virtual: the real files live in the instance's
//! `mods/` and `overwrite/` folders. Their places come from `ModOrganizer.ini`, a Qt
//! settings file: `[Settings]` may set `base_directory`, `mod_directory` and
//! `overwrite_directory`, values may be quoted, escaped and wrapped in `@ByteArray(...)`,
//! and `%BASE_DIR%` stands for the base directory.

use std::path::{Path, PathBuf};

use super::IndexError;

/// The name of the instance settings file.
const INI_NAME: &str = "ModOrganizer.ini";

/// What MO2's settings put in place of this marker.
const BASE_DIR_MARKER: &str = "%BASE_DIR%";

/// The folders of one MO2 instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mo2Folders {
    /// The base directory that `%BASE_DIR%` stands for; the instance folder by default.
    pub base: PathBuf,
    /// Where the mods live; `<base>/mods` by default.
    pub mods: PathBuf,
    /// Where files written by tools run through MO2 land; `<base>/overwrite` by default.
    pub overwrite: PathBuf,
}

/// Reads `<instance_dir>/ModOrganizer.ini` and returns the instance's mods and overwrite
/// folders. Relative settings are taken relative to the instance folder.
pub fn find_mo2_folders(instance_dir: &Path) -> Result<Mo2Folders, IndexError> {
    let ini_path = instance_dir.join(INI_NAME);
    let bytes = std::fs::read(&ini_path).map_err(|source| IndexError::Io {
        path: ini_path.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);

    let setting = |key: &str| settings_value(text, key).filter(|value| !value.is_empty());
    let base = match setting("base_directory") {
        Some(value) => instance_dir.join(value),
        None => instance_dir.to_path_buf(),
    };
    let folder = |key: &str, default: &str| match setting(key) {
        Some(value) => {
            let base_text = base.to_string_lossy();
            instance_dir.join(value.replace(BASE_DIR_MARKER, &base_text))
        }
        None => base.join(default),
    };
    Ok(Mo2Folders {
        mods: folder("mod_directory", "mods"),
        overwrite: folder("overwrite_directory", "overwrite"),
        base,
    })
}

/// The decoded value of `key` in the `[Settings]` section, if present.
fn settings_value(text: &str, key: &str) -> Option<String> {
    let mut in_settings = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            in_settings = line[1..line.len() - 1]
                .trim()
                .eq_ignore_ascii_case("Settings");
            continue;
        }
        if !in_settings || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if name.trim() == key {
            return Some(decode_value(value.trim()));
        }
    }
    None
}

/// Undoes Qt's quoting and escaping, then unwraps `@ByteArray(...)`.
fn decode_value(raw: &str) -> String {
    let unquoted = raw
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(raw);

    let mut value = String::with_capacity(unquoted.len());
    let mut chars = unquoted.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => value.push('\n'),
            Some('t') => value.push('\t'),
            Some('r') => value.push('\r'),
            Some('0') => value.push('\0'),
            Some(other) => value.push(other),
            None => value.push('\\'),
        }
    }

    match value
        .strip_prefix("@ByteArray(")
        .and_then(|inner| inner.strip_suffix(')'))
    {
        Some(inner) => inner.to_owned(),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_qt_quoting_and_byte_arrays() {
        assert_eq!(decode_value("@ByteArray(D:/MO2 #2/mods)"), "D:/MO2 #2/mods");
        assert_eq!(
            decode_value(r#""@ByteArray(C:\\Games\\Mods ü)""#),
            r"C:\Games\Mods ü"
        );
        assert_eq!(
            decode_value("plain %BASE_DIR%/mods"),
            "plain %BASE_DIR%/mods"
        );
    }
}
