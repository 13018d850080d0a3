//! Where each window was and how big it was, by window label, kept in `windows.json` in
//! the config folder so a panel window reopens where the user left it.
//!
//! The app shell records a window's placement after it moves or is resized and writes the
//! file shortly after; this module only keeps and stores the numbers. A missing or broken
//! file means "no placements": windows open at their default size, which is never worth an
//! error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The placements file's name inside the config folder.
pub const PLACEMENTS_FILE: &str = "windows.json";

/// Smallest width or height worth restoring, in physical pixels; anything smaller is a
/// window that was being minimised or torn down when it was recorded.
pub const MIN_RESTORED_SIDE: u32 = 100;

/// One window's size and position, in physical pixels of the screen it was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Inner width.
    pub width: u32,
    /// Inner height.
    pub height: u32,
    /// Left edge of the outer frame.
    pub x: i32,
    /// Top edge of the outer frame.
    pub y: i32,
    /// Whether the window was maximised (size and position are then its restored ones).
    #[serde(default)]
    pub maximized: bool,
}

impl Placement {
    /// True when the window's top-left corner area lies on one of `screens`, each given
    /// as `(x, y, width, height)`. A window saved on a screen that is gone is opened at
    /// its default place instead of off-screen.
    pub fn is_on_a_screen(&self, screens: &[(i32, i32, u32, u32)]) -> bool {
        // A corner strip this wide must be visible to grab the title bar.
        const GRAB: i64 = 50;
        screens.iter().any(|&(x, y, width, height)| {
            let (left, top) = (i64::from(x), i64::from(y));
            let (right, bottom) = (left + i64::from(width), top + i64::from(height));
            let (wx, wy) = (i64::from(self.x), i64::from(self.y));
            wx + GRAB > left && wx < right - GRAB && wy >= top - GRAB && wy < bottom - GRAB
        })
    }
}

/// Why the placements could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementsError {
    /// Writing the file failed.
    #[error("could not save {path}: {source}")]
    Write {
        /// The placements file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
}

/// Placements by window label, and the file they are kept in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placements {
    path: PathBuf,
    by_label: BTreeMap<String, Placement>,
}

impl Placements {
    /// Reads the file; missing or unreadable means none are known yet.
    pub fn load(path: &Path) -> Self {
        let by_label = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                tracing::warn!(path = %path.display(), error = %err, "window placements unreadable; windows open at their default size");
                BTreeMap::new()
            }),
            Err(_) => BTreeMap::new(),
        };
        Self {
            path: path.to_owned(),
            by_label,
        }
    }

    /// The placement of the window `label`, when one was recorded and is big enough.
    pub fn get(&self, label: &str) -> Option<Placement> {
        self.by_label
            .get(label)
            .copied()
            .filter(|p| p.width >= MIN_RESTORED_SIDE && p.height >= MIN_RESTORED_SIDE)
    }

    /// Records the placement of the window `label`; true when it changed.
    pub fn set(&mut self, label: &str, placement: Placement) -> bool {
        self.by_label.insert(label.to_owned(), placement) != Some(placement)
    }

    /// Writes the file whole, through a temporary file renamed over it.
    pub fn save(&self) -> Result<(), PlacementsError> {
        let error = |source| PlacementsError::Write {
            path: self.path.clone(),
            source,
        };
        let text = serde_json::to_vec_pretty(&self.by_label)
            .map_err(|err| error(std::io::Error::other(err)))?;
        if let Some(folder) = self.path.parent() {
            std::fs::create_dir_all(folder).map_err(error)?;
        }
        let temporary = self.path.with_extension("json.saving");
        std::fs::write(&temporary, text).map_err(error)?;
        std::fs::rename(&temporary, &self.path).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUILD: Placement = Placement {
        width: 700,
        height: 500,
        x: 40,
        y: 30,
        maximized: false,
    };

    #[test]
    fn placements_survive_a_save_and_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config #1").join(PLACEMENTS_FILE);
        let mut placements = Placements::load(&path);
        assert_eq!(placements.get("panel-build"), None);
        assert!(placements.set("panel-build", BUILD));
        assert!(
            !placements.set("panel-build", BUILD),
            "same value is no change"
        );
        placements.save().expect("saves");

        let again = Placements::load(&path);
        assert_eq!(again.get("panel-build"), Some(BUILD));
        assert_eq!(again.get("main"), None);
    }

    #[test]
    fn a_broken_file_means_no_placements() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(PLACEMENTS_FILE);
        std::fs::write(&path, "{\"main\": {\"width\": \"wide\"}").expect("write");
        assert_eq!(Placements::load(&path).get("main"), None);
    }

    #[test]
    fn tiny_windows_are_not_restored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut placements = Placements::load(&dir.path().join(PLACEMENTS_FILE));
        placements.set(
            "main",
            Placement {
                width: 1,
                height: 1,
                ..BUILD
            },
        );
        assert_eq!(placements.get("main"), None);
    }

    #[test]
    fn a_window_off_every_screen_is_not_on_a_screen() {
        let screens = [(0, 0, 1280, 800), (1280, 0, 1920, 1080)];
        assert!(BUILD.is_on_a_screen(&screens));
        assert!(
            Placement {
                x: 2000,
                y: 500,
                ..BUILD
            }
            .is_on_a_screen(&screens)
        );
        assert!(
            !Placement {
                x: 4000,
                y: 30,
                ..BUILD
            }
            .is_on_a_screen(&screens)
        );
        assert!(
            !Placement {
                x: 40,
                y: -900,
                ..BUILD
            }
            .is_on_a_screen(&screens)
        );
        assert!(!BUILD.is_on_a_screen(&[]));
    }
}
