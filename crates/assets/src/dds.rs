//! DDS texture headers: format, size, mip chain, cube map, sRGB, legacy or DX10 header.
//!
//! Only the first 148 bytes are ever read here, so a 1 GB texture costs the same as a tiny one.
//! `ddsfile` parses the fixed fields and `image_dds` names the pixel format; this module adds
//! the checks a damaged or hostile file needs (zero or huge sizes, impossible mip counts) and
//! the byte layout of the mip chain that the thumbnailer uses to seek straight to one mip.

use std::io::Read;

use image_dds::ImageFormat;
use image_dds::ddsfile::{self, Dds, FourCC, Header, Header10};

use crate::read_error::{MAX_DIMENSION, ReadError, le_u32, read_up_to};

/// Length of a DDS file's magic plus the legacy header.
pub const LEGACY_HEADER_LEN: u64 = 128;

/// Length of a DDS file's magic plus the legacy header plus the 20-byte DX10 extension.
pub const DX10_HEADER_LEN: u64 = 148;

/// More array layers than any real texture holds; bounds the mip-chain arithmetic.
const MAX_LAYERS: u32 = 6 * 2048;

const FORMAT: &str = "DDS texture";

/// Which header layout a DDS file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DdsHeaderKind {
    /// The original 128-byte header, format given by a FourCC or bit masks.
    Legacy,
    /// The 148-byte header with a DXGI format (FourCC `DX10`).
    Dx10,
}

/// What the header of a DDS texture says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DdsHeader {
    /// Short format name: "BC1", "BC3", "BC5", "BC7", "B8G8R8A8"... or, for a format we cannot
    /// name, "DXGI format 191" / "FourCC ABCD" / "unknown uncompressed layout".
    pub format: String,
    /// Whether the colour data is sRGB-encoded (the `_SRGB` DXGI formats).
    pub srgb: bool,
    /// Width of mip 0 in pixels.
    pub width: u32,
    /// Height of mip 0 in pixels.
    pub height: u32,
    /// Number of mip levels; a header that stores 0 counts as 1.
    pub mip_count: u32,
    /// Whether this is a cube map.
    pub cubemap: bool,
    /// Number of 2D images per mip level: 1 for a plain texture, 6 for a cube map.
    pub layers: u32,
    /// Legacy or DX10 header.
    pub header: DdsHeaderKind,
}

/// Reads the header of a DDS texture from the start of `reader` (at most 148 bytes).
pub fn read_dds_header(reader: impl Read) -> Result<DdsHeader, ReadError> {
    Ok(parse_dds(reader)?.header)
}

/// A parsed header plus what is needed to find each mip in the file.
#[derive(Debug, Clone)]
pub(crate) struct DdsLayout {
    pub header: DdsHeader,
    /// The format `image_dds` can decode, if any.
    pub image_format: Option<ImageFormat>,
    /// Where pixel data starts: right after the header.
    pub data_offset: u64,
    /// Depth of a volume texture; 1 for 2D textures and cube maps.
    pub depth: u32,
}

impl DdsLayout {
    /// Width and height of `mip`.
    pub fn mip_size(&self, mip: u32) -> (u32, u32) {
        let halve = |side: u32| side.checked_shr(mip).unwrap_or(0).max(1);
        (halve(self.header.width), halve(self.header.height))
    }

    /// Bytes that `mip` of one layer takes, or `None` for a format we cannot lay out.
    pub fn mip_len(&self, mip: u32) -> Option<u64> {
        let (block_side, block_bytes) = block_shape(self.image_format?)?;
        let (width, height) = self.mip_size(mip);
        let depth = self.depth.checked_shr(mip).unwrap_or(0).max(1);
        let blocks_wide = u64::from(width.div_ceil(block_side));
        let blocks_high = u64::from(height.div_ceil(block_side));
        Some(blocks_wide * blocks_high * u64::from(depth) * block_bytes)
    }

    /// Offset in the file of `mip` of `layer`; layers are stored one after another, each with
    /// its whole mip chain.
    pub fn mip_offset(&self, layer: u32, mip: u32) -> Option<u64> {
        let mut layer_len = 0;
        let mut before_mip = 0;
        for level in 0..self.header.mip_count {
            if level == mip {
                before_mip = layer_len;
            }
            layer_len += self.mip_len(level)?;
        }
        Some(self.data_offset + u64::from(layer) * layer_len + before_mip)
    }
}

/// Parses the header and checks every field the thumbnailer will trust.
pub(crate) fn parse_dds(mut reader: impl Read) -> Result<DdsLayout, ReadError> {
    let mut buf = [0u8; DX10_HEADER_LEN as usize];
    let got = read_up_to(&mut reader, &mut buf[..LEGACY_HEADER_LEN as usize])?;
    let magic_len = got.min(4);
    if buf[..magic_len] != b"DDS "[..magic_len] || got == 0 {
        return Err(ReadError::NotThisFormat {
            format: FORMAT,
            expected: "\"DDS \"",
        });
    }
    if got < LEGACY_HEADER_LEN as usize {
        return Err(truncated(got, LEGACY_HEADER_LEN));
    }

    if le_u32(&buf, 4) != 124 {
        return Err(invalid(format!(
            "its header size field says {}, not 124",
            le_u32(&buf, 4)
        )));
    }
    if le_u32(&buf, 76) != 32 {
        return Err(invalid(format!(
            "its pixel format size says {}, not 32",
            le_u32(&buf, 76)
        )));
    }
    let header =
        Header::read(&buf[4..LEGACY_HEADER_LEN as usize]).map_err(|e| invalid(e.to_string()))?;

    let is_dx10 = header.spf.fourcc == Some(FourCC(FourCC::DX10));
    let (header10, dxgi_raw) = if is_dx10 {
        let extra = &mut buf[LEGACY_HEADER_LEN as usize..];
        let got_extra = read_up_to(&mut reader, extra)?;
        if got_extra < extra.len() {
            return Err(truncated(got + got_extra, DX10_HEADER_LEN));
        }
        (read_header10(extra), Some(le_u32(extra, 0)))
    } else {
        (None, None)
    };

    let (width, height) = (header.width, header.height);
    if width == 0 || height == 0 {
        return Err(invalid(format!("it claims {width}x{height} pixels")));
    }
    if width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(ReadError::TooLarge {
            width,
            height,
            max: MAX_DIMENSION,
        });
    }

    // Read the count whatever the MIPMAPCOUNT flag says, as DirectXTex does: some writers set
    // the count and forget the flag. 0 means a lone base level.
    let mip_count = le_u32(&buf, 28).max(1);
    let max_mips = u32::BITS - width.max(height).leading_zeros();
    if mip_count > max_mips {
        return Err(invalid(format!(
            "it claims {mip_count} mip levels but a {width}x{height} texture has at most {max_mips}"
        )));
    }

    let depth = match header.depth {
        Some(depth) if header.caps2.contains(ddsfile::Caps2::VOLUME) => depth.max(1),
        _ => 1,
    };
    if depth > MAX_DIMENSION {
        return Err(invalid(format!("it claims a depth of {depth}")));
    }

    let (cubemap, layers) = if is_dx10 {
        // DX10 header: misc flag at byte 136 (0x4 = cube), array size at 140.
        let cube = le_u32(&buf, 136) & 0x4 != 0;
        let array = le_u32(&buf, 140).max(1);
        (cube, array.saturating_mul(if cube { 6 } else { 1 }))
    } else {
        let cube = header.caps2.contains(ddsfile::Caps2::CUBEMAP);
        let faces = (le_u32(&buf, 112) & 0xFC00).count_ones();
        (
            cube,
            if !cube {
                1
            } else if faces == 0 {
                6
            } else {
                faces
            },
        )
    };
    if layers > MAX_LAYERS {
        return Err(invalid(format!("it claims {layers} array layers")));
    }

    let dds = Dds {
        header: header.clone(),
        header10,
        data: Vec::new(),
    };
    let image_format = image_dds::dds_image_format(&dds).ok();
    let format = match image_format {
        Some(known) => format_name(known),
        None => unknown_format_name(&header, dxgi_raw),
    };

    Ok(DdsLayout {
        header: DdsHeader {
            format,
            srgb: image_format.is_some_and(is_srgb),
            width,
            height,
            mip_count,
            cubemap,
            layers,
            header: if is_dx10 {
                DdsHeaderKind::Dx10
            } else {
                DdsHeaderKind::Legacy
            },
        },
        image_format,
        data_offset: if is_dx10 {
            DX10_HEADER_LEN
        } else {
            LEGACY_HEADER_LEN
        },
        depth,
    })
}

/// Reads the DX10 extension, or `None` when its DXGI format is one `ddsfile` does not know.
///
/// `ddsfile` also rejects odd resource-dimension and alpha-mode values, which say nothing about
/// how to decode the pixels, so those are replaced with neutral ones first.
fn read_header10(raw: &[u8]) -> Option<Header10> {
    let mut patched = [0u8; 20];
    patched.copy_from_slice(raw);
    if !(2..=4).contains(&le_u32(&patched, 4)) {
        patched[4..8].copy_from_slice(&3u32.to_le_bytes());
    }
    if le_u32(&patched, 16) > 4 {
        patched[16..20].copy_from_slice(&0u32.to_le_bytes());
    }
    Header10::read(&patched[..]).ok()
}

/// Block edge in pixels and bytes per block (per pixel for uncompressed formats).
fn block_shape(format: ImageFormat) -> Option<(u32, u64)> {
    use ImageFormat as F;
    Some(match format {
        F::BC1RgbaUnorm | F::BC1RgbaUnormSrgb | F::BC4RUnorm | F::BC4RSnorm => (4, 8),
        F::BC2RgbaUnorm | F::BC2RgbaUnormSrgb | F::BC3RgbaUnorm | F::BC3RgbaUnormSrgb => (4, 16),
        F::BC5RgUnorm | F::BC5RgSnorm | F::BC6hRgbUfloat | F::BC6hRgbSfloat => (4, 16),
        F::BC7RgbaUnorm | F::BC7RgbaUnormSrgb => (4, 16),
        F::R8Unorm | F::R8Snorm => (1, 1),
        F::Rg8Unorm | F::Rg8Snorm | F::Bgra4Unorm | F::Bgr5A1Unorm => (1, 2),
        F::R16Unorm | F::R16Snorm | F::R16Float => (1, 2),
        F::Bgr8Unorm => (1, 3),
        F::Rgba8Unorm | F::Rgba8UnormSrgb | F::Rgba8Snorm => (1, 4),
        F::Bgra8Unorm | F::Bgra8UnormSrgb => (1, 4),
        F::Rg16Unorm | F::Rg16Snorm | F::Rg16Float | F::R32Float => (1, 4),
        F::Rgba16Unorm | F::Rgba16Snorm | F::Rgba16Float | F::Rg32Float => (1, 8),
        F::Rgb32Float => (1, 12),
        F::Rgba32Float => (1, 16),
        _ => return None,
    })
}

fn is_srgb(format: ImageFormat) -> bool {
    use ImageFormat as F;
    matches!(
        format,
        F::BC1RgbaUnormSrgb
            | F::BC2RgbaUnormSrgb
            | F::BC3RgbaUnormSrgb
            | F::BC7RgbaUnormSrgb
            | F::Rgba8UnormSrgb
            | F::Bgra8UnormSrgb
    )
}

/// The short name modders know from texture tools; sRGB is reported separately.
fn format_name(format: ImageFormat) -> String {
    use ImageFormat as F;
    let name = match format {
        F::BC1RgbaUnorm | F::BC1RgbaUnormSrgb => "BC1",
        F::BC2RgbaUnorm | F::BC2RgbaUnormSrgb => "BC2",
        F::BC3RgbaUnorm | F::BC3RgbaUnormSrgb => "BC3",
        F::BC4RUnorm => "BC4",
        F::BC4RSnorm => "BC4_SNORM",
        F::BC5RgUnorm => "BC5",
        F::BC5RgSnorm => "BC5_SNORM",
        F::BC6hRgbUfloat => "BC6H_UF16",
        F::BC6hRgbSfloat => "BC6H_SF16",
        F::BC7RgbaUnorm | F::BC7RgbaUnormSrgb => "BC7",
        F::Bgra8Unorm | F::Bgra8UnormSrgb => "B8G8R8A8",
        F::Rgba8Unorm | F::Rgba8UnormSrgb => "R8G8B8A8",
        F::Bgr8Unorm => "B8G8R8",
        F::Bgra4Unorm => "B4G4R4A4",
        F::Bgr5A1Unorm => "B5G5R5A1",
        F::R8Unorm => "R8",
        F::Rg8Unorm => "R8G8",
        other => return format!("{other:?}"),
    };
    name.to_owned()
}

fn unknown_format_name(header: &Header, dxgi_raw: Option<u32>) -> String {
    if let Some(dxgi) = dxgi_raw {
        return format!("DXGI format {dxgi}");
    }
    match &header.spf.fourcc {
        Some(FourCC(code)) => {
            let text: String = code
                .to_le_bytes()
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        char::from(b)
                    } else {
                        '?'
                    }
                })
                .collect();
            format!("FourCC {text}")
        }
        None => "unknown uncompressed layout".to_owned(),
    }
}

fn truncated(got: usize, need: u64) -> ReadError {
    ReadError::Truncated {
        what: "DDS header",
        got: got as u64,
        need,
    }
}

fn invalid(reason: String) -> ReadError {
    ReadError::Invalid {
        format: FORMAT,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bc1_header(width: u32, height: u32, mips: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 128];
        bytes[..4].copy_from_slice(b"DDS ");
        bytes[4..8].copy_from_slice(&124u32.to_le_bytes());
        bytes[8..12].copy_from_slice(&0x2_1007u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&height.to_le_bytes());
        bytes[16..20].copy_from_slice(&width.to_le_bytes());
        bytes[28..32].copy_from_slice(&mips.to_le_bytes());
        bytes[76..80].copy_from_slice(&32u32.to_le_bytes());
        bytes[80..84].copy_from_slice(&4u32.to_le_bytes());
        bytes[84..88].copy_from_slice(b"DXT1");
        bytes
    }

    #[test]
    fn mip_offsets_follow_the_chain() {
        let layout = parse_dds(&bc1_header(16, 8, 5)[..]).expect("valid header");
        // 16x8 -> 4x2 blocks, 8x4 -> 2x1, 4x2 -> 1x1, 2x1 -> 1x1, 1x1 -> 1x1; 8 bytes a block.
        let lens: Vec<_> = (0..5)
            .map(|m| layout.mip_len(m).expect("known format"))
            .collect();
        assert_eq!(lens, [64, 16, 8, 8, 8]);
        assert_eq!(layout.mip_offset(0, 2), Some(128 + 80));
        assert_eq!(layout.mip_offset(1, 0), Some(128 + 104));
    }

    #[test]
    fn rejects_more_mips_than_the_size_allows() {
        let err = parse_dds(&bc1_header(4, 4, 9)[..]).expect_err("9 mips on 4x4");
        assert_eq!(
            err.to_string(),
            "DDS texture is damaged: it claims 9 mip levels but a 4x4 texture has at most 3"
        );
    }
}
