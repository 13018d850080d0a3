//! The asset gallery's side of the app shell: its commands, the URI scheme that serves
//! thumbnails to the webview, the index service and preview generation.
//!
//! The index (`mossy_assets::index`) scans and watches the chosen folders on its own
//! threads. Two more threads live here ([`details`]): one turns the index's events into a
//! version number the Assets panel stream carries (the page refetches what it shows when it
//! goes up), and one reads the header of every new or changed texture, mesh, plugin and
//! archive and stores what it says beside the file's row, so the grid can show formats and
//! error badges.
//!
//! Thumbnails never cross IPC ([`scheme`]). The page points `<img>` elements at `thumb://`
//! URLs holding the percent-encoded absolute path; the scheme handler checks the path lies
//! inside a chosen folder (after resolving links and `..`), then hands the work to a small
//! pool of threads that make or reuse the cached PNG. The page tells the pool which files
//! it shows, middle of the view first ([`commands::assets_focus`]); the pool makes those
//! first and the rest newest request first. The same scheme serves the images of preview requests ([`previews`]) from the
//! app's own copies.

pub mod commands;
mod details;
pub mod previews;
mod scheme;

use std::sync::Arc;
use std::sync::mpsc::channel;

use anyhow::Context;
use mossy_assets::index::{self, AssetIndex};
use mossy_assets::thumb_cache::ThumbCache;
use mossy_core::settings::Settings;
use mossy_protocol::assets::{AssetRoot, RootState, THUMB_SCHEME};
use mossy_protocol::ipc::{ErrorCode, IpcError};
use tauri::{AppHandle, Manager, State};
use tokio::sync::watch;
use tracing::{error, info, warn};

use details::DetailsJob;
use scheme::ThumbPool;

/// The index database's file name inside the data folder.
const INDEX_FILE: &str = "assets.sqlite3";

/// The thumbnail cache's folder inside the data folder.
const THUMB_DIR: &str = "thumbnails";

/// Folders added to the index at start, separated like `PATH`; for tests and scripted runs.
const DIRS_ENV: &str = "MOSSY_ASSETS_DIRS";

/// Threads making thumbnails. The machines we run on have two to eight cores and the game,
/// the Creation Kit and a build may be using them; two keeps the grid filling without
/// making the rest of the desktop stutter.
const THUMB_WORKERS: usize = 2;

/// Long side of the preview in the details pane: the pane is about 360 px wide, doubled
/// for high-density screens.
const PREVIEW_SIDE: u32 = 768;

/// The asset gallery's state, managed by Tauri.
pub struct Assets {
    index: Arc<AssetIndex>,
    thumbs: ThumbCache,
    previews: ThumbCache,
    version: Arc<watch::Sender<u64>>,
    /// Where the chosen folders are kept.
    settings_file: std::path::PathBuf,
}

/// Makes the index's folders the ones in the settings file: the user may have edited it.
/// A folder that is not there now (an unplugged drive) shows as missing and is scanned when
/// it appears.
fn match_folders(index: &AssetIndex, folders: &[std::path::PathBuf]) {
    let roots = match index.roots() {
        Ok(roots) => roots,
        Err(err) => {
            warn!(error = %err, "asset folders not read; settings not applied");
            return;
        }
    };
    // `Data/` typed into the file and the index's `Data` are one folder.
    let clean = |path: &std::path::Path| index::root_path(path).unwrap_or_else(|_| path.into());
    let folders: Vec<_> = folders.iter().map(|folder| clean(folder)).collect();
    let roots: Vec<_> = roots
        .into_iter()
        .map(|mut root| {
            root.path = clean(&root.path);
            root
        })
        .collect();
    for root in &roots {
        if !folders.contains(&root.path) {
            match index.remove_root(&root.path) {
                Ok(_) => {
                    info!(root = %root.path.display(), "asset folder removed: not in the settings")
                }
                Err(err) => {
                    warn!(root = %root.path.display(), error = %err, "asset folder not removed")
                }
            }
        }
    }
    for folder in &folders {
        if !roots.iter().any(|root| &root.path == folder) {
            match index.keep_root(folder) {
                Ok(_) => info!(root = %folder.display(), "asset folder added from the settings"),
                Err(err) => {
                    warn!(root = %folder.display(), error = %err, "asset folder from the settings not added")
                }
            }
        }
    }
}

/// Writes the index's folders into the settings file, so they are there for the next start
/// and for the user to read.
fn record_folders(index: &AssetIndex, settings_file: &std::path::Path) {
    let folders = match index.roots() {
        Ok(roots) => roots.into_iter().map(|root| root.path).collect(),
        Err(err) => {
            warn!(error = %err, "asset folders not read; settings not written");
            return;
        }
    };
    if let Err(err) = Settings::update(settings_file, |settings| {
        settings.assets.folders = Some(folders);
    }) {
        warn!(error = %err, "asset folders not written to the settings");
    }
}

/// Adds what the asset gallery needs to the builder (its URI scheme).
pub fn register(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    let pool = ThumbPool::start(THUMB_WORKERS);
    builder
        .manage(Arc::clone(&pool))
        .register_asynchronous_uri_scheme_protocol(THUMB_SCHEME, move |ctx, request, reply| {
            scheme::queue_thumbnail(ctx.app_handle(), &request, reply, &pool);
        })
}

/// Starts the asset index and puts its state in the app's managed state. An index that
/// cannot be opened is logged and leaves the panel saying so; the rest of the app runs.
pub fn setup(app: &tauri::App, dirs: &mossy_core::settings::AppDirs) -> anyhow::Result<()> {
    let db = dirs.data.join(INDEX_FILE);
    let (index, events) = match AssetIndex::open(&db) {
        Ok(opened) => opened,
        Err(err) => {
            error!(path = %db.display(), error = %err, "asset index unusable; the Assets panel is off");
            return Ok(());
        }
    };
    let index = Arc::new(index);
    let settings_file = dirs.settings_file();
    match Settings::load(&settings_file).map(|settings| settings.assets.folders) {
        Ok(Some(folders)) => match_folders(&index, &folders),
        // Folders chosen before they were kept in the settings: write them there now. With
        // none, the file is left alone (it may not exist yet, or was just set aside as broken).
        Ok(None) if index.roots().is_ok_and(|roots| !roots.is_empty()) => {
            record_folders(&index, &settings_file);
        }
        Ok(None) => {}
        Err(err) => warn!(error = %err, "settings unreadable; asset folders as the index has them"),
    }
    if let Some(list) = std::env::var_os(DIRS_ENV) {
        for dir in std::env::split_paths(&list).filter(|dir| !dir.as_os_str().is_empty()) {
            match index.keep_root(&dir) {
                Ok(root) => {
                    info!(root = %root.display(), "asset folder added from the environment")
                }
                Err(err) => warn!(path = %dir.display(), error = %err, "asset folder not added"),
            }
        }
    }

    let version = Arc::new(watch::channel(0_u64).0);
    let (details, jobs) = channel();
    {
        let (index, version, details) = (Arc::clone(&index), Arc::clone(&version), details.clone());
        std::thread::Builder::new()
            .name("asset-events".into())
            .spawn(move || details::follow_index(&index, &events, &version, &details))
            .context("could not start the asset event thread")?;
    }
    {
        let (index, version) = (Arc::clone(&index), Arc::clone(&version));
        std::thread::Builder::new()
            .name("asset-details".into())
            .spawn(move || details::read_details(&index, &jobs, &version))
            .context("could not start the asset header thread")?;
    }
    // Headers left unread when the app last closed.
    let _ = details.send(DetailsJob::Sweep);

    let thumbs = ThumbCache::new(dirs.data.join(THUMB_DIR));
    let previews = thumbs.clone().with_max_side(PREVIEW_SIDE);
    app.manage(Assets {
        index,
        thumbs,
        previews,
        version,
        settings_file,
    });
    previews::setup(app, dirs);
    Ok(())
}
impl Assets {
    /// Keeps the chosen folders in the settings file after the user changed them.
    fn record_folders(&self) {
        record_folders(&self.index, &self.settings_file);
    }

    /// Tells every open panel the index changed.
    fn bump(&self) {
        bump(&self.version);
    }
}

fn bump(version: &watch::Sender<u64>) {
    version.send_modify(|number| *number += 1);
}

fn assets_of(app: &AppHandle) -> Result<State<'_, Assets>, IpcError> {
    app.try_state::<Assets>().ok_or_else(|| IpcError {
        code: ErrorCode::Storage,
        message: "The asset index could not be opened; see the log for why.".into(),
    })
}

/// Runs an index call (SQLite, disk) on a blocking thread, off the command runtime.
async fn on_index<T: Send + 'static>(
    assets: &Assets,
    call: impl FnOnce(&AssetIndex) -> Result<T, IpcError> + Send + 'static,
) -> Result<T, IpcError> {
    let index = Arc::clone(&assets.index);
    tauri::async_runtime::spawn_blocking(move || call(&index))
        .await
        .map_err(|err| IpcError {
            code: ErrorCode::Internal,
            message: format!("The request stopped: {err}"),
        })?
}

fn index_error(err: index::IndexError) -> IpcError {
    warn!(error = %err, "asset index call failed");
    let code = match err {
        index::IndexError::Database(_) => ErrorCode::Storage,
        index::IndexError::UnknownRoot(_) => ErrorCode::NotFound,
        _ => ErrorCode::Invalid,
    };
    IpcError {
        code,
        message: capitalise(&err.to_string()),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

fn invalid(message: impl Into<String>) -> IpcError {
    IpcError {
        code: ErrorCode::Invalid,
        message: message.into(),
    }
}

fn roots_of(index: &AssetIndex) -> Result<Vec<AssetRoot>, IpcError> {
    Ok(index
        .roots()
        .map_err(index_error)?
        .into_iter()
        .map(|root| AssetRoot {
            path: root.path.to_string_lossy().into_owned(),
            state: match root.state {
                index::RootState::Scanning => RootState::Scanning,
                index::RootState::Ready => RootState::Ready,
                index::RootState::Missing => RootState::Missing,
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn shared_fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/assets")
            .join(rel)
    }

    /// A folder named like a modder's (space, `#`, `ü`) indexed as a root, with a decodable
    /// texture and a damaged one, and a texture beside it outside the root.
    pub(super) fn gallery() -> (tempfile::TempDir, PathBuf, AssetIndex) {
        let outer = tempfile::tempdir().expect("temp dir");
        let root = outer.path().join("Mod #1 ü");
        std::fs::create_dir_all(&root).expect("root folder");
        let texture = shared_fixture("textures/bc/DX9 BC1_UNORM.dds");
        std::fs::copy(&texture, root.join("a 50%.dds")).expect("copy texture");
        std::fs::copy(&texture, outer.path().join("outside.dds")).expect("copy texture");
        std::fs::write(root.join("broken.dds"), b"DDS not really a header").expect("write");
        let (index, _events) =
            AssetIndex::open_unwatched(&outer.path().join("index.sqlite3")).expect("index");
        index.add_root(&root).expect("add root");
        index.rescan(&root).expect("scan");
        (outer, root, index)
    }

    #[test]
    fn the_settings_file_decides_the_folders_and_records_them() {
        let (outer, root, index) = gallery();
        let other = outer.path().join("Other ü");
        std::fs::create_dir_all(&other).expect("other folder");
        let settings_file = outer.path().join("config").join("settings.toml");

        // No folders in the file yet: the index's go there.
        record_folders(&index, &settings_file);
        let kept = Settings::load(&settings_file)
            .expect("settings")
            .assets
            .folders;
        assert_eq!(kept, Some(vec![root.clone()]));

        // The user edited the file: the index follows it.
        match_folders(&index, std::slice::from_ref(&other));
        let roots: Vec<PathBuf> = index
            .roots()
            .expect("roots")
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(roots, [other]);
    }
}
