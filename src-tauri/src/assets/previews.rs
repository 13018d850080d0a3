//! "Generate previews": the command that asks Mossy for variations of an asset, the stream
//! of requests to the Assets panel, and serving the images the app kept.
//!
//! The requests themselves live in `mossy_core::previews`, which follows the bus and copies
//! what Mossy writes into the data folder's `previews/` folder. Here the page's input is
//! checked (the asset must lie inside a chosen folder, the prompt must fit), and the
//! `thumb://` scheme's `previews/<request id>/<file>` route serves those copies, and only
//! files the request lists.

use std::path::Path;

use mossy_core::bridge::SendError;
use mossy_core::previews::{ANSWER_TIMEOUT, PreviewRequests, PreviewsConfig, check_prompt};
use mossy_core::settings::AppDirs;
use mossy_protocol::bridge::ClientMessage;
use mossy_protocol::ipc::{ErrorCode, IpcError, SubscriptionId};
use mossy_protocol::previews::{PREVIEW_ROUTE, PreviewRequestId, PreviewsUpdate};
use tauri::http::{Response, StatusCode, header};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, WebviewWindow};
use tracing::{info, instrument, warn};

use super::scheme::{inside_roots, plain};
use super::{assets_of, capitalise, invalid, on_index};
use crate::services::Services;
use crate::streams::FRAME_INTERVAL;

/// The folder inside the data folder that holds the kept preview images.
const PREVIEWS_DIR: &str = "previews";

/// Starts following preview requests; without the core services (they failed to start,
/// which is logged there) the panel's button reports that previews are off.
pub(super) fn setup(app: &tauri::App, dirs: &AppDirs) {
    let Some(services) = app.try_state::<Services>() else {
        warn!("no core services; preview generation is off");
        return;
    };
    // The requests spawn a tokio task; run it on Tauri's runtime.
    let runtime = tauri::async_runtime::handle();
    let _entered = runtime.inner().enter();
    let config = PreviewsConfig {
        dir: dirs.data.join(PREVIEWS_DIR),
        answer_timeout: ANSWER_TIMEOUT,
    };
    let requests = PreviewRequests::start(config, &services.bus);
    app.manage(requests);
}

/// Starts the preview requests stream for the calling window.
#[tauri::command]
#[instrument(skip_all)]
pub fn subscribe_previews(
    app: AppHandle,
    services: State<'_, Services>,
    window: WebviewWindow,
    channel: Channel<PreviewsUpdate>,
) -> Result<SubscriptionId, IpcError> {
    let requests = requests_of(&app)?;
    Ok(services
        .streams
        .start(window.label(), stream_requests(requests, channel)))
}

/// Asks Mossy for previews of the asset at `asset_path` and returns the request's id; the
/// stream then follows it.
#[tauri::command]
#[instrument(skip(app, services))]
pub async fn generate_previews(
    app: AppHandle,
    services: State<'_, Services>,
    asset_path: String,
    prompt: String,
) -> Result<PreviewRequestId, IpcError> {
    let prompt = check_prompt(&prompt).map_err(|err| invalid(capitalise(&err.to_string())))?;
    let assets = assets_of(&app)?;
    let page_path = asset_path.clone();
    let real = on_index(&assets, move |index| {
        inside_roots(index, Path::new(&asset_path)).map_err(|refusal| invalid(refusal.sentence()))
    })
    .await?;
    let requests = requests_of(&app)?;

    let request = requests.begin(page_path, prompt);
    let message = ClientMessage::GeneratePreview {
        request_id: request.id.0.clone(),
        asset: real.to_string_lossy().into_owned(),
        prompt: request.prompt.clone(),
    };
    if let Err(err) = services.bridge.send(message) {
        requests.withdraw(&request.id);
        return Err(invalid(not_sent(&err)));
    }
    info!(request_id = request.id.as_str(), asset = %real.display(), "previews requested");
    Ok(request.id)
}

/// What the user reads when `generate_preview` could not be sent.
fn not_sent(err: &SendError) -> String {
    match err {
        SendError::Disabled => {
            "The bridge to Mossy is off in settings; turn it on to generate previews.".into()
        }
        SendError::NotConnected => "Mossy is not connected, so it cannot generate previews. \
                                    Start Mossy, wait for the bridge badge to turn green, then \
                                    try again."
            .into(),
        SendError::QueueFull => {
            "Too many messages are waiting for Mossy; try again in a moment.".into()
        }
        _ => "The bridge to Mossy has stopped; restart Mossy Live.".into(),
    }
}

fn requests_of(app: &AppHandle) -> Result<PreviewRequests, IpcError> {
    app.try_state::<PreviewRequests>()
        .map(|requests| requests.inner().clone())
        .ok_or_else(|| IpcError {
            code: ErrorCode::Internal,
            message: "Preview generation did not start; see the log for why.".into(),
        })
}

/// Sends every request at once, then again after each change, at most once per frame.
async fn stream_requests(requests: PreviewRequests, channel: Channel<PreviewsUpdate>) {
    let mut changes = requests.watch();
    loop {
        changes.borrow_and_update();
        if channel.send(requests.snapshot()).is_err() {
            break;
        }
        tokio::time::sleep(FRAME_INTERVAL).await;
        if changes.changed().await.is_err() {
            break;
        }
    }
}

/// One preview image a URL asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ImageRef {
    request: String,
    file: String,
}

/// The image a `thumb://` URL path asks for, when it is on the previews route:
/// `/previews/<request id>/<file>`, each part percent-encoded.
pub(super) fn image_in_url(url_path: &str) -> Option<ImageRef> {
    let rest = url_path
        .strip_prefix('/')?
        .strip_prefix(PREVIEW_ROUTE)?
        .strip_prefix('/')?;
    let (request, file) = rest.split_once('/')?;
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    Some(ImageRef {
        request: decode(request)?,
        file: decode(file)?,
    })
}

/// Serves a kept preview image, if the request lists it.
pub(super) fn image_response(
    requests: Option<&PreviewRequests>,
    image: &ImageRef,
) -> Response<Vec<u8>> {
    let Some(requests) = requests else {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "preview generation is off");
    };
    let Some(path) = requests.image_path(&image.request, &image.file) else {
        return plain(StatusCode::NOT_FOUND, "no such preview image");
    };
    let content_type = if image.file.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    };
    match std::fs::read(&path) {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            // A request's images never change once kept.
            .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
            .body(bytes)
            .unwrap_or_else(|_| Response::new(Vec::new())),
        Err(err) => {
            warn!(path = %path.display(), error = %err, "kept preview image unreadable");
            plain(StatusCode::NOT_FOUND, "the preview image is gone")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_previews_route_names_an_image() {
        assert_eq!(
            image_in_url("/previews/19a-1/2.png"),
            Some(ImageRef {
                request: "19a-1".into(),
                file: "2.png".into()
            })
        );
        assert_eq!(image_in_url("/%2Ftmp%2Fa.dds"), None);
        assert_eq!(image_in_url("/previews/19a-1"), None);
        assert_eq!(image_in_url("/previewsx/a/b"), None);
    }

    #[tokio::test]
    async fn serves_only_images_a_request_lists() {
        let temp = tempfile::tempdir().expect("temp dir");
        let bus = mossy_core::bus::Bus::new();
        let requests = PreviewRequests::start(
            PreviewsConfig {
                dir: temp.path().join("kept"),
                answer_timeout: ANSWER_TIMEOUT,
            },
            &bus,
        );
        let request = requests.begin("/m/a.dds".into(), "p".into());

        let unknown = ImageRef {
            request: request.id.0.clone(),
            file: "1.png".into(),
        };
        // Known request, but Mossy has not sent the image: nothing to serve.
        assert_eq!(
            image_response(Some(&requests), &unknown).status(),
            StatusCode::NOT_FOUND
        );
        let escape = ImageRef {
            request: "..".into(),
            file: "assets.sqlite3".into(),
        };
        assert_eq!(
            image_response(Some(&requests), &escape).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            image_response(None, &unknown).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
