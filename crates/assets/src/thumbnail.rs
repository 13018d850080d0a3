//! Thumbnails of textures (DDS) and pictures (PNG, JPEG, TGA) as small RGBA8 images.
//!
//! DDS: the header is parsed first, then the smallest mip whose long side still reaches the
//! requested size is chosen, and only that mip's bytes are read from the file (a seek and one
//! read), decoded with `image_dds`, and shrunk with a triangle filter. A 256 px thumbnail of a
//! 4096² texture therefore decodes its 256² mip, never the 64 MB (decoded) base level. BC5 normal
//! maps get their blue channel rebuilt so they look like the familiar lilac normal map. Cube
//! maps are shown as the usual 4×3 horizontal cross of all six faces:
//!
//! ```text
//!       +Y
//!   -X  +Z  +X  -Z
//!       -Y
//! ```
//!
//! with the empty cells transparent. A legacy cube map that stores fewer than six faces shows
//! its first face alone, and a texture array shows its first layer.
//!
//! Pictures are decoded by `image` under size limits. Everything returns an error value on bad
//! input; nothing here panics.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use image::imageops::{self, FilterType};
use image::{ImageReader, Limits, RgbaImage};
use image_dds::{ImageFormat, Surface};

use crate::dds::{DdsLayout, parse_dds};
use crate::kind::AssetKind;
use crate::read_error::{MAX_DIMENSION, ReadError};

/// Most pixels decoded for one thumbnail (all cube faces together). A texture without mips
/// bigger than this is refused rather than decoded: 8192² RGBA8 is already 256 MB. The stored
/// bytes of one mip are held to the same 256 MB (it matters for 64- and 128-bit float formats).
pub const MAX_DECODE_PIXELS: u64 = 8192 * 8192;

/// Most bytes the picture decoders may allocate; the same 256 MB budget as DDS.
const MAX_PICTURE_ALLOC: u64 = MAX_DECODE_PIXELS * 4;

/// A small picture of a texture or image, ready to show or to encode.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    /// The picture, no larger than the requested size on either side, aspect kept.
    pub image: RgbaImage,
    /// The texture is a BC5 normal map and blue was rebuilt from red and green.
    pub normal_map: bool,
    /// The texture is a cube map shown as a 4×3 cross (see the module doc).
    pub cubemap: bool,
    /// Which mip was decoded (0 for pictures).
    pub source_mip: u32,
    /// Width of the decoded mip (of one face for a cube map).
    pub source_width: u32,
    /// Height of the decoded mip (of one face for a cube map).
    pub source_height: u32,
}

/// Why a thumbnail could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ThumbError {
    /// The header could not be read, or the file could not be read at all.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// This kind of file has no picture to show.
    #[error("{0:?} files have no thumbnail")]
    NoThumbnail(AssetKind),
    /// The texture format is real but not one we can decode.
    #[error("cannot preview {0} textures yet")]
    UnsupportedFormat(String),
    /// 3D (volume) textures are not previewed.
    #[error("cannot preview 3D (volume) textures")]
    VolumeTexture,
    /// The mip to decode is too big for the memory budget.
    #[error("texture is too large to preview without smaller mips ({width}x{height})")]
    TooLargeToDecode {
        /// Width of the smallest usable mip.
        width: u32,
        /// Height of the smallest usable mip.
        height: u32,
    },
    /// The compressed texture data could not be decoded.
    #[error("texture data could not be decoded: {0}")]
    Decode(String),
    /// A PNG, JPEG or TGA picture could not be decoded.
    #[error("picture could not be decoded: {0}")]
    Picture(#[from] image::ImageError),
    /// The requested size is 0 or above the dimension limit.
    #[error("thumbnail size must be 1 to {max} pixels, not {0}", max = MAX_DIMENSION)]
    BadSize(u32),
    /// Writing to the thumbnail cache failed.
    #[error("could not write the thumbnail cache at {path}: {source}")]
    Cache {
        /// The file or folder being written.
        path: std::path::PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
}

impl From<std::io::Error> for ThumbError {
    fn from(err: std::io::Error) -> Self {
        ThumbError::Read(ReadError::Io(err))
    }
}

/// Makes a thumbnail of the texture or picture at `path`, no larger than `max_side`.
///
/// The kind comes from the extension (see [`AssetKind::from_path`]).
pub fn thumbnail(path: &Path, max_side: u32) -> Result<Thumbnail, ThumbError> {
    let kind = AssetKind::from_path(path);
    if !kind.has_thumbnail() {
        return Err(ThumbError::NoThumbnail(kind));
    }
    let file = BufReader::new(File::open(path)?);
    thumbnail_from_reader(file, kind, max_side)
}

/// Makes a thumbnail from a file already in memory; `kind` says how to read it.
pub fn thumbnail_bytes(
    bytes: &[u8],
    kind: AssetKind,
    max_side: u32,
) -> Result<Thumbnail, ThumbError> {
    thumbnail_from_reader(Cursor::new(bytes), kind, max_side)
}

/// Makes a thumbnail from any seekable reader; only the needed parts are read.
pub fn thumbnail_from_reader<R: BufRead + Seek>(
    reader: R,
    kind: AssetKind,
    max_side: u32,
) -> Result<Thumbnail, ThumbError> {
    if max_side == 0 || max_side > MAX_DIMENSION {
        return Err(ThumbError::BadSize(max_side));
    }
    match kind {
        AssetKind::Texture => dds_thumbnail(reader, max_side),
        AssetKind::Image => picture_thumbnail(reader, max_side),
        other => Err(ThumbError::NoThumbnail(other)),
    }
}

fn dds_thumbnail<R: Read + Seek>(mut reader: R, max_side: u32) -> Result<Thumbnail, ThumbError> {
    let layout = parse_dds(&mut reader)?;
    let Some(format) = layout.image_format else {
        return Err(ThumbError::UnsupportedFormat(layout.header.format.clone()));
    };
    if layout.depth > 1 {
        return Err(ThumbError::VolumeTexture);
    }

    let cross = layout.header.cubemap && layout.header.layers >= 6;
    let mip = choose_mip(&layout, max_side, cross);
    let (width, height) = layout.mip_size(mip);
    let faces = if cross { 6 } else { 1 };
    if u64::from(width) * u64::from(height) * faces > MAX_DECODE_PIXELS {
        return Err(ThumbError::TooLargeToDecode { width, height });
    }

    let file_len = reader.seek(SeekFrom::End(0))?;
    let normal_map = matches!(format, ImageFormat::BC5RgUnorm | ImageFormat::BC5RgSnorm);
    let mut decoded = Vec::new();
    for layer in 0..faces as u32 {
        let mut face = decode_mip(&mut reader, &layout, format, layer, mip, file_len)?;
        if normal_map {
            rebuild_normal_blue(&mut face);
        }
        decoded.push(face);
    }
    let full = if cross {
        cube_cross(&decoded, width, height)
    } else {
        decoded.swap_remove(0)
    };

    Ok(Thumbnail {
        image: shrink(full, max_side),
        normal_map,
        cubemap: layout.header.cubemap,
        source_mip: mip,
        source_width: width,
        source_height: height,
    })
}

/// The smallest mip whose shown size (the cross, for a cube map) still reaches `max_side` on
/// its long side; mip 0 when even that is smaller.
pub(crate) fn choose_mip(layout: &DdsLayout, max_side: u32, cross: bool) -> u32 {
    let shown_long_side = |mip: u32| {
        let (w, h) = layout.mip_size(mip);
        if cross { (4 * w).max(3 * h) } else { w.max(h) }
    };
    (0..layout.header.mip_count)
        .rev()
        .find(|&mip| shown_long_side(mip) >= max_side)
        .unwrap_or(0)
}

fn decode_mip<R: Read + Seek>(
    reader: &mut R,
    layout: &DdsLayout,
    format: ImageFormat,
    layer: u32,
    mip: u32,
    file_len: u64,
) -> Result<RgbaImage, ThumbError> {
    let unsupported = || ThumbError::UnsupportedFormat(layout.header.format.clone());
    let offset = layout.mip_offset(layer, mip).ok_or_else(unsupported)?;
    let len = layout.mip_len(mip).ok_or_else(unsupported)?;
    if len > MAX_DECODE_PIXELS * 4 {
        let (width, height) = layout.mip_size(mip);
        return Err(ThumbError::TooLargeToDecode { width, height });
    }
    if offset.saturating_add(len) > file_len {
        return Err(ThumbError::Read(ReadError::Truncated {
            what: "DDS texture data",
            got: file_len,
            need: offset.saturating_add(len),
        }));
    }

    reader.seek(SeekFrom::Start(offset))?;
    let mut data = vec![0u8; usize::try_from(len).map_err(|_| unsupported())?];
    reader.read_exact(&mut data)?;

    let (width, height) = layout.mip_size(mip);
    let surface = Surface {
        width,
        height,
        depth: 1,
        layers: 1,
        mipmaps: 1,
        image_format: format,
        data: &data[..],
    };
    let decoded = surface
        .decode_rgba8()
        .map_err(|e| ThumbError::Decode(e.to_string()))?;
    decoded
        .into_image()
        .map_err(|e| ThumbError::Decode(e.to_string()))
}

/// Lays six equal faces out as the horizontal cross in the module doc.
fn cube_cross(faces: &[RgbaImage], width: u32, height: u32) -> RgbaImage {
    // DDS face order is +X, -X, +Y, -Y, +Z, -Z; (column, row) of each in the cross.
    const CELLS: [(u32, u32); 6] = [(2, 1), (0, 1), (1, 0), (1, 2), (1, 1), (3, 1)];
    let mut cross = RgbaImage::new(width * 4, height * 3);
    for (face, (col, row)) in faces.iter().zip(CELLS) {
        imageops::replace(
            &mut cross,
            face,
            i64::from(col * width),
            i64::from(row * height),
        );
    }
    cross
}

/// Rebuilds blue from red and green read as a unit normal's x and y in [-1, 1]:
/// z = sqrt(1 - x² - y²), stored back as (z + 1) / 2. BC5 keeps only x and y to save space.
fn rebuild_normal_blue(image: &mut RgbaImage) {
    for pixel in image.pixels_mut() {
        let x = f32::from(pixel[0]) / 127.5 - 1.0;
        let y = f32::from(pixel[1]) / 127.5 - 1.0;
        let z = (1.0 - x * x - y * y).max(0.0).sqrt();
        pixel[2] = ((z + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8;
    }
}

/// Shrinks so the long side is at most `max_side`, keeping the aspect; never enlarges.
fn shrink(image: RgbaImage, max_side: u32) -> RgbaImage {
    let (w, h) = image.dimensions();
    let long = w.max(h);
    if long <= max_side {
        return image;
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(max_side).clamp(1, max_side)
    };
    imageops::resize(&image, scale(w), scale(h), FilterType::Triangle)
}

fn picture_thumbnail<R: BufRead + Seek>(reader: R, max_side: u32) -> Result<Thumbnail, ThumbError> {
    let mut reader = ImageReader::new(reader).with_guessed_format()?;
    // TGA has no signature to guess from; anything unrecognised is tried as TGA.
    if reader.format().is_none() {
        reader.set_format(image::ImageFormat::Tga);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_PICTURE_ALLOC);
    reader.limits(limits);

    let full = reader.decode()?.into_rgba8();
    let (source_width, source_height) = full.dimensions();
    Ok(Thumbnail {
        image: shrink(full, max_side),
        normal_map: false,
        cubemap: false,
        source_mip: 0,
        source_width,
        source_height,
    })
}

/// Encodes a thumbnail as PNG with fast compression, for the disk cache or the webview.
///
/// Encoding an RGBA8 buffer into memory only fails for a zero-sized image, which this module
/// never makes; in that case the result is empty.
pub fn encode_png(thumb: &Thumbnail) -> Vec<u8> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};

    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Adaptive);
    let (w, h) = thumb.image.dimensions();
    let color = image::ExtendedColorType::Rgba8;
    if encoder
        .write_image(thumb.image.as_raw(), w, h, color)
        .is_err()
    {
        out.clear();
    }
    out
}
