//! The asset gallery's calls to the backend.

use mossy_protocol::assets::{
    AssetFilter, AssetItem, AssetRoot, AssetsUpdate, THUMB_SCHEME, commands, thumb_url,
};
use mossy_protocol::ipc::IpcError;
use mossy_protocol::previews::{self, PreviewRequestId, PreviewsUpdate, preview_url};
use serde::Serialize;

use super::{Subscription, call, subscribe};

#[derive(Serialize)]
struct PathArgs<'a> {
    path: &'a str,
}

/// Streams Assets panel updates (index version and folders) to `on_update` until the
/// subscription is dropped.
pub async fn subscribe_assets(
    on_update: impl FnMut(AssetsUpdate) + 'static,
) -> Result<Subscription, IpcError> {
    subscribe(commands::SUBSCRIBE_ASSETS, on_update).await
}

/// Adds the folder at `path` to the gallery (for a Mod Organizer 2 instance folder, its
/// `mods` and `overwrite` folders); returns the folders added.
pub async fn assets_add_folder(path: &str) -> Result<Vec<AssetRoot>, IpcError> {
    call(commands::ASSETS_ADD_FOLDER, &PathArgs { path }).await
}

/// Removes the folder at `path` from the gallery.
pub async fn assets_remove_folder(path: &str) -> Result<(), IpcError> {
    call(commands::ASSETS_REMOVE_FOLDER, &PathArgs { path }).await
}

/// Files matching `filter`, newest first, `limit` of them from position `offset`.
pub async fn assets_page(
    filter: &AssetFilter,
    offset: u64,
    limit: u64,
) -> Result<Vec<AssetItem>, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        filter: &'a AssetFilter,
        offset: u64,
        limit: u64,
    }
    let args = Args {
        filter,
        offset,
        limit,
    };
    call(commands::ASSETS_PAGE, &args).await
}

/// How many files match `filter`.
pub async fn assets_count(filter: &AssetFilter) -> Result<u64, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        filter: &'a AssetFilter,
    }
    call(commands::ASSETS_COUNT, &Args { filter }).await
}

/// Tells the backend which files the grid shows, nearest the middle of the view first, so
/// their thumbnails are made first.
pub async fn assets_focus(paths: &[String]) -> Result<(), IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        paths: &'a [String],
    }
    call(commands::ASSETS_FOCUS, &Args { paths }).await
}

/// One file with its header details.
pub async fn asset_details(path: &str) -> Result<AssetItem, IpcError> {
    call(commands::ASSET_DETAILS, &PathArgs { path }).await
}

/// Opens the folder holding the file at `path` in the system's file manager.
pub async fn open_asset_folder(path: &str) -> Result<(), IpcError> {
    call(commands::OPEN_ASSET_FOLDER, &PathArgs { path }).await
}

/// Streams every preview request of this session to `on_update` until the subscription is
/// dropped.
pub async fn subscribe_previews(
    on_update: impl FnMut(PreviewsUpdate) + 'static,
) -> Result<Subscription, IpcError> {
    subscribe(previews::commands::SUBSCRIBE_PREVIEWS, on_update).await
}

/// Asks Mossy for previews of the asset at `asset_path`; returns the new request's id.
pub async fn generate_previews(
    asset_path: &str,
    prompt: &str,
) -> Result<PreviewRequestId, IpcError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Args<'a> {
        asset_path: &'a str,
        prompt: &'a str,
    }
    let args = Args { asset_path, prompt };
    call(previews::commands::GENERATE_PREVIEWS, &args).await
}

/// The URL the webview loads image `file` of preview request `request` from.
pub fn preview_image_url(request: &PreviewRequestId, file: &str) -> String {
    preview_url(&thumb_origin(), request, file)
}

/// The URL the webview loads the thumbnail of `item` from; `large` asks for the preview
/// size of the details pane.
pub fn asset_thumb_url(item: &AssetItem, large: bool) -> String {
    thumb_url(&thumb_origin(), &item.path, item.modified_ms, large)
}

/// How this webview spells a custom scheme: WebView2 on Windows only loads it as
/// `http://<scheme>.localhost`; WebKit (Linux, macOS) as `<scheme>://localhost`.
fn thumb_origin() -> String {
    let windows = web_sys::window()
        .and_then(|window| js_sys::Reflect::get(&window, &"navigator".into()).ok())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"userAgent".into()).ok())
        .and_then(|agent| agent.as_string())
        .is_some_and(|agent| agent.contains("Windows"));
    if windows {
        format!("http://{THUMB_SCHEME}.localhost")
    } else {
        format!("{THUMB_SCHEME}://localhost")
    }
}
