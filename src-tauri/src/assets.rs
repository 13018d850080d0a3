//! The asset gallery's side of the app shell: its commands, the URI scheme that serves
//! thumbnails to the webview, and the index service.
//!
//! The index (`mossy_assets::index`) scans and watches the chosen folders on its own
//! threads. Two more threads live here: one turns the index's events into a version number
//! the Assets panel stream carries (the page refetches what it shows when it goes up), and
//! one reads the header of every new or changed texture, mesh, plugin and archive and stores
//! what it says beside the file's row, so the grid can show formats and error badges.
//!
//! Thumbnails never cross IPC. The page points `<img>` elements at `thumb://` URLs holding
//! the percent-encoded absolute path; the scheme handler checks the path lies inside a
//! chosen folder (after resolving links and `..`), then hands the work to a small pool of
//! threads that make or reuse the cached PNG. The pool takes the newest request first: the
//! page asks for what has just scrolled into view, so that is what gets decoded first.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use mossy_assets::ba2::Ba2Kind;
use mossy_assets::dds::DdsHeaderKind;
use mossy_assets::header::{AssetHeader, read_header};
use mossy_assets::index::{self, AssetIndex, AssetRecord, IndexEvent};
use mossy_assets::kind::AssetKind as FileKind;
use mossy_assets::read_error::ReadError;
use mossy_assets::thumb_cache::ThumbCache;
use mossy_assets::thumbnail::ThumbError;
use mossy_protocol::assets::{
    ArchiveDetails, ArchiveKind, AssetDetails, AssetFilter, AssetItem, AssetKind, AssetRoot,
    AssetsUpdate, MeshDetails, PluginDetails, RootState, THUMB_SCHEME, THUMB_SIZE_LARGE,
    TextureDetails,
};
use mossy_protocol::ipc::{ErrorCode, IpcError, SubscriptionId};
use tauri::http::{Request, Response, StatusCode, header};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, UriSchemeResponder, WebviewWindow};
use tokio::sync::watch;
use tracing::{debug, error, info, instrument, warn};

use crate::services::Services;

/// The index database's file name inside the data folder.
const INDEX_FILE: &str = "assets.sqlite3";

/// The thumbnail cache's folder inside the data folder.
const THUMB_DIR: &str = "thumbnails";

/// The settings file that marks a Mod Organizer 2 instance folder.
const MO2_SETTINGS: &str = "ModOrganizer.ini";

/// Folders added to the index at start, separated like `PATH`; for tests and scripted runs.
const DIRS_ENV: &str = "MOSSY_ASSETS_DIRS";

/// Threads making thumbnails. The machines we run on have two to eight cores and the game,
/// the Creation Kit and a build may be using them; two keeps the grid filling without
/// making the rest of the desktop stutter.
const THUMB_WORKERS: usize = 2;

/// Long side of the preview in the details pane: the pane is about 360 px wide, doubled
/// for high-density screens.
const PREVIEW_SIDE: u32 = 768;

/// Time between Assets panel updates. A burst of thousands of files (unpacking an archive)
/// then costs the page ten refetches a second, while one new file still shows within the
/// watcher's debounce plus this.
const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

/// How often the grid refreshes while a folder is being scanned: a scan announces its files
/// only when it ends, and a first scan of a big Data folder takes seconds.
const SCANNING_REFRESH: Duration = Duration::from_millis(500);

/// Most rows one page request returns; a screen of cards is a few hundred at most.
const MAX_PAGE: u64 = 1000;

/// Rows read at a time when looking for files whose header was not read yet.
const SWEEP_BATCH: u64 = 1000;

/// Archive file names kept in the details; the pane shows a sample, not the whole list.
const FIRST_NAMES: usize = 12;

/// The asset gallery's state, managed by Tauri.
pub struct Assets {
    index: Arc<AssetIndex>,
    thumbs: ThumbCache,
    previews: ThumbCache,
    version: Arc<watch::Sender<u64>>,
}

/// Work for the header-reading thread.
enum DetailsJob {
    /// Read this file's header.
    File(PathBuf),
    /// Read every header not read yet (after a scan).
    Sweep,
}

/// Adds what the asset gallery needs to the builder (its URI scheme).
pub fn register(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    let pool = ThumbPool::start(THUMB_WORKERS);
    builder.register_asynchronous_uri_scheme_protocol(THUMB_SCHEME, move |ctx, request, reply| {
        queue_thumbnail(ctx.app_handle(), &request, reply, &pool);
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
    if let Some(list) = std::env::var_os(DIRS_ENV) {
        for dir in std::env::split_paths(&list).filter(|dir| !dir.as_os_str().is_empty()) {
            match index.add_root(&dir) {
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
            .spawn(move || follow_index(&index, &events, &version, &details))
            .context("could not start the asset event thread")?;
    }
    {
        let (index, version) = (Arc::clone(&index), Arc::clone(&version));
        std::thread::Builder::new()
            .name("asset-details".into())
            .spawn(move || read_details(&index, &jobs, &version))
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
    });
    Ok(())
}

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

impl Assets {
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

/// Turns index events into version bumps and header jobs, until the index closes. While a
/// folder is being scanned, which announces nothing until it ends, the version also goes up
/// every [`SCANNING_REFRESH`] so the grid fills as files are found.
fn follow_index(
    index: &AssetIndex,
    events: &Receiver<IndexEvent>,
    version: &watch::Sender<u64>,
    details: &Sender<DetailsJob>,
) {
    let mut scanning = false;
    loop {
        let event = if scanning {
            match events.recv_timeout(SCANNING_REFRESH) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    bump(version);
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match events.recv() {
                Ok(event) => event,
                Err(_) => return,
            }
        };
        debug!(?event, "asset index changed");
        let job = match event {
            IndexEvent::Upserted(path) => Some(DetailsJob::File(path)),
            IndexEvent::Rescanned(..) => Some(DetailsJob::Sweep),
            IndexEvent::RootState(..) => {
                scanning = index.roots().is_ok_and(|roots| {
                    roots
                        .iter()
                        .any(|root| root.state == index::RootState::Scanning)
                });
                None
            }
            IndexEvent::Removed(_) => None,
        };
        if let Some(job) = job {
            // The header thread only stops with the process.
            let _ = details.send(job);
        }
        bump(version);
    }
}

/// Reads headers as jobs arrive and stores them in the index.
fn read_details(index: &AssetIndex, jobs: &Receiver<DetailsJob>, version: &watch::Sender<u64>) {
    while let Ok(job) = jobs.recv() {
        match job {
            DetailsJob::File(path) => {
                if store_details(index, &path) {
                    bump(version);
                }
            }
            DetailsJob::Sweep => sweep(index, version),
        }
    }
}

/// Reads every header the index does not hold yet.
fn sweep(index: &AssetIndex, version: &watch::Sender<u64>) {
    let mut offset = 0;
    loop {
        let records = match index.list(&index::AssetFilter::default(), offset, SWEEP_BATCH) {
            Ok(records) => records,
            Err(err) => {
                warn!(error = %err, "could not list assets to read their headers");
                return;
            }
        };
        let mut stored = false;
        for record in &records {
            if record.details.is_none() && record.details_error.is_none() {
                stored |= store_details(index, &record.path);
            }
        }
        if stored {
            bump(version);
        }
        if (records.len() as u64) < SWEEP_BATCH {
            return;
        }
        offset += SWEEP_BATCH;
    }
}

/// Reads the header of the file at `path` and stores the result; true when something was
/// stored. A damaged file stores its error; a file that has gone stores nothing.
fn store_details(index: &AssetIndex, path: &Path) -> bool {
    // The readers return errors for bad input; a panic would be their bug, and it must
    // not take the header thread (and every later header) down with it.
    let read = std::panic::catch_unwind(AssertUnwindSafe(|| read_header(path)));
    let details = match read {
        Ok(Ok(Some(header))) => match serde_json::to_value(to_details(header)) {
            Ok(value) => Ok(value),
            Err(err) => Err(format!("the header could not be stored: {err}")),
        },
        Ok(Ok(None)) => return false,
        Ok(Err(ReadError::Io(err))) if err.kind() == std::io::ErrorKind::NotFound => return false,
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("the header reader failed on this file".to_owned()),
    };
    if let Err(reason) = &details {
        debug!(path = %path.display(), reason, "header unreadable");
    }
    match index.set_details(path, details) {
        Ok(stored) => stored,
        Err(err) => {
            warn!(path = %path.display(), error = %err, "could not store a header");
            false
        }
    }
}

fn to_details(header: AssetHeader) -> AssetDetails {
    match header {
        AssetHeader::Texture(dds) => AssetDetails::Texture(TextureDetails {
            normal_map: dds.format.starts_with("BC5"),
            dx10: dds.header == DdsHeaderKind::Dx10,
            format: dds.format,
            srgb: dds.srgb,
            width: dds.width,
            height: dds.height,
            mips: dds.mip_count,
            cubemap: dds.cubemap,
        }),
        AssetHeader::Mesh(nif) => AssetDetails::Mesh(MeshDetails {
            version: nif.version_text(),
            user_version: nif.user_version,
            bsver: nif.bsver,
            blocks: nif.block_count,
        }),
        AssetHeader::Plugin(plugin) => AssetDetails::Plugin(PluginDetails {
            master: plugin.master,
            light: plugin.light,
            masters: plugin.masters,
            author: plugin.author,
            description: plugin.description,
            records: plugin.record_count,
        }),
        AssetHeader::Archive(ba2) => AssetDetails::Archive(ArchiveDetails {
            version: ba2.version,
            archive_kind: match ba2.kind {
                Ba2Kind::General => ArchiveKind::General,
                Ba2Kind::Textures => ArchiveKind::Textures,
            },
            file_count: ba2.file_count,
            first_names: ba2.names.into_iter().take(FIRST_NAMES).collect(),
        }),
    }
}

fn to_item(record: AssetRecord) -> AssetItem {
    AssetItem {
        path: record.path.to_string_lossy().into_owned(),
        rel_path: record.rel_path,
        kind: match record.kind {
            FileKind::Texture => AssetKind::Texture,
            FileKind::Image => AssetKind::Image,
            FileKind::Mesh => AssetKind::Mesh,
            FileKind::Plugin => AssetKind::Plugin,
            FileKind::Archive => AssetKind::Archive,
            FileKind::Other => AssetKind::Other,
        },
        size: record.size,
        modified_ms: record.modified_ns.div_euclid(1_000_000),
        // Details written by an older build in another shape are read again on next change.
        details: record
            .details
            .and_then(|value| serde_json::from_value(value).ok()),
        error: record.details_error,
        root_missing: record.root_state == index::RootState::Missing,
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

/// Why a path from the page is not served or opened.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Not inside any chosen folder once links and `..` are resolved (or not absolute).
    Outside,
    /// The file does not exist.
    Missing,
    /// The file or the index could not be read.
    Unreadable(String),
}

impl Refusal {
    fn sentence(&self) -> String {
        match self {
            Self::Outside => "Only files inside the chosen folders are opened from here.".into(),
            Self::Missing => "That file is no longer on disk.".into(),
            Self::Unreadable(why) => format!("That file cannot be read: {why}"),
        }
    }
}

/// The real path of `path` when it lies inside one of the index's folders.
fn inside_roots(index: &AssetIndex, path: &Path) -> Result<PathBuf, Refusal> {
    if !path.is_absolute() {
        return Err(Refusal::Outside);
    }
    let real = path.canonicalize().map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => Refusal::Missing,
        _ => Refusal::Unreadable(err.to_string()),
    })?;
    let roots = index
        .roots()
        .map_err(|err| Refusal::Unreadable(err.to_string()))?;
    let inside = roots.iter().any(|root| {
        root.path
            .canonicalize()
            .is_ok_and(|root| real.starts_with(root))
    });
    if inside {
        Ok(real)
    } else {
        Err(Refusal::Outside)
    }
}

/// The absolute path a thumbnail URL carries: its path is `/` and one percent-encoded
/// segment.
fn path_from_url(url_path: &str) -> Option<PathBuf> {
    let segment = url_path.strip_prefix('/')?;
    let text = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    (!text.is_empty()).then(|| PathBuf::from(text.as_ref()))
}

/// Checks a thumbnail request on the webview's thread and queues the work on the pool.
fn queue_thumbnail(
    app: &AppHandle,
    request: &Request<Vec<u8>>,
    reply: UriSchemeResponder,
    pool: &ThumbPool,
) {
    let Some(assets) = app.try_state::<Assets>() else {
        reply.respond(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the asset index is off",
        ));
        return;
    };
    let Some(path) = path_from_url(request.uri().path()) else {
        reply.respond(plain(StatusCode::BAD_REQUEST, "no file path in the URL"));
        return;
    };
    let large = request.uri().query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair == format!("size={THUMB_SIZE_LARGE}"))
    });
    let cache = if large {
        assets.previews.clone()
    } else {
        assets.thumbs.clone()
    };
    let index = Arc::clone(&assets.index);
    pool.push(Box::new(move || {
        reply.respond(thumbnail_response(&index, &cache, &path));
    }));
}

/// Makes (or reuses) the thumbnail and wraps it in an HTTP response.
fn thumbnail_response(index: &AssetIndex, cache: &ThumbCache, path: &Path) -> Response<Vec<u8>> {
    let real = match inside_roots(index, path) {
        Ok(real) => real,
        Err(Refusal::Outside) => {
            warn!(path = %path.display(), "thumbnail refused: outside the chosen folders");
            return plain(StatusCode::FORBIDDEN, "outside the chosen folders");
        }
        Err(Refusal::Missing) => return plain(StatusCode::NOT_FOUND, "no such file"),
        Err(Refusal::Unreadable(why)) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &why),
    };
    let made = std::panic::catch_unwind(AssertUnwindSafe(|| cache.get_or_make(&real)));
    let png = match made {
        Ok(Ok(entry)) => std::fs::read(&entry).map_err(|err| err.to_string()),
        Ok(Err(ThumbError::Read(ReadError::Io(err))))
            if err.kind() == std::io::ErrorKind::NotFound =>
        {
            return plain(StatusCode::NOT_FOUND, "no such file");
        }
        Ok(Err(err)) => {
            debug!(path = %real.display(), error = %err, "no thumbnail");
            return plain(StatusCode::UNPROCESSABLE_ENTITY, &err.to_string());
        }
        Err(_) => Err("the thumbnailer failed on this file".to_owned()),
    };
    match png {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "image/png")
            // The URL changes with the file's modification time, so a cached copy is right.
            .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
            .body(bytes)
            .unwrap_or_else(|_| Response::new(Vec::new())),
        Err(why) => {
            warn!(path = %real.display(), error = %why, "thumbnail failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, &why)
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(text.as_bytes().to_vec())
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

type ThumbJob = Box<dyn FnOnce() + Send>;

/// A fixed set of threads taking thumbnail jobs newest first.
// TODO(assets): newest first approximates "nearest the viewport first"; a true order needs
// the page to send its visible range with each request, and old requests for rows scrolled
// far away are still made (they are cached for when the user scrolls back).
struct ThumbPool {
    queue: Mutex<Vec<ThumbJob>>,
    ready: Condvar,
    /// Threads that started; when none could, jobs run on the caller's thread.
    running: AtomicUsize,
}

impl ThumbPool {
    fn start(workers: usize) -> Arc<Self> {
        let pool = Arc::new(Self {
            queue: Mutex::new(Vec::new()),
            ready: Condvar::new(),
            running: AtomicUsize::new(0),
        });
        for number in 0..workers {
            let worker = Arc::clone(&pool);
            let spawned = std::thread::Builder::new()
                .name(format!("thumbnail-{number}"))
                .spawn(move || worker.run());
            match spawned {
                Ok(_) => {
                    pool.running.fetch_add(1, Ordering::Relaxed);
                }
                Err(err) => error!(error = %err, "could not start a thumbnail thread"),
            }
        }
        pool
    }

    fn push(&self, job: ThumbJob) {
        if self.running.load(Ordering::Relaxed) == 0 {
            job();
            return;
        }
        self.lock().push(job);
        self.ready.notify_one();
    }

    fn run(&self) {
        loop {
            let job = {
                let mut queue = self.lock();
                loop {
                    if let Some(job) = queue.pop() {
                        break job;
                    }
                    queue = self
                        .ready
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            job();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ThumbJob>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths_decode_awkward_names() {
        assert_eq!(
            path_from_url("/%2Ftmp%2Fa%20%231%2050%25%2F%C3%BC.dds"),
            Some(PathBuf::from("/tmp/a #1 50%/ü.dds"))
        );
        assert_eq!(path_from_url("/"), None);
        assert_eq!(path_from_url("/%FF"), None);
    }

    fn shared_fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/assets")
            .join(rel)
    }

    /// A folder named like a modder's (space, `#`, `ü`) indexed as a root, with a decodable
    /// texture and a damaged one, and a texture beside it outside the root.
    fn gallery() -> (tempfile::TempDir, PathBuf, AssetIndex) {
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
    fn thumbnails_are_served_only_inside_the_chosen_folders() {
        let (outer, root, index) = gallery();
        let cache = ThumbCache::new(outer.path().join("thumbs"));

        let served = thumbnail_response(&index, &cache, &root.join("a 50%.dds"));
        assert_eq!(served.status(), StatusCode::OK);
        assert!(served.body().starts_with(b"\x89PNG"), "a PNG body");

        let outside = outer.path().join("outside.dds");
        let refused = thumbnail_response(&index, &cache, &outside);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let sneaky = root.join("../outside.dds");
        let refused = thumbnail_response(&index, &cache, &sneaky);
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let relative = thumbnail_response(&index, &cache, Path::new("outside.dds"));
        assert_eq!(relative.status(), StatusCode::FORBIDDEN);

        let missing = thumbnail_response(&index, &cache, &root.join("gone.dds"));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let broken = thumbnail_response(&index, &cache, &root.join("broken.dds"));
        assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn headers_are_stored_as_details_or_errors() {
        let (_outer, root, index) = gallery();
        assert!(store_details(&index, &root.join("a 50%.dds")));
        assert!(store_details(&index, &root.join("broken.dds")));

        let good = index
            .get(&root.join("a 50%.dds"))
            .expect("get")
            .map(to_item)
            .expect("indexed");
        let Some(AssetDetails::Texture(texture)) = good.details else {
            panic!("texture details expected, got {:?}", good.details);
        };
        assert_eq!(texture.format, "BC1");
        assert!(!texture.dx10 && !texture.normal_map && !texture.cubemap);

        let bad = index
            .get(&root.join("broken.dds"))
            .expect("get")
            .map(to_item)
            .expect("indexed");
        assert_eq!(bad.details, None);
        assert!(
            bad.error.is_some_and(|e| e.contains("DDS")),
            "an error names the format"
        );
    }

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
