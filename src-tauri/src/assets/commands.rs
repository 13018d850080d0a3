//! The Assets panel's commands: folders, pages of files, details, and its stream.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mossy_assets::index::{self, AssetIndex};
use mossy_assets::kind::AssetKind as FileKind;
use mossy_protocol::assets::{
    AssetFilter, AssetItem, AssetKind, AssetRoot, AssetsUpdate, MAX_FOCUS, RootState,
};
use mossy_protocol::ipc::{ErrorCode, IpcError, SubscriptionId};
use tauri::ipc::Channel;
use tauri::{AppHandle, State, WebviewWindow};
use tokio::sync::watch;
use tracing::{info, instrument};

use super::details::{store_details, to_item};
use super::scheme::{ThumbPool, inside_roots};
use super::{assets_of, index_error, invalid, on_index, roots_of};
use crate::services::Services;

/// The settings file that marks a Mod Organizer 2 instance folder.
const MO2_SETTINGS: &str = "ModOrganizer.ini";

/// Time between Assets panel updates. A burst of thousands of files (unpacking an archive)
/// then costs the page ten refetches a second, while one new file still shows within the
/// watcher's debounce plus this.
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

/// Most rows one page request returns; a screen of cards is a few hundred at most.
const MAX_PAGE: u64 = 1000;

/// Starts the Assets panel stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_assets(
    app: AppHandle,
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<AssetsUpdate>,
) -> Result<SubscriptionId, IpcError> {
    let assets = assets_of(&app)?;
    let stream = stream_updates(
        Arc::clone(&assets.index),
        assets.version.subscribe(),
        channel,
    );
    Ok(services.streams.start(window.label(), stream))
}

/// Adds a folder to the index; it is scanned and watched from now on. A Mod Organizer 2
/// instance folder adds its `mods` and `overwrite` folders instead, where the files are.
#[tauri::command]
#[instrument(skip(app))]
pub async fn assets_add_folder(app: AppHandle, path: String) -> Result<Vec<AssetRoot>, IpcError> {
    let assets = assets_of(&app)?;
    let added = on_index(&assets, move |index| {
        add_folder(index, Path::new(path.trim()))
    })
    .await?;
    assets.record_folders();
    assets.bump();
    Ok(added
        .into_iter()
        .map(|path| AssetRoot {
            path: path.to_string_lossy().into_owned(),
            state: RootState::Scanning,
        })
        .collect())
}

/// Checks a folder typed by the user and adds it, or the folders of the MO2 instance it is.
fn add_folder(index: &AssetIndex, path: &Path) -> Result<Vec<PathBuf>, IpcError> {
    if path.as_os_str().is_empty() {
        return Err(invalid("Type or paste the full path of a folder first."));
    }
    if !path.is_absolute() {
        return Err(invalid(format!(
            "{} is not a full path; give it from the drive or `/` down.",
            path.display()
        )));
    }
    if !path.exists() {
        return Err(invalid(format!("{} does not exist.", path.display())));
    }
    if !path.is_dir() {
        return Err(invalid(format!(
            "{} is a file, not a folder.",
            path.display()
        )));
    }
    if !path.join(MO2_SETTINGS).is_file() {
        return Ok(vec![index.add_root(path).map_err(index_error)?]);
    }

    let mo2 = index::find_mo2_folders(path).map_err(index_error)?;
    let folders: Vec<PathBuf> = [mo2.mods, mo2.overwrite]
        .into_iter()
        .filter(|folder| folder.is_dir())
        .collect();
    if folders.is_empty() {
        return Err(invalid(format!(
            "{} is a Mod Organizer 2 instance without mods or overwrite folders.",
            path.display()
        )));
    }
    info!(instance = %path.display(), "adding a Mod Organizer 2 instance's folders");
    folders
        .iter()
        .map(|folder| index.add_root(folder).map_err(index_error))
        .collect()
}

/// Removes a folder and its files from the index; the files on disk are not touched.
#[tauri::command]
#[instrument(skip(app))]
pub async fn assets_remove_folder(app: AppHandle, path: String) -> Result<(), IpcError> {
    let assets = assets_of(&app)?;
    let removed = on_index(&assets, move |index| {
        index.remove_root(Path::new(&path)).map_err(index_error)
    })
    .await?;
    if !removed {
        return Err(IpcError {
            code: ErrorCode::NotFound,
            message: "That folder is not in the gallery any more.".into(),
        });
    }
    assets.record_folders();
    assets.bump();
    Ok(())
}

/// Every chosen folder with its state.
#[tauri::command]
#[instrument(skip(app))]
pub async fn assets_roots(app: AppHandle) -> Result<Vec<AssetRoot>, IpcError> {
    let assets = assets_of(&app)?;
    on_index(&assets, roots_of).await
}

/// Files matching `filter`, newest first, from position `offset`.
#[tauri::command]
#[instrument(skip(app))]
pub async fn assets_page(
    app: AppHandle,
    filter: AssetFilter,
    offset: u64,
    limit: u64,
) -> Result<Vec<AssetItem>, IpcError> {
    let assets = assets_of(&app)?;
    let filter = index_filter(&filter);
    on_index(&assets, move |index| {
        let records = index
            .list(&filter, offset, limit.min(MAX_PAGE))
            .map_err(index_error)?;
        Ok(records.into_iter().map(to_item).collect())
    })
    .await
}

/// Tells the thumbnail pool which files the grid shows, nearest the middle of its view
/// first; their thumbnails are made before any other.
#[tauri::command]
pub fn assets_focus(pool: State<'_, Arc<ThumbPool>>, paths: Vec<String>) {
    pool.focus(
        paths
            .into_iter()
            .take(MAX_FOCUS)
            .map(PathBuf::from)
            .collect(),
    );
}

/// How many files match `filter`.
#[tauri::command]
#[instrument(skip(app))]
pub async fn assets_count(app: AppHandle, filter: AssetFilter) -> Result<u64, IpcError> {
    let assets = assets_of(&app)?;
    let filter = index_filter(&filter);
    on_index(&assets, move |index| {
        index.count(&filter).map_err(index_error)
    })
    .await
}

/// One file with its header details, reading the header now if the background thread has
/// not got to it yet.
#[tauri::command]
#[instrument(skip(app))]
pub async fn asset_details(app: AppHandle, path: String) -> Result<AssetItem, IpcError> {
    let assets = assets_of(&app)?;
    on_index(&assets, move |index| {
        let path = PathBuf::from(path);
        let not_found = || IpcError {
            code: ErrorCode::NotFound,
            message: format!("{} is no longer in the gallery.", path.display()),
        };
        let mut record = index
            .get(&path)
            .map_err(index_error)?
            .ok_or_else(not_found)?;
        if record.details.is_none() && record.details_error.is_none() && store_details(index, &path)
        {
            record = index
                .get(&path)
                .map_err(index_error)?
                .ok_or_else(not_found)?;
        }
        Ok(to_item(record))
    })
    .await
}

/// Opens the folder holding a file in the system's file manager. Only files inside a chosen
/// folder are accepted: the path comes from the page.
#[tauri::command]
#[instrument(skip(app))]
pub async fn open_asset_folder(app: AppHandle, path: String) -> Result<(), IpcError> {
    let assets = assets_of(&app)?;
    let file = on_index(&assets, move |index| {
        inside_roots(index, Path::new(&path)).map_err(|refusal| invalid(refusal.sentence()))
    })
    .await?;
    let folder = file.parent().unwrap_or(&file);
    open::that_detached(folder)
        .map_err(|err| invalid(format!("{} could not be opened: {err}", folder.display())))
}

/// Sends the version and the folders at once, then again after each change, at most once
/// per [`UPDATE_INTERVAL`].
async fn stream_updates(
    index: Arc<AssetIndex>,
    mut version: watch::Receiver<u64>,
    channel: Channel<AssetsUpdate>,
) {
    loop {
        let number = *version.borrow_and_update();
        let reader = Arc::clone(&index);
        let roots = match tauri::async_runtime::spawn_blocking(move || roots_of(&reader)).await {
            Ok(Ok(roots)) => roots,
            // Already logged by the conversion; the page keeps the folders it has.
            Ok(Err(_)) | Err(_) => Vec::new(),
        };
        let update = AssetsUpdate {
            version: number,
            roots,
        };
        if channel.send(update).is_err() {
            break;
        }
        tokio::time::sleep(UPDATE_INTERVAL).await;
        if version.changed().await.is_err() {
            break;
        }
    }
}

fn index_filter(filter: &AssetFilter) -> index::AssetFilter {
    let text = filter.text.trim();
    index::AssetFilter {
        kind: filter.kind.map(|kind| match kind {
            AssetKind::Texture => FileKind::Texture,
            AssetKind::Image => FileKind::Image,
            AssetKind::Mesh => FileKind::Mesh,
            AssetKind::Plugin => FileKind::Plugin,
            AssetKind::Archive => FileKind::Archive,
            AssetKind::Other => FileKind::Other,
        }),
        text: (!text.is_empty()).then(|| text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_checked_and_mo2_instances_add_mods_and_overwrite() {
        let outer = tempfile::tempdir().expect("temp dir");
        let (index, _events) =
            AssetIndex::open_unwatched(&outer.path().join("index.sqlite3")).expect("index");

        let instance = outer.path().join("MO2 #1 ü");
        for folder in ["mods/Mod A", "overwrite", "profiles"] {
            std::fs::create_dir_all(instance.join(folder)).expect("folder");
        }
        std::fs::write(
            instance.join(MO2_SETTINGS),
            "[General]\ngameName=Fallout 4\n",
        )
        .expect("ini");
        let added = add_folder(&index, &instance).expect("instance added");
        assert_eq!(added, [instance.join("mods"), instance.join("overwrite")]);

        let plain = outer.path().join("Data");
        std::fs::create_dir_all(&plain).expect("folder");
        assert_eq!(add_folder(&index, &plain).expect("added"), vec![plain]);

        for bad in [
            PathBuf::new(),
            PathBuf::from("relative/Data"),
            outer.path().join("nowhere"),
            instance.join(MO2_SETTINGS),
        ] {
            let err = add_folder(&index, &bad).expect_err("refused");
            assert_eq!(err.code, ErrorCode::Invalid, "{}", bad.display());
        }
    }
}
