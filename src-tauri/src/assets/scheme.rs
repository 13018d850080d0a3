//! The `thumb://` scheme: thumbnails of files inside the chosen folders, made on a small
//! pool of threads, and the images of preview requests from the app's own copies.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use mossy_assets::index::AssetIndex;
use mossy_assets::read_error::ReadError;
use mossy_assets::thumb_cache::ThumbCache;
use mossy_assets::thumbnail::ThumbError;
use mossy_core::previews::PreviewRequests;
use mossy_protocol::assets::THUMB_SIZE_LARGE;
use tauri::http::{Request, Response, StatusCode, header};
use tauri::{AppHandle, Manager, UriSchemeResponder};
use tokio::sync::watch;
use tracing::{debug, error, warn};

use super::{Assets, bump, details, previews};

/// Why a path from the page is not served or opened.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not inside any chosen folder once links and `..` are resolved (or not absolute).
    Outside,
    /// The file does not exist.
    Missing,
    /// The file or the index could not be read.
    Unreadable(String),
}

impl Refusal {
    pub(super) fn sentence(&self) -> String {
        match self {
            Self::Outside => "Only files inside the chosen folders are opened from here.".into(),
            Self::Missing => "That file is no longer on disk.".into(),
            Self::Unreadable(why) => format!("That file cannot be read: {why}"),
        }
    }
}

/// The real path of `path` when it lies inside one of the index's folders.
pub(super) fn inside_roots(index: &AssetIndex, path: &Path) -> Result<PathBuf, Refusal> {
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
pub(super) fn queue_thumbnail(
    app: &AppHandle,
    request: &Request<Vec<u8>>,
    reply: UriSchemeResponder,
    pool: &ThumbPool,
) {
    if let Some(image) = previews::image_in_url(request.uri().path()) {
        let requests = app
            .try_state::<PreviewRequests>()
            .map(|r| r.inner().clone());
        // The user asked for these images a moment ago: they go before any thumbnail.
        pool.push(Job::urgent(move || {
            reply.respond(previews::image_response(requests.as_ref(), &image));
        }));
        return;
    }
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
    let version = Arc::clone(&assets.version);
    let key = path.clone();
    pool.push(Job::for_file(key, move || {
        reply.respond(thumbnail_response(&index, &cache, &version, &path));
    }));
}

/// Makes (or reuses) the thumbnail and wraps it in an HTTP response. Why one could not be
/// made is also stored with the file's row, and the panels told, so its card and details
/// say it: the page cannot read an image's error body.
fn thumbnail_response(
    index: &AssetIndex,
    cache: &ThumbCache,
    version: &watch::Sender<u64>,
    path: &Path,
) -> Response<Vec<u8>> {
    let real = match inside_roots(index, path) {
        Ok(real) => real,
        Err(Refusal::Outside) => {
            warn!(path = %path.display(), "thumbnail refused: outside the chosen folders");
            return plain(StatusCode::FORBIDDEN, "outside the chosen folders");
        }
        Err(Refusal::Missing) => return plain(StatusCode::NOT_FOUND, "no such file"),
        Err(Refusal::Unreadable(why)) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &why),
    };
    // What the file was when read, so a reason stored for it cannot outlive a newer copy.
    let read = std::fs::metadata(&real).ok();
    // Why the file's content gives no picture is kept with its row (under the path the
    // index knows it by, which `real` may not be: a linked folder, `\\?\` on Windows);
    // trouble that is not the file's (the cache's disk, permissions) only answers this
    // request.
    let keep = |why: &str| {
        if let Some(read) = &read
            && details::store_picture_error(index, path, read, why)
        {
            bump(version);
        }
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
            let why = err.to_string();
            if about_the_content(&err) {
                keep(&why);
            }
            return plain(StatusCode::UNPROCESSABLE_ENTITY, &why);
        }
        Err(_) => {
            let why = "the thumbnailer failed on this file";
            error!(path = %real.display(), "{why}");
            keep(why);
            return plain(StatusCode::INTERNAL_SERVER_ERROR, why);
        }
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
            warn!(path = %real.display(), error = %why, "thumbnail cache unreadable");
            plain(StatusCode::INTERNAL_SERVER_ERROR, &why)
        }
    }
}

/// Whether a thumbnail error is about what the file holds (and so worth keeping with it
/// until it changes), not about reading it or the cache.
fn about_the_content(err: &ThumbError) -> bool {
    match err {
        ThumbError::Read(read) => !matches!(read, ReadError::Io(_)),
        ThumbError::UnsupportedFormat(_)
        | ThumbError::VolumeTexture
        | ThumbError::TooLargeToDecode { .. }
        | ThumbError::Decode(_)
        | ThumbError::Picture(_) => true,
        // The cache's disk, a bad size, a kind without pictures, and whatever comes later.
        _ => false,
    }
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(text.as_bytes().to_vec())
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

/// One piece of work for the pool: a thumbnail of a file, or something more urgent.
pub(super) struct Job {
    /// The file the thumbnail is of; `None` for work that goes first.
    file: Option<PathBuf>,
    work: Box<dyn FnOnce() + Send>,
}

impl Job {
    fn for_file(file: PathBuf, work: impl FnOnce() + Send + 'static) -> Self {
        Self {
            file: Some(file),
            work: Box::new(work),
        }
    }

    fn urgent(work: impl FnOnce() + Send + 'static) -> Self {
        Self {
            file: None,
            work: Box::new(work),
        }
    }
}

/// Waiting jobs and the page's view, which orders them.
#[derive(Default)]
struct Queue {
    /// In arrival order.
    jobs: Vec<Job>,
    /// Files the page shows or is about to, nearest the middle of its view first, by rank.
    focus: HashMap<PathBuf, usize>,
}

impl Queue {
    /// The job to run next: urgent work, then the file nearest the view, then, for files
    /// the page no longer shows, the newest request first (the page asked for it last, so
    /// it is most likely near where the user is going).
    fn pop(&mut self) -> Option<Job> {
        let rank = |job: &Job| match &job.file {
            None => Some(0),
            Some(file) => self.focus.get(file).map(|rank| rank + 1),
        };
        let chosen = self
            .jobs
            .iter()
            .enumerate()
            .filter_map(|(at, job)| rank(job).map(|rank| (rank, at)))
            .min_by_key(|(rank, at)| (*rank, std::cmp::Reverse(*at)))
            .map(|(_, at)| at)
            .or_else(|| self.jobs.len().checked_sub(1))?;
        Some(self.jobs.remove(chosen))
    }
}

/// A fixed set of threads making thumbnails, nearest the page's view first (see
/// [`ThumbPool::focus`]). Requests for rows scrolled far away are still made, last: they are
/// cached for when the user scrolls back.
pub(crate) struct ThumbPool {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// Threads that started; when none could, jobs run on the caller's thread.
    running: AtomicUsize,
}

impl ThumbPool {
    pub(super) fn start(workers: usize) -> Arc<Self> {
        let pool = Arc::new(Self {
            queue: Mutex::new(Queue::default()),
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

    /// Tells the pool which files the page shows, nearest the middle of its view first.
    pub(crate) fn focus(&self, files: Vec<PathBuf>) {
        self.lock().focus = files
            .into_iter()
            .enumerate()
            .map(|(rank, file)| (file, rank))
            .collect();
    }

    fn push(&self, job: Job) {
        if self.running.load(Ordering::Relaxed) == 0 {
            (job.work)();
            return;
        }
        self.lock().jobs.push(job);
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
            (job.work)();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::tests::gallery;

    #[test]
    fn the_queue_runs_urgent_work_then_the_view_nearest_first_then_the_newest() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let job = |name: &'static str| {
            let order = Arc::clone(&order);
            let work = move || order.lock().expect("order").push(name);
            if name == "urgent" {
                Job::urgent(work)
            } else {
                Job::for_file(PathBuf::from(format!("/m/{name}.dds")), work)
            }
        };
        let mut queue = Queue::default();
        for name in ["old", "far", "edge", "urgent", "middle", "newest"] {
            queue.jobs.push(job(name));
        }
        queue.focus = [("/m/middle.dds", 0), ("/m/edge.dds", 1)]
            .into_iter()
            .map(|(file, rank)| (PathBuf::from(file), rank))
            .collect();
        while let Some(next) = queue.pop() {
            (next.work)();
        }
        assert_eq!(
            *order.lock().expect("order"),
            ["urgent", "middle", "edge", "newest", "far", "old"]
        );
    }

    #[test]
    fn url_paths_decode_awkward_names() {
        assert_eq!(
            path_from_url("/%2Ftmp%2Fa%20%231%2050%25%2F%C3%BC.dds"),
            Some(PathBuf::from("/tmp/a #1 50%/ü.dds"))
        );
        assert_eq!(path_from_url("/"), None);
        assert_eq!(path_from_url("/%FF"), None);
    }

    #[test]
    fn thumbnails_are_served_only_inside_the_chosen_folders() {
        let (outer, root, index) = gallery();
        let cache = ThumbCache::new(outer.path().join("thumbs"));
        let version = watch::channel(0).0;
        let thumbnail_response = |index: &AssetIndex, cache: &ThumbCache, path: &Path| {
            thumbnail_response(index, cache, &version, path)
        };

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
    fn why_a_picture_failed_is_kept_with_the_file_and_the_panels_told() {
        let (outer, root, index) = gallery();
        let cache = ThumbCache::new(outer.path().join("thumbs"));
        let version = watch::channel(0).0;
        // A real texture cut in half: its header reads, its pixels are not all there.
        let whole = std::fs::read(root.join("a 50%.dds")).expect("texture");
        let cut = root.join("cut #2 ü.dds");
        std::fs::write(&cut, &whole[..whole.len() / 2]).expect("write");
        index.rescan(&root).expect("scan");

        let refused = thumbnail_response(&index, &cache, &version, &cut);
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(*version.borrow(), 1, "the panels are told once");
        let item = details::to_item(index.get(&cut).expect("get").expect("row"));
        let error = item.error.expect("the reason is stored");
        assert!(error.starts_with("no preview: "), "{error}");
        assert!(
            item.details.is_some(),
            "what the header says is still there: {:?}",
            item.details
        );

        // Asked again (the card and the larger preview both ask): nothing new to tell.
        thumbnail_response(&index, &cache, &version, &cut);
        assert_eq!(*version.borrow(), 1);
    }
}
