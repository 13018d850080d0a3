//! NIF mesh headers: the text line, the binary version, user version, BSVER and block count.
//!
//! A NIF starts with a text line such as `Gamebryo File Format, Version 20.2.0.7` ended by a
//! newline, then little-endian fields. Fallout 4 meshes are version 20.2.0.7, user version 12,
//! BSVER 130. Only versions from 20.0.0.3 on (Oblivion onwards) are read, because older files
//! lay the fields out differently and no Fallout 4 tool writes them. At most a few hundred bytes
//! are read whatever the file size.

use std::io::Read;

use crate::read_error::{ReadError, le_u32, printable, read_up_to};

/// The longest header line accepted, newline included; real ones are under 50 bytes.
const MAX_LINE: usize = 128;

/// Bytes after the line that hold version, endianness, user version, block count and BSVER.
const FIELDS_LEN: usize = 17;

/// 20.0.0.3, the first version with the endian byte this reader relies on.
const OLDEST_VERSION: u32 = 0x1400_0003;

const FORMAT: &str = "NIF mesh";

/// What the header of a NIF mesh says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NifHeader {
    /// The text line without its newline, e.g. `Gamebryo File Format, Version 20.2.0.7`.
    pub header_line: String,
    /// The binary version, e.g. `0x14020007` for 20.2.0.7.
    pub version: u32,
    /// The user version (12 for Fallout 4 and Skyrim).
    pub user_version: u32,
    /// Bethesda's stream version (BSVER): 130 for Fallout 4, 100 for Skyrim SE; `None` when
    /// the user version says there is no Bethesda header.
    pub bsver: Option<u32>,
    /// Number of blocks (objects) in the file.
    pub block_count: u32,
}

impl NifHeader {
    /// The version as the dotted text modders see in NifSkope, e.g. "20.2.0.7".
    pub fn version_text(&self) -> String {
        let [a, b, c, d] = self.version.to_be_bytes();
        format!("{a}.{b}.{c}.{d}")
    }
}

/// Reads the header of a NIF mesh from the start of `reader` (at most 145 bytes).
pub fn read_nif_header(mut reader: impl Read) -> Result<NifHeader, ReadError> {
    let mut buf = [0u8; MAX_LINE + FIELDS_LEN];
    let got = read_up_to(&mut reader, &mut buf)?;
    let bytes = &buf[..got];

    let known_start = [
        &b"Gamebryo File Format, Version "[..],
        b"NetImmerse File Format, Version ",
    ];
    let looks_right = known_start.iter().any(|start| {
        let n = start.len().min(bytes.len());
        n > 0 && bytes[..n] == start[..n]
    });
    if !looks_right {
        return Err(ReadError::NotThisFormat {
            format: FORMAT,
            expected: "\"Gamebryo File Format\"",
        });
    }
    let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
        if got < buf.len() {
            return Err(truncated(got, got + 1));
        }
        return Err(invalid("its header line has no end".to_owned()));
    };
    let header_line = String::from_utf8_lossy(&bytes[..newline]).into_owned();

    let fields = &bytes[newline + 1..];
    if fields.len() < 4 {
        return Err(truncated(got, newline + 1 + FIELDS_LEN));
    }
    let version = le_u32(fields, 0);
    let text_version = header_line
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    let header = NifHeader {
        header_line,
        version,
        user_version: 0,
        bsver: None,
        block_count: 0,
    };
    if header.version_text() != text_version {
        return Err(invalid(format!(
            "its header line says {} but its version field says {}",
            printable(&text_version),
            header.version_text()
        )));
    }
    if version < OLDEST_VERSION {
        return Err(ReadError::Unsupported {
            format: FORMAT,
            what: format!("version {}", printable(&text_version)),
            supported: "versions 20.0.0.3 and newer are",
        });
    }

    // version u32, endian u8, user version u32, block count u32, then BSVER when present.
    // Until the user version is read, assume the longer Bethesda layout for the message.
    let has_bsver = fields.len() < 9 || le_u32(fields, 5) >= 3;
    let need = if has_bsver { FIELDS_LEN } else { 13 };
    if fields.len() < need {
        return Err(truncated(got, newline + 1 + need));
    }
    if fields[4] != 1 {
        return Err(ReadError::Unsupported {
            format: FORMAT,
            what: "in big-endian byte order".to_owned(),
            supported: "only little-endian files are",
        });
    }
    Ok(NifHeader {
        user_version: le_u32(fields, 5),
        block_count: le_u32(fields, 9),
        bsver: has_bsver.then(|| le_u32(fields, 13)),
        ..header
    })
}

fn truncated(got: usize, need: usize) -> ReadError {
    ReadError::Truncated {
        what: "NIF header",
        got: got as u64,
        need: need as u64,
    }
}

fn invalid(reason: String) -> ReadError {
    ReadError::Invalid {
        format: FORMAT,
        reason,
    }
}
