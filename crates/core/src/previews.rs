//! Preview generation requests: what the app asked Mossy for, and what came back.
//!
//! [`PreviewRequests::begin`] records a request before the app sends `generate_preview`, so
//! an answer that comes back at once is never lost. A task follows the bus:
//! `generation_progress` moves a request's bar, `generation_complete` hands its paths to a
//! blocking copy into `<dir>/<request id>/`. Only what passes the checks is kept: a regular
//! file (no link, no folder), at most [`MAX_PREVIEW_BYTES`], whose bytes are a PNG or JPEG
//! picture of sensible size. The page is served those copies by name through
//! [`PreviewRequests::image_path`] and never the paths Mossy sent, which could point
//! anywhere on the disk.
//!
//! A request that hears nothing from Mossy for [`ANSWER_TIMEOUT`] is marked timed out. The
//! requests live for the app's session, so switching panels does not lose them; the
//! folder is emptied when the app starts, since nothing refers to older copies.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use image::{ImageFormat, ImageReader};
use mossy_protocol::bridge::BridgeMessage;
use mossy_protocol::previews::{
    MAX_PROMPT_CHARS, PreviewImage, PreviewRequest, PreviewRequestId, PreviewStatus, PreviewsUpdate,
};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::bus::{Bus, BusEvent};
use crate::clock;

/// How long a request may go without a word from Mossy before it is marked timed out.
/// Image models take seconds to tens of seconds per picture, and Mossy reports progress
/// in between; a minute of silence means it dropped the request.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// How often requests are checked for the timeout; the message may show this much late.
pub const TIMEOUT_CHECK: Duration = Duration::from_secs(1);

/// Images kept per request. Mossy sends two to four; more would be a runaway sender.
pub const MAX_PREVIEW_IMAGES: usize = 8;

/// Largest image file kept, in bytes. A 2048² PNG preview is a few MB; 32 MB leaves room
/// for a 4K picture and keeps a mistaken path (a video, a disk image) from being copied.
pub const MAX_PREVIEW_BYTES: u64 = 32 * 1024 * 1024;

/// Largest side of an image kept, in pixels; the gallery shows them a few hundred wide.
pub const MAX_PREVIEW_SIDE: u32 = 8192;

/// Requests kept; the oldest finished ones are forgotten beyond this.
pub const MAX_KEPT_REQUESTS: usize = 50;

/// Where and how requests are kept.
#[derive(Debug, Clone)]
pub struct PreviewsConfig {
    /// Folder the images are copied into, one subfolder per request.
    pub dir: PathBuf,
    /// Silence after which a request is marked timed out; [`ANSWER_TIMEOUT`] in the app.
    pub answer_timeout: Duration,
}

/// Why a prompt was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    /// Nothing but spaces.
    #[error("type what the previews should show first")]
    Empty,
    /// Longer than [`MAX_PROMPT_CHARS`].
    #[error("the prompt is {chars} characters long; keep it under {MAX_PROMPT_CHARS}")]
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
}

/// Trims a prompt and checks it is not empty and not too long.
pub fn check_prompt(prompt: &str) -> Result<String, PromptError> {
    let prompt = prompt.trim();
    let chars = prompt.chars().count();
    if chars == 0 {
        return Err(PromptError::Empty);
    }
    if chars > MAX_PROMPT_CHARS {
        return Err(PromptError::TooLong { chars });
    }
    Ok(prompt.to_owned())
}

/// The app's preview requests; clone it freely.
#[derive(Debug, Clone)]
pub struct PreviewRequests {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    timeout: Duration,
    requests: Mutex<Vec<Tracked>>,
    next: AtomicU64,
    changed: watch::Sender<u64>,
}

#[derive(Debug)]
struct Tracked {
    request: PreviewRequest,
    last_heard: Instant,
    /// The images are being copied; later messages about it are ignored.
    collecting: bool,
}

impl PreviewRequests {
    /// Empties the image folder and starts following `bus`.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime, as it spawns a task.
    pub fn start(config: PreviewsConfig, bus: &Bus) -> Self {
        match std::fs::remove_dir_all(&config.dir) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                warn!(dir = %config.dir.display(), error = %err, "old previews not removed")
            }
        }
        let inner = Arc::new(Inner {
            dir: config.dir,
            timeout: config.answer_timeout,
            requests: Mutex::new(Vec::new()),
            next: AtomicU64::new(1),
            changed: watch::channel(0).0,
        });
        tokio::spawn(follow(Arc::downgrade(&inner), bus.subscribe()));
        Self { inner }
    }

    /// Records a new request for `asset` and returns it; the caller sends it to Mossy.
    pub fn begin(&self, asset: String, prompt: String) -> PreviewRequest {
        let now = clock::now_ms();
        let number = self.inner.next.fetch_add(1, Ordering::Relaxed);
        let request = PreviewRequest {
            id: PreviewRequestId(format!("{now:x}-{number}")),
            asset,
            prompt,
            sent_at_ms: now,
            status: PreviewStatus::Sent,
            percent: None,
            images: Vec::new(),
            message: None,
        };
        let mut requests = self.inner.lock();
        requests.insert(
            0,
            Tracked {
                request: request.clone(),
                last_heard: Instant::now(),
                collecting: false,
            },
        );
        forget_old(&mut requests);
        drop(requests);
        self.inner.bump();
        request
    }

    /// Forgets a request that could not be sent.
    pub fn withdraw(&self, id: &PreviewRequestId) {
        self.inner
            .lock()
            .retain(|tracked| tracked.request.id != *id);
        self.inner.bump();
    }

    /// Every request, newest first.
    pub fn snapshot(&self) -> PreviewsUpdate {
        PreviewsUpdate {
            requests: self
                .inner
                .lock()
                .iter()
                .map(|tracked| tracked.request.clone())
                .collect(),
        }
    }

    /// A receiver that changes whenever any request does.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// The kept copy of image `file` of request `id`, when both are known; anything else,
    /// a made-up name or a `..` included, is `None`.
    pub fn image_path(&self, id: &str, file: &str) -> Option<PathBuf> {
        let requests = self.inner.lock();
        let tracked = requests
            .iter()
            .find(|tracked| tracked.request.id.as_str() == id)?;
        tracked
            .request
            .images
            .iter()
            .any(|image| image.file == file)
            .then(|| self.inner.dir.join(id).join(file))
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<Tracked>> {
        // Every change under this lock is a single assignment; a panic leaves it whole.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|number| *number += 1);
    }

    /// Applies `change` to request `id` when it is known; true when it was.
    fn update(&self, id: &str, change: impl FnOnce(&mut Tracked)) -> bool {
        let mut requests = self.lock();
        let Some(tracked) = requests
            .iter_mut()
            .find(|tracked| tracked.request.id.as_str() == id)
        else {
            return false;
        };
        change(tracked);
        drop(requests);
        self.bump();
        true
    }
}

/// Keeps at most [`MAX_KEPT_REQUESTS`], dropping the oldest finished ones first.
fn forget_old(requests: &mut Vec<Tracked>) {
    while requests.len() > MAX_KEPT_REQUESTS {
        let oldest_final = requests
            .iter()
            .rposition(|tracked| tracked.request.status.is_final());
        match oldest_final {
            Some(position) => requests.remove(position),
            None => break,
        };
    }
}

/// Follows the bus and the clock until the requests are dropped or the bus closes.
async fn follow(inner: Weak<Inner>, mut events: broadcast::Receiver<BusEvent>) {
    let mut ticker = tokio::time::interval(TIMEOUT_CHECK);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(BusEvent::BridgeMessageReceived { message, .. }) => {
                    let Some(inner) = inner.upgrade() else { return };
                    on_message(&inner, message);
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    warn!(missed, "preview requests missed bus events");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ticker.tick() => {
                let Some(inner) = inner.upgrade() else { return };
                expire(&inner);
            }
        }
    }
}

fn on_message(inner: &Arc<Inner>, message: BridgeMessage) {
    match message {
        BridgeMessage::GenerationProgress {
            request_id,
            percent,
        } => {
            let known = inner.update(&request_id, |tracked| {
                if tracked.collecting || tracked.request.status.is_final() {
                    return;
                }
                tracked.last_heard = Instant::now();
                tracked.request.status = PreviewStatus::Running;
                if let Some(percent) = percent {
                    tracked.request.percent = Some(percent.get());
                }
            });
            if !known {
                debug!(request_id, "progress for a request this app did not send");
            }
        }
        BridgeMessage::GenerationComplete { request_id, paths } => {
            let mut accepted = false;
            let known = inner.update(&request_id, |tracked| {
                // A late answer after a timeout is still welcome; a second one is not.
                if tracked.collecting || tracked.request.status == PreviewStatus::Complete {
                    return;
                }
                tracked.collecting = true;
                tracked.last_heard = Instant::now();
                tracked.request.status = PreviewStatus::Running;
                tracked.request.percent = Some(100.0);
                tracked.request.message = None;
                accepted = true;
            });
            if !known {
                debug!(request_id, "completion for a request this app did not send");
            }
            if accepted {
                tokio::spawn(collect(Arc::clone(inner), request_id, paths));
            }
        }
        _ => {}
    }
}

/// Copies the images of a finished request and records the outcome.
async fn collect(inner: Arc<Inner>, request_id: String, paths: Vec<String>) {
    let folder = inner.dir.join(&request_id);
    let offered = paths.len();
    let copied = tokio::task::spawn_blocking(move || keep_images(&folder, &paths)).await;
    let (images, refusals) = match copied {
        Ok(result) => result,
        Err(err) => (Vec::new(), vec![format!("the copy stopped: {err}")]),
    };
    info!(
        request_id,
        offered,
        kept = images.len(),
        "preview images received"
    );
    for refusal in &refusals {
        warn!(request_id, refusal, "preview image left out");
    }
    inner.update(&request_id, |tracked| {
        tracked.collecting = false;
        let request = &mut tracked.request;
        if images.is_empty() {
            request.status = PreviewStatus::Failed;
            request.message = Some(match refusals.first() {
                Some(why) => format!("Mossy finished, but no image could be used: {why}."),
                None => "Mossy finished without sending any image. Try another prompt.".into(),
            });
        } else {
            request.status = PreviewStatus::Complete;
            request.message = refusals.first().map(|why| {
                format!(
                    "{} of {offered} images were left out: {why}.",
                    offered - images.len()
                )
            });
        }
        request.images = images;
    });
}

/// Marks requests that heard nothing for too long.
fn expire(inner: &Inner) {
    let mut requests = inner.lock();
    let mut changed = false;
    for tracked in requests.iter_mut() {
        let waiting = !tracked.collecting && !tracked.request.status.is_final();
        if waiting && tracked.last_heard.elapsed() >= inner.timeout {
            tracked.request.status = PreviewStatus::TimedOut;
            tracked.request.message = Some(format!(
                "Mossy did not answer within {} s. Check that Mossy is running, then try again.",
                inner.timeout.as_secs()
            ));
            changed = true;
        }
    }
    drop(requests);
    if changed {
        inner.bump();
    }
}

/// Copies what passes the checks into `folder` as `1.png`, `2.jpg`, ...; returns the
/// images kept and, for each path left out, why.
fn keep_images(folder: &Path, paths: &[String]) -> (Vec<PreviewImage>, Vec<String>) {
    let mut images = Vec::new();
    let mut refusals = Vec::new();
    if paths.len() > MAX_PREVIEW_IMAGES {
        refusals.push(format!("only the first {MAX_PREVIEW_IMAGES} are kept"));
    }
    if let Err(err) = std::fs::create_dir_all(folder) {
        refusals.insert(
            0,
            format!("the app's preview folder cannot be written ({err})"),
        );
        return (images, refusals);
    }
    for path in paths.iter().take(MAX_PREVIEW_IMAGES) {
        let number = images.len() + 1;
        match read_image(Path::new(path)) {
            Ok((bytes, extension, width, height)) => {
                let file = format!("{number}.{extension}");
                match std::fs::write(folder.join(&file), bytes) {
                    Ok(()) => images.push(PreviewImage {
                        file,
                        width,
                        height,
                    }),
                    Err(err) => refusals.push(format!("{file} could not be written ({err})")),
                }
            }
            Err(why) => refusals.push(format!("{path} {why}")),
        }
    }
    (images, refusals)
}

/// Reads an image Mossy wrote: its bytes, extension and size, or why it is refused.
fn read_image(path: &Path) -> Result<(Vec<u8>, &'static str, u32, u32), String> {
    if !path.is_absolute() {
        return Err("is not a full path".into());
    }
    let meta = std::fs::symlink_metadata(path).map_err(|err| format!("cannot be read ({err})"))?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    if meta.len() > MAX_PREVIEW_BYTES {
        return Err(format!("is larger than {} MB", MAX_PREVIEW_BYTES >> 20));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_PREVIEW_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|err| format!("cannot be read ({err})"))?;
    if bytes.len() as u64 > MAX_PREVIEW_BYTES {
        return Err(format!("is larger than {} MB", MAX_PREVIEW_BYTES >> 20));
    }
    let (format, extension) = match image::guess_format(&bytes) {
        Ok(ImageFormat::Png) => (ImageFormat::Png, "png"),
        Ok(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "jpg"),
        _ => return Err("is not a PNG or JPEG picture".into()),
    };
    let (width, height) = ImageReader::with_format(Cursor::new(&bytes), format)
        .into_dimensions()
        .map_err(|err| format!("is a damaged picture ({err})"))?;
    if width == 0 || height == 0 || width > MAX_PREVIEW_SIDE || height > MAX_PREVIEW_SIDE {
        return Err(format!("is {width}×{height} pixels, not a preview size"));
    }
    Ok((bytes, extension, width, height))
}

#[cfg(test)]
mod tests;
