//! Thumbnails per second for 2048² BC1 and BC7 textures with full mip chains, ours against
//! ImageMagick's `convert in.dds -thumbnail 256x256 out.png` on the same files.
//!
//! Run: `cargo bench -p mossy-assets --bench thumbnails`. Each tool makes a 256 px PNG of every
//! file and writes it to disk, one file at a time on one thread; the best of three rounds is
//! reported. ImageMagick pays a process start per file, which is how a gallery would call it.
//!
//! The textures are encoded here, not with `image_dds`'s encoder: that encoder (intel_tex_2)
//! ships C++ objects that need libstdc++ at link time, which this crate does not link. The
//! encoders below are simple but produce valid blocks (BC1 with a min/max colour line; BC7 in
//! mode 6 only), so decoding cost is realistic for BC1 and representative for BC7 files made
//! by fast encoders, which also favour mode 6.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use image::{Rgba, RgbaImage, imageops};
use mossy_assets::thumbnail::{encode_png, thumbnail};

const SIDE: u32 = 2048;
const FILES_PER_FORMAT: usize = 8;
const THUMB_SIDE: u32 = 256;
const ROUNDS: usize = 5;
const CONVERT: &str = "/usr/local/bin/convert";

fn main() {
    let dir = std::env::temp_dir().join(format!("mossy-thumb-bench-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("out")).expect("bench dir");

    let started = Instant::now();
    let mut bc1 = Vec::new();
    let mut bc7 = Vec::new();
    for seed in 0..FILES_PER_FORMAT as u32 {
        let chain = mip_chain(&source_image(seed));
        bc1.push(write_dds(
            &dir,
            &format!("bc1-{seed}.dds"),
            &chain,
            Format::Bc1,
        ));
        bc7.push(write_dds(
            &dir,
            &format!("bc7-{seed}.dds"),
            &chain,
            Format::Bc7,
        ));
    }
    println!(
        "generated {} BC1 + {} BC7 textures, {SIDE}x{SIDE}, 12 mips, in {:.1} s ({})",
        bc1.len(),
        bc7.len(),
        started.elapsed().as_secs_f64(),
        dir.display()
    );

    let magick_reads_bc7 = convert_one(&bc7[0], &dir.join("out/probe.png"));
    if !magick_reads_bc7 {
        println!(
            "ImageMagick cannot read the BC7 (DX10 header) files: BC7 is compared on ours only"
        );
    }

    println!();
    println!("| tool | format | files | seconds | thumbs/s | ratio (ours / ImageMagick) |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, files) in [("BC1", &bc1), ("BC7", &bc7)] {
        let ours = best_of(|| run_ours(files, &dir));
        let magick =
            (name == "BC1" || magick_reads_bc7).then(|| best_of(|| run_magick(files, &dir)));
        let rate = |d: Duration| files.len() as f64 / d.as_secs_f64();
        let ratio = magick.map_or("n/a".to_owned(), |m| format!("{:.1}", rate(ours) / rate(m)));
        println!(
            "| mossy-assets | {name} | {} | {:.3} | {:.1} | {ratio} |",
            files.len(),
            ours.as_secs_f64(),
            rate(ours)
        );
        match magick {
            Some(m) => println!(
                "| ImageMagick convert | {name} | {} | {:.3} | {:.1} | 1.0 |",
                files.len(),
                m.as_secs_f64(),
                rate(m)
            ),
            None => println!(
                "| ImageMagick convert | {name} | {} | - | cannot read | - |",
                files.len()
            ),
        }
    }

    // The same work ImageMagick does (decode mip 0, shrink), to show what mip choice buys.
    let mip0 = best_of(|| run_ours_from_mip0(&bc1, &dir));
    println!(
        "| mossy-assets, mip 0 forced | BC1 | {} | {:.3} | {:.1} | - |",
        bc1.len(),
        mip0.as_secs_f64(),
        bc1.len() as f64 / mip0.as_secs_f64()
    );
    // ImageMagick's start-up alone: the same command on a 4x4 texture.
    let tiny = mip_chain(&imageops::thumbnail(&source_image(0), 4, 4));
    let tiny = vec![write_dds(&dir, "tiny.dds", &tiny, Format::Bc1); FILES_PER_FORMAT];
    let startup = best_of(|| run_magick(&tiny, &dir));
    println!(
        "| ImageMagick convert, 4x4 texture | BC1 | {} | {:.3} | {:.1} | - |",
        tiny.len(),
        startup.as_secs_f64(),
        tiny.len() as f64 / startup.as_secs_f64()
    );

    let ours = image::open(dir.join("out/bc1-0.ours.png"))
        .expect("our png")
        .to_rgba8();
    let theirs = image::open(dir.join("out/bc1-0.magick.png"))
        .expect("magick png")
        .to_rgba8();
    if ours.dimensions() == theirs.dimensions() {
        let total: u64 = ours
            .as_raw()
            .iter()
            .zip(theirs.as_raw())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = total as f64 / ours.as_raw().len() as f64;
        println!("\nbc1-0: mean absolute difference ours vs ImageMagick, per channel: {mean:.2}");
    } else {
        println!(
            "\nbc1-0: sizes differ: ours {:?}, ImageMagick {:?}",
            ours.dimensions(),
            theirs.dimensions()
        );
    }
    let sample = fs::read_dir(dir.join("out"))
        .map(|d| d.count())
        .unwrap_or(0);
    println!("{sample} files in the output folder after the runs");
    let _ = fs::remove_dir_all(&dir);
}

fn best_of(mut run: impl FnMut() -> Duration) -> Duration {
    (0..ROUNDS).map(|_| run()).min().unwrap_or_default()
}

fn run_ours(files: &[PathBuf], dir: &Path) -> Duration {
    let started = Instant::now();
    for file in files {
        let thumb = thumbnail(file, THUMB_SIDE).expect("our thumbnail");
        let out = dir
            .join("out")
            .join(file.with_extension("ours.png").file_name().expect("name"));
        fs::write(out, encode_png(&thumb)).expect("write png");
    }
    started.elapsed()
}

fn run_ours_from_mip0(files: &[PathBuf], dir: &Path) -> Duration {
    let started = Instant::now();
    for file in files {
        let mut thumb = thumbnail(file, SIDE).expect("our mip 0 decode");
        let side = THUMB_SIDE;
        thumb.image = imageops::resize(&thumb.image, side, side, imageops::FilterType::Triangle);
        let out = dir
            .join("out")
            .join(file.with_extension("mip0.png").file_name().expect("name"));
        fs::write(out, encode_png(&thumb)).expect("write png");
    }
    started.elapsed()
}

fn run_magick(files: &[PathBuf], dir: &Path) -> Duration {
    let started = Instant::now();
    for file in files {
        let out = dir
            .join("out")
            .join(file.with_extension("magick.png").file_name().expect("name"));
        assert!(
            convert_one(file, &out),
            "convert failed on {}",
            file.display()
        );
    }
    started.elapsed()
}

fn convert_one(input: &Path, output: &Path) -> bool {
    let size = format!("{THUMB_SIDE}x{THUMB_SIDE}");
    Command::new(CONVERT)
        .arg(input)
        .args(["-thumbnail", &size])
        .arg(output)
        .output()
        .is_ok_and(|out| out.status.success())
}

/// A different picture per seed: colour gradients, rings and a hashed noise so blocks vary.
fn source_image(seed: u32) -> RgbaImage {
    RgbaImage::from_fn(SIDE, SIDE, |x, y| {
        let noise = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663) ^ (seed * 83_492_791))
            .wrapping_mul(2_654_435_761)
            >> 27;
        let (dx, dy) = (x as i64 - 1024, y as i64 - 1024);
        let ring = ((dx * dx + dy * dy) as f64).sqrt() as u32 / (8 + seed);
        Rgba([
            ((x / 8 + seed * 30) % 256) as u8,
            ((y / 8 + noise) % 256) as u8,
            ((ring * 40) % 256) as u8,
            255 - ((x + y) / 32 % 64) as u8,
        ])
    })
}

fn mip_chain(base: &RgbaImage) -> Vec<RgbaImage> {
    let mut chain = vec![base.clone()];
    while let Some(last) = chain.last().filter(|m| m.width() > 1) {
        let side = last.width() / 2;
        let next = imageops::resize(last, side, side, imageops::FilterType::Triangle);
        chain.push(next);
    }
    chain
}

#[derive(Clone, Copy)]
enum Format {
    Bc1,
    Bc7,
}

fn write_dds(dir: &Path, name: &str, chain: &[RgbaImage], format: Format) -> PathBuf {
    let mut bytes = vec![0u8; 128];
    bytes[..4].copy_from_slice(b"DDS ");
    let block_bytes: u32 = match format {
        Format::Bc1 => 8,
        Format::Bc7 => 16,
    };
    let (width, height) = chain[0].dimensions();
    let linear = width.div_ceil(4) * height.div_ceil(4) * block_bytes;
    // Flags: caps, height, width, pixel format, mip count, linear size. Caps (byte 108):
    // texture, mipmap, complex.
    let fields: [(usize, u32); 9] = [
        (4, 124),
        (8, 0x000A_1007),
        (12, height),
        (16, width),
        (20, linear),
        (28, chain.len() as u32),
        (76, 32),
        (80, 4),
        (108, 0x0040_1008),
    ];
    for (at, value) in fields {
        bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }
    match format {
        Format::Bc1 => bytes[84..88].copy_from_slice(b"DXT1"),
        Format::Bc7 => {
            bytes[84..88].copy_from_slice(b"DX10");
            // DXGI 98 = BC7_UNORM, Texture2D, no misc flags, array size 1, straight alpha.
            for value in [98u32, 3, 0, 1, 1] {
                bytes.extend_from_slice(&value.to_le_bytes());
            }
        }
    }
    for mip in chain {
        for_each_block(mip, |block| match format {
            Format::Bc1 => bytes.extend_from_slice(&bc1_block(block)),
            Format::Bc7 => bytes.extend_from_slice(&bc7_mode6_block(block)),
        });
    }
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write dds");
    path
}

/// Calls `f` with each 4x4 block (edge pixels repeated for mips smaller than a block).
fn for_each_block(image: &RgbaImage, mut f: impl FnMut(&[[u8; 4]; 16])) {
    let (w, h) = image.dimensions();
    for by in 0..h.div_ceil(4) {
        for bx in 0..w.div_ceil(4) {
            let mut block = [[0u8; 4]; 16];
            for (i, texel) in block.iter_mut().enumerate() {
                let x = (bx * 4 + i as u32 % 4).min(w - 1);
                let y = (by * 4 + i as u32 / 4).min(h - 1);
                *texel = image.get_pixel(x, y).0;
            }
            f(&block);
        }
    }
}

/// BC1: endpoints are the darkest and brightest texels, indices the nearest of 4 palette entries.
fn bc1_block(block: &[[u8; 4]; 16]) -> [u8; 8] {
    let luma = |p: &[u8; 4]| u32::from(p[0]) * 2 + u32::from(p[1]) * 5 + u32::from(p[2]);
    let lo = block
        .iter()
        .min_by_key(|p| luma(p))
        .copied()
        .unwrap_or_default();
    let hi = block
        .iter()
        .max_by_key(|p| luma(p))
        .copied()
        .unwrap_or_default();
    let to565 = |p: [u8; 4]| {
        ((u16::from(p[0]) >> 3) << 11) | ((u16::from(p[1]) >> 2) << 5) | (u16::from(p[2]) >> 3)
    };
    let (mut c0, mut c1) = (to565(hi), to565(lo));
    if c0 < c1 {
        std::mem::swap(&mut c0, &mut c1);
    }
    let mut out = [0u8; 8];
    out[..2].copy_from_slice(&c0.to_le_bytes());
    out[2..4].copy_from_slice(&c1.to_le_bytes());
    if c0 == c1 {
        return out;
    }
    let expand = |c: u16| {
        [
            ((c >> 11) << 3) as i32,
            (((c >> 5) & 63) << 2) as i32,
            ((c & 31) << 3) as i32,
        ]
    };
    let (e0, e1) = (expand(c0), expand(c1));
    let palette = [
        e0,
        e1,
        [0, 1, 2].map(|i| (2 * e0[i] + e1[i]) / 3),
        [0, 1, 2].map(|i| (e0[i] + 2 * e1[i]) / 3),
    ];
    let mut indices = 0u32;
    for (i, p) in block.iter().enumerate() {
        let dist = |c: &[i32; 3]| (0..3).map(|k| (c[k] - i32::from(p[k])).pow(2)).sum::<i32>();
        let best = (0..4).min_by_key(|&k| dist(&palette[k])).unwrap_or(0) as u32;
        indices |= best << (2 * i);
    }
    out[4..].copy_from_slice(&indices.to_le_bytes());
    out
}

/// BC7 mode 6: one subset, RGBA endpoints of 7 bits plus a shared-per-endpoint p-bit (0 here),
/// 4-bit indices; the first index has an implicit 0 top bit, so endpoints swap when needed.
fn bc7_mode6_block(block: &[[u8; 4]; 16]) -> [u8; 16] {
    let mut lo = [255u8; 4];
    let mut hi = [0u8; 4];
    for p in block {
        for c in 0..4 {
            lo[c] = lo[c].min(p[c]);
            hi[c] = hi[c].max(p[c]);
        }
    }
    let (mut e0, mut e1) = (lo.map(|v| v >> 1), hi.map(|v| v >> 1));
    let line: [f32; 4] = std::array::from_fn(|c| f32::from(e1[c]) * 2.0 - f32::from(e0[c]) * 2.0);
    let len2: f32 = line.iter().map(|v| v * v).sum();
    let mut indices: [u8; 16] = std::array::from_fn(|i| {
        if len2 == 0.0 {
            return 0;
        }
        let t: f32 = (0..4)
            .map(|c| (f32::from(block[i][c]) - f32::from(e0[c]) * 2.0) * line[c])
            .sum();
        (t / len2 * 15.0).round().clamp(0.0, 15.0) as u8
    });
    if indices[0] >= 8 {
        std::mem::swap(&mut e0, &mut e1);
        indices = indices.map(|i| 15 - i);
    }

    let mut bits = 1u128 << 6; // mode 6
    let mut at = 7;
    let mut put = |value: u128, width: u32| {
        bits |= value << at;
        at += width;
    };
    for c in 0..4 {
        put(u128::from(e0[c]), 7);
        put(u128::from(e1[c]), 7);
    }
    put(0, 1);
    put(0, 1);
    for (i, &index) in indices.iter().enumerate() {
        put(u128::from(index), if i == 0 { 3 } else { 4 });
    }
    bits.to_le_bytes()
}
