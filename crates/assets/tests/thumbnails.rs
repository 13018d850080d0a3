//! Thumbnailer against the image-dds reference decodes, mip selection, pictures, PNG output,
//! the disk cache, and proptest fuzzing of DDS input.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{GenericImageView, GrayImage, RgbImage, RgbaImage};
use mossy_assets::kind::AssetKind;
use mossy_assets::read_error::ReadError;
use mossy_assets::thumb_cache::ThumbCache;
use mossy_assets::thumbnail::{ThumbError, Thumbnail, encode_png, thumbnail, thumbnail_bytes};
use proptest::prelude::*;

/// Per-channel tolerance against the reference PNGs: 1 step of 255.
///
/// The references were decoded by image-rs/image-dds and we decode with `image_dds` (bcdec).
/// The BCn specs leave the rounding of interpolated palette entries to the decoder; measured
/// with a tolerance of 0, BC1, BC5 (red/green), BC7, uncompressed and the cube cross match
/// exactly, while BC3 alpha and BC4 differ by 1 on some pixels (their 8-entry single-channel
/// palettes). A wrong channel order, block, mip or face differs by far more than 1.
const TOLERANCE: u8 = 1;

/// Large enough that every fixture decodes its mip 0.
const FULL: u32 = 4096;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/assets")
}

fn reference(rel_dds: &str) -> image::DynamicImage {
    let png = fixtures().join(rel_dds).with_extension("png");
    image::open(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()))
}

fn full_thumbnail(rel: &str) -> Thumbnail {
    thumbnail(&fixtures().join(rel), FULL).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Largest per-channel difference over the channels in `channels`.
fn max_diff(ours: &RgbaImage, theirs: &RgbaImage, channels: std::ops::Range<usize>) -> u8 {
    assert_eq!(ours.dimensions(), theirs.dimensions());
    ours.pixels()
        .zip(theirs.pixels())
        .flat_map(|(a, b)| channels.clone().map(move |c| a[c].abs_diff(b[c])))
        .max()
        .unwrap_or(0)
}

#[test]
fn rgba_textures_match_their_reference_decodes() {
    let cases = [
        "textures/bc/DX9 BC1_UNORM.dds",
        "textures/bc/DX10 BC1_UNORM.dds",
        "textures/bc/DX10 BC1_UNORM_SRGB.dds",
        "textures/bc/DX9 BC3_UNORM.dds",
        "textures/bc/DX10 BC7_UNORM.dds",
        "textures/bc/dxt1-simple.dds",
        "textures/bc/dxt5-simple.dds",
        "textures/uncompressed/DX9 B8G8R8A8_UNORM.dds",
    ];
    for rel in cases {
        let thumb = full_thumbnail(rel);
        let expected = reference(rel).to_rgba8();
        assert_eq!(thumb.source_mip, 0, "{rel}");
        assert!(!thumb.normal_map && !thumb.cubemap, "{rel}");
        let diff = max_diff(&thumb.image, &expected, 0..4);
        assert!(diff <= TOLERANCE, "{rel}: channel differs by {diff}");
    }
}

#[test]
fn bc4_textures_are_gray_and_match_their_reference() {
    let cases = [
        "textures/bc/DX9 BC4_UNORM.dds",
        "textures/bc/DX9 BC4_SNORM.dds",
        "textures/bc/DX10 BC4_UNORM.dds",
        "textures/bc/DX10 BC4_SNORM.dds",
    ];
    for rel in cases {
        let thumb = full_thumbnail(rel);
        let gray: GrayImage = reference(rel).to_luma8();
        assert_eq!(thumb.image.dimensions(), gray.dimensions(), "{rel}");
        for (ours, theirs) in thumb.image.pixels().zip(gray.pixels()) {
            for c in 0..3 {
                assert!(
                    ours[c].abs_diff(theirs[0]) <= TOLERANCE,
                    "{rel}: {ours:?} vs {theirs:?}"
                );
            }
            assert_eq!(ours[3], 255, "{rel}");
        }
    }
}

#[test]
fn bc5_normal_maps_match_red_green_and_get_blue_rebuilt() {
    for rel in [
        "textures/bc/DX9 BC5_UNORM.dds",
        "textures/bc/DX10 BC5_UNORM.dds",
    ] {
        let thumb = full_thumbnail(rel);
        assert!(thumb.normal_map, "{rel}");
        let rgb: RgbImage = reference(rel).to_rgb8();
        let expected = image::DynamicImage::ImageRgb8(rgb).to_rgba8();
        let diff = max_diff(&thumb.image, &expected, 0..2);
        assert!(diff <= TOLERANCE, "{rel}: red/green differ by {diff}");

        // Every 7th pixel: red, green, blue read as [-1, 1] form a unit vector wherever red and
        // green leave room for one. 8-bit steps are 2/255, so allow 0.03 on the squared length.
        let mut checked = 0;
        for pixel in thumb.image.pixels().step_by(7) {
            let [x, y, z] = [0, 1, 2].map(|c| f32::from(pixel[c]) / 127.5 - 1.0);
            if x * x + y * y <= 0.97 {
                let len2 = x * x + y * y + z * z;
                assert!(
                    (len2 - 1.0).abs() < 0.03,
                    "{rel}: {pixel:?} has length² {len2}"
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "{rel}: only {checked} pixels checked");
    }
}

#[test]
fn cubemap_is_shown_as_the_reference_cross() {
    let rel = "textures/cube/DXT1 Pretoria Gardens DX9.dds";
    let thumb = full_thumbnail(rel);
    assert!(thumb.cubemap);
    assert_eq!(thumb.image.dimensions(), (512, 384));
    let expected = reference(rel).to_rgba8();
    let diff = max_diff(&thumb.image, &expected, 0..4);
    assert!(diff <= TOLERANCE, "cross differs by {diff}");
}

/// A 1024x1024 BC1 DDS with a full chain (11 mips), each mip one solid colour so the test can
/// tell which mip was decoded. BC1 block: two RGB565 endpoints, then 2-bit indices (all 0).
fn solid_mips_bc1(side: u32) -> (Vec<u8>, Vec<[u8; 3]>) {
    let mips = u32::BITS - side.leading_zeros();
    let mut bytes = vec![0u8; 128];
    bytes[..4].copy_from_slice(b"DDS ");
    let fields: [(usize, u32); 7] = [
        (4, 124),
        (8, 0x2_1007),
        (12, side),
        (16, side),
        (28, mips),
        (76, 32),
        (80, 4),
    ];
    for (at, value) in fields {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
    bytes[84..88].copy_from_slice(b"DXT1");

    let mut colours = Vec::new();
    for mip in 0..mips {
        // A different colour per mip, on the RGB565 grid (5 bits red, 6 green, 5 blue).
        let (r5, g6, b5) = ((mip * 3) as u16, 63 - (mip * 5) as u16, 16u16);
        let c565 = (r5 << 11) | (g6 << 5) | b5;
        let blocks = (side >> mip).max(1).div_ceil(4).pow(2);
        for _ in 0..blocks {
            bytes.extend_from_slice(&c565.to_le_bytes());
            bytes.extend_from_slice(&c565.to_le_bytes());
            bytes.extend_from_slice(&[0; 4]);
        }
        // Widened to 8 bits by repeating the top bits, as the BC1 spec suggests.
        let widen = |v: u16, bits: u32| ((v << (8 - bits)) | (v >> (2 * bits - 8))) as u8;
        colours.push([widen(r5, 5), widen(g6, 6), widen(b5, 5)]);
    }
    (bytes, colours)
}

/// Decoders differ by one step in how they widen 5- and 6-bit channels to 8 bits.
fn is_colour(pixel: [u8; 4], rgb: [u8; 3]) -> bool {
    (0..3).all(|c| pixel[c].abs_diff(rgb[c]) <= 1) && pixel[3] == 255
}

#[test]
fn decodes_the_smallest_mip_that_still_covers_the_size() {
    let (bytes, colours) = solid_mips_bc1(1024);
    let thumb = thumbnail_bytes(&bytes, AssetKind::Texture, 128).expect("valid texture");
    assert_eq!(thumb.source_mip, 3);
    assert_eq!((thumb.source_width, thumb.source_height), (128, 128));
    assert_eq!(thumb.image.dimensions(), (128, 128));
    assert!(
        thumb.image.pixels().all(|p| is_colour(p.0, colours[3])),
        "{:?}",
        thumb.image.get_pixel(0, 0)
    );

    // Not a power of two: 200 needs mip 2 (256), not mip 3 (128).
    let thumb = thumbnail_bytes(&bytes, AssetKind::Texture, 200).expect("valid texture");
    assert_eq!(
        (thumb.source_mip, thumb.image.dimensions()),
        (2, (200, 200))
    );
}

#[test]
fn blank_fo4_texture_uses_its_400x300_mip_for_256() {
    let thumb = thumbnail(&fixtures().join("fo4/Data/Blank.dds"), 256).expect("Blank.dds");
    assert_eq!(thumb.source_mip, 1);
    assert_eq!((thumb.source_width, thumb.source_height), (400, 300));
    assert_eq!(thumb.image.dimensions(), (256, 192));
    assert!(
        thumb.image.pixels().all(|p| p.0 == [255, 255, 255, 255]),
        "Blank.dds is white"
    );
}

#[test]
fn mip_zero_is_never_read_for_a_small_thumbnail() {
    // Guards the seek: zero out mip 0 and the thumbnail must still be the mip 3 colour.
    let (mut bytes, colours) = solid_mips_bc1(1024);
    bytes[128..128 + 256 * 256 * 8].fill(0xAA);
    let thumb = thumbnail_bytes(&bytes, AssetKind::Texture, 128).expect("valid texture");
    let pixel = thumb.image.get_pixel(5, 5).0;
    assert!(
        is_colour(pixel, colours[3]),
        "{pixel:?} is not {:?}",
        colours[3]
    );
}

#[test]
fn huge_single_mip_claim_is_refused_before_allocating() {
    // Regression guard: a 16384² texture with no mips must not decode a 1 GB image.
    let (mut bytes, _) = solid_mips_bc1(4);
    bytes[12..16].copy_from_slice(&16384u32.to_le_bytes());
    bytes[16..20].copy_from_slice(&16384u32.to_le_bytes());
    bytes[28..32].copy_from_slice(&1u32.to_le_bytes());
    let err = thumbnail_bytes(&bytes, AssetKind::Texture, 256).expect_err("too big");
    assert_eq!(
        err.to_string(),
        "texture is too large to preview without smaller mips (16384x16384)"
    );

    bytes[12..16].copy_from_slice(&2048u32.to_le_bytes());
    bytes[16..20].copy_from_slice(&2048u32.to_le_bytes());
    let err = thumbnail_bytes(&bytes, AssetKind::Texture, 256).expect_err("no data");
    assert!(
        matches!(err, ThumbError::Read(ReadError::Truncated { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "DDS texture data is truncated (152 of 2097280 bytes)"
    );
}

#[test]
fn pictures_are_shrunk_keeping_aspect() {
    let png = fixtures().join("textures/bc/DX10 BC7_UNORM.png");
    let source = image::open(&png).expect("reference png").to_rgba8();
    let thumb = thumbnail(&png, 64).expect("png");
    assert_eq!(thumb.image.dimensions(), (64, 33));
    assert_eq!((thumb.source_width, thumb.source_height), (129, 66));

    // The same picture as TGA (no signature) and JPEG, given as bytes.
    for format in [image::ImageFormat::Tga, image::ImageFormat::Jpeg] {
        let mut encoded = Cursor::new(Vec::new());
        let pixels = if format == image::ImageFormat::Jpeg {
            image::DynamicImage::ImageRgba8(source.clone())
                .to_rgb8()
                .into()
        } else {
            image::DynamicImage::ImageRgba8(source.clone())
        };
        pixels.write_to(&mut encoded, format).expect("encode");
        let thumb = thumbnail_bytes(encoded.get_ref(), AssetKind::Image, 256).expect("decode");
        assert_eq!(
            thumb.image.dimensions(),
            (129, 66),
            "{format:?} is not enlarged"
        );
        if format == image::ImageFormat::Tga {
            assert_eq!(thumb.image, source);
        }
    }
}

#[test]
fn png_output_round_trips() {
    let thumb = full_thumbnail("textures/bc/DX10 BC7_UNORM.dds");
    let png = encode_png(&thumb);
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let back = image::load_from_memory(&png).expect("valid png").to_rgba8();
    assert_eq!(back, thumb.image);
}

#[test]
fn other_kinds_and_bad_sizes_are_errors() {
    let esp = fixtures().join("fo4/Data/Blank.esp");
    let err = thumbnail(&esp, 256).expect_err("plugins have no picture");
    assert_eq!(err.to_string(), "Plugin files have no thumbnail");
    let dds = fixtures().join("textures/bc/dxt1-simple.dds");
    let err = thumbnail(&dds, 0).expect_err("zero size");
    assert_eq!(
        err.to_string(),
        "thumbnail size must be 1 to 16384 pixels, not 0"
    );
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mossy-assets-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn cache_writes_once_and_keys_on_file_changes() {
    let dir = scratch_dir("cache");
    let source = dir.join("Vault Door #2 é.dds");
    fs::copy(fixtures().join("textures/bc/DX10 BC7_UNORM.dds"), &source).expect("copy");
    let cache = ThumbCache::new(dir.join("thumbs")).with_max_side(64);

    let first = cache.get_or_make(&source).expect("made");
    let written = fs::metadata(&first)
        .expect("entry exists")
        .modified()
        .expect("mtime");
    let second = cache.get_or_make(&source).expect("cached");
    assert_eq!(first, second);
    assert_eq!(
        fs::metadata(&second)
            .expect("entry")
            .modified()
            .expect("mtime"),
        written
    );
    let png = image::open(&first).expect("cached png").to_rgba8();
    assert_eq!(png.dimensions(), (64, 33));

    // A different texture saved over the same name must get a new entry.
    fs::copy(fixtures().join("textures/bc/dxt1-simple.dds"), &source).expect("overwrite");
    let third = cache.get_or_make(&source).expect("remade");
    assert_ne!(third, first);
    assert_eq!(image::open(&third).expect("png").dimensions(), (64, 64));

    let leftovers: Vec<_> = fs::read_dir(cache.dir())
        .expect("cache dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn thumbnail_types_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ThumbCache>();
    send_sync::<Thumbnail>();
    send_sync::<ThumbError>();
}

fn small_dds_fixtures() -> Vec<Vec<u8>> {
    [
        "textures/bc/DX9 BC1_UNORM.dds",
        "textures/bc/DX10 BC1_UNORM_SRGB.dds",
        "textures/bc/DX9 BC4_SNORM.dds",
        "textures/bc/DX10 BC5_UNORM.dds",
        "textures/bc/DX10 BC7_UNORM.dds",
        "textures/bc/dxt5-simple.dds",
        "textures/uncompressed/DX9 B8G8R8A8_UNORM.dds",
    ]
    .iter()
    .map(|rel| fs::read(fixtures().join(rel)).expect("fixture"))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Header fields (size, flags, dimensions, mips, FourCC, caps, DX10 fields) get random
    /// values; the thumbnailer must answer with a value, never a panic or a huge allocation.
    #[test]
    fn thumbnailer_never_panics_on_mutated_textures(
        which in 0usize..7,
        edits in proptest::collection::vec((0usize..148, any::<u8>()), 1..8),
        cut in 0usize..7000,
        max_side in 1u32..600,
    ) {
        let mut bytes = small_dds_fixtures().swap_remove(which);
        for (at, value) in edits {
            if let Some(byte) = bytes.get_mut(at) {
                *byte = value;
            }
        }
        bytes.truncate(cut.max(100));
        if let Ok(thumb) = thumbnail_bytes(&bytes, AssetKind::Texture, max_side) {
            let (w, h) = thumb.image.dimensions();
            prop_assert!(w.max(h) <= max_side && w > 0 && h > 0);
        }
    }

    #[test]
    fn thumbnailer_never_panics_on_random_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let _ = thumbnail_bytes(&bytes, AssetKind::Texture, 64);
        let _ = thumbnail_bytes(&bytes, AssetKind::Image, 64);
    }
}
