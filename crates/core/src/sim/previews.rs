//! The simulator's answer to `generate_preview`: a few progress messages, then real PNG
//! files and `generation_complete` with their paths.
//!
//! The pictures are variations of the asset when it decodes (recoloured, flipped,
//! inverted), or of a pattern drawn from the prompt when it does not, so every request
//! yields images that differ from one another and can be told apart in a screenshot. The
//! decoder is a plain function the caller passes ([`PreviewConfig::decode`]): the core does
//! not read DDS itself, and the `mossy-bridge-sim` binary hands in the asset crate's.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use image::imageops::{self, FilterType};
use image::{ImageReader, Limits, Rgba};
use mossy_protocol::bridge::{BridgeMessage, Percent};

/// The picture type a [`SourceDecoder`] returns.
pub use image::RgbaImage;

/// Progress reported before the images are written, in percent.
pub const GENERATION_STEPS: [f32; 5] = [0.0, 25.0, 50.0, 75.0, 100.0];

/// Wait before each progress message. Long enough that a person (and a WebDriver test
/// polling every 50 ms) sees the bar move, short enough that a demo is not tedious.
pub const GENERATION_STEP_DELAY: Duration = Duration::from_millis(250);

/// Images written per request: the protocol promises "a few"; three fill one row of the
/// details pane's gallery.
pub const PREVIEW_COUNT: usize = 3;

/// Long side of the images written, in pixels.
pub const PREVIEW_SIDE: u32 = 256;

/// Longest request id the simulator accepts; it becomes a folder name.
pub const MAX_REQUEST_ID_CHARS: usize = 64;

/// Most bytes a source picture may allocate while decoding with the default decoder.
const MAX_SOURCE_ALLOC: u64 = 256 * 1024 * 1024;

/// Name of the folder under the OS temp folder used when no `--previews-dir` is given.
const DEFAULT_DIR_NAME: &str = "mossy-bridge-sim-previews";

/// Decodes an asset into a picture, or `None` when it cannot.
pub type SourceDecoder = fn(&Path) -> Option<RgbaImage>;

/// Where and how the simulator writes preview images.
#[derive(Debug, Clone)]
pub struct PreviewConfig {
    /// Folder the images go in, one subfolder per request.
    pub dir: PathBuf,
    /// Turns the asset into a picture to vary; [`decode_picture`] reads PNG only.
    pub decode: SourceDecoder,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        Self {
            dir: std::env::temp_dir().join(DEFAULT_DIR_NAME),
            decode: decode_picture,
        }
    }
}

/// Reads a PNG under a memory limit; anything else is `None`.
pub fn decode_picture(path: &Path) -> Option<RgbaImage> {
    let mut reader = ImageReader::open(path).ok()?.with_guessed_format().ok()?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_SOURCE_ALLOC);
    reader.limits(limits);
    reader.decode().ok().map(|picture| picture.to_rgba8())
}

/// Why a request was not answered with images.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreviewError {
    /// The request id would not make a safe folder name.
    #[error("request id {0:?} is not 1 to 64 letters, digits, '-' or '_'")]
    BadRequestId(String),
    /// Writing an image failed.
    #[error("could not write {path}: {reason}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// True when `id` is safe to use as a folder name.
pub fn valid_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_CHARS
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
}

/// The progress messages of one request, in order.
pub fn progress_messages(request_id: &str) -> Vec<BridgeMessage> {
    GENERATION_STEPS
        .iter()
        .map(|&step| BridgeMessage::GenerationProgress {
            request_id: request_id.to_owned(),
            percent: Percent::new(step),
        })
        .collect()
}

/// Writes [`PREVIEW_COUNT`] PNG variations for a request and returns their paths.
pub fn write_previews(
    config: &PreviewConfig,
    request_id: &str,
    asset: &Path,
    prompt: &str,
) -> Result<Vec<PathBuf>, PreviewError> {
    if !valid_request_id(request_id) {
        return Err(PreviewError::BadRequestId(request_id.to_owned()));
    }
    let base = (config.decode)(asset)
        .filter(|picture| picture.width() > 0 && picture.height() > 0)
        .map_or_else(|| pattern(prompt), fit);
    let folder = config.dir.join(request_id);
    std::fs::create_dir_all(&folder).map_err(|err| PreviewError::Write {
        path: folder.clone(),
        reason: err.to_string(),
    })?;

    (0..PREVIEW_COUNT)
        .map(|variant| {
            let path = folder.join(format!("preview-{}.png", variant + 1));
            vary(&base, variant)
                .save(&path)
                .map_err(|err| PreviewError::Write {
                    path: path.clone(),
                    reason: err.to_string(),
                })?;
            Ok(path)
        })
        .collect()
}

/// Shrinks a picture so its long side is at most [`PREVIEW_SIDE`].
fn fit(picture: RgbaImage) -> RgbaImage {
    let long = picture.width().max(picture.height());
    if long <= PREVIEW_SIDE {
        return picture;
    }
    let scale = f64::from(PREVIEW_SIDE) / f64::from(long);
    let side = |length: u32| ((f64::from(length) * scale).round() as u32).max(1);
    imageops::resize(
        &picture,
        side(picture.width()),
        side(picture.height()),
        FilterType::Triangle,
    )
}

/// A picture drawn from the prompt: diagonal bands in two colours picked by its hash.
fn pattern(prompt: &str) -> RgbaImage {
    let mut hasher = DefaultHasher::new();
    prompt.hash(&mut hasher);
    let [r, g, b, stripe, ..] = hasher.finish().to_le_bytes();
    let width = 8 + u32::from(stripe % 24);
    RgbaImage::from_fn(PREVIEW_SIDE, PREVIEW_SIDE, |x, y| {
        if ((x + y) / width) % 2 == 0 {
            Rgba([r, g, b, 255])
        } else {
            Rgba([255 - r, 255 - g, 255 - b, 255])
        }
    })
}

/// The `variant`-th variation of `base`; each one differs from the others.
fn vary(base: &RgbaImage, variant: usize) -> RgbaImage {
    match variant % 4 {
        // Channels rotated: red becomes green, green blue, blue red.
        0 => RgbaImage::from_fn(base.width(), base.height(), |x, y| {
            let Rgba([r, g, b, a]) = *base.get_pixel(x, y);
            Rgba([b, r, g, a.max(1)])
        }),
        // Mirrored left to right and warmed up.
        1 => {
            let mut flipped = imageops::flip_horizontal(base);
            for Rgba([r, _, b, a]) in flipped.pixels_mut() {
                *r = r.saturating_add(60);
                *b = b.saturating_sub(40);
                *a = (*a).max(1);
            }
            flipped
        }
        // Upside down, colours inverted.
        2 => {
            let mut flipped = imageops::flip_vertical(base);
            for Rgba([r, g, b, a]) in flipped.pixels_mut() {
                *r = 255 - *r;
                *g = 255 - *g;
                *b = 255 - *b;
                *a = (*a).max(1);
            }
            flipped
        }
        // Grey, then tinted green as an old photograph in a Vault-Tec manual.
        _ => RgbaImage::from_fn(base.width(), base.height(), |x, y| {
            let Rgba([r, g, b, a]) = *base.get_pixel(x, y);
            let grey = ((u16::from(r) + u16::from(g) + u16::from(b)) / 3) as u8;
            Rgba([grey / 2, grey, grey / 3, a.max(1)])
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_nothing(_: &Path) -> Option<RgbaImage> {
        None
    }

    #[test]
    fn writes_distinct_pngs_from_the_asset_when_it_decodes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("source a#ü.png");
        let gradient = RgbaImage::from_fn(600, 300, |x, y| {
            Rgba([(x % 256) as u8, (y % 256) as u8, 40, 255])
        });
        gradient.save(&source).expect("source written");
        let config = PreviewConfig {
            dir: dir.path().join("out"),
            decode: decode_picture,
        };

        let paths = write_previews(&config, "r-1", &source, "rusty").expect("written");

        assert_eq!(paths.len(), PREVIEW_COUNT);
        let pictures: Vec<RgbaImage> = paths
            .iter()
            .map(|path| image::open(path).expect("a real image").to_rgba8())
            .collect();
        for picture in &pictures {
            assert_eq!(picture.dimensions(), (256, 128), "fitted, aspect kept");
        }
        for (i, a) in pictures.iter().enumerate() {
            for b in &pictures[i + 1..] {
                assert_ne!(a, b, "every variation differs");
            }
        }
    }

    #[test]
    fn draws_a_pattern_when_the_asset_does_not_decode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = PreviewConfig {
            dir: dir.path().to_owned(),
            decode: decode_nothing,
        };

        let paths =
            write_previews(&config, "r2", Path::new("/nowhere.dds"), "chrome").expect("written");

        assert_eq!(paths.len(), PREVIEW_COUNT);
        let first = image::open(&paths[0]).expect("a real image");
        assert_eq!(
            (first.width(), first.height()),
            (PREVIEW_SIDE, PREVIEW_SIDE)
        );
    }

    #[test]
    fn refuses_request_ids_that_are_not_plain_folder_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = PreviewConfig {
            dir: dir.path().to_owned(),
            decode: decode_nothing,
        };
        for id in ["", "../x", "a/b", "a b", &"x".repeat(65)] {
            let refused = write_previews(&config, id, Path::new("/a.png"), "p");
            assert!(
                matches!(refused, Err(PreviewError::BadRequestId(_))),
                "{id:?}"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn progress_runs_from_zero_to_one_hundred() {
        let percents: Vec<f32> = progress_messages("r")
            .into_iter()
            .filter_map(|message| match message {
                BridgeMessage::GenerationProgress { percent, .. } => percent.map(Percent::get),
                _ => None,
            })
            .collect();
        assert_eq!(percents, GENERATION_STEPS);
    }
}
