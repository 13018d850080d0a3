//! BA2 archive headers and the list of file names inside.
//!
//! The header is 24 bytes: `BTDX`, u32 version, a 4-byte type (`GNRL` for general files,
//! `DX10` for textures), u32 file count and u64 offset of the name table. Version 1 is the
//! original Fallout 4 format; 7 and 8 come from the 2024 update and keep the same header. The
//! name table holds one u16-length-prefixed path per file (backslash separated). The reader
//! seeks to it and reads at most [`MAX_NAMES`] names and [`MAX_NAME_TABLE_BYTES`], so a damaged
//! count cannot make it read or allocate without bound.

use std::io::{BufReader, Read, Seek, SeekFrom};

use crate::read_error::{ReadError, decode_cp1252, le_u32, le_u64, printable, read_up_to};

/// Length of the BA2 header.
const HEADER_LEN: usize = 24;

/// Most names read from the name table. The largest vanilla archive (`Fallout4 - Meshes.ba2`)
/// lists about 42,000 files; this leaves room for big mod archives.
pub const MAX_NAMES: u32 = 200_000;

/// Most bytes read from the name table: about 160 bytes for each of [`MAX_NAMES`] paths.
pub const MAX_NAME_TABLE_BYTES: u64 = 32 * 1024 * 1024;

const FORMAT: &str = "BA2 archive";

/// What an archive holds: general files or textures stored as DDS chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ba2Kind {
    /// `GNRL`: meshes, scripts, sounds and any other files.
    General,
    /// `DX10`: textures.
    Textures,
}

/// What the header and name table of an archive say.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ba2Header {
    /// Format version: 1, 7 or 8.
    pub version: u32,
    /// General or textures.
    pub kind: Ba2Kind,
    /// Number of files the header claims.
    pub file_count: u32,
    /// Where the name table starts; 0 when the archive has none.
    pub name_table_offset: u64,
    /// File paths from the name table, in archive order, as stored (backslashes).
    pub names: Vec<String>,
    /// Whether `names` stops short of `file_count` because of [`MAX_NAMES`] or
    /// [`MAX_NAME_TABLE_BYTES`].
    pub names_capped: bool,
}

/// Reads the header of a BA2 archive and the file names from its name table.
pub fn read_ba2_header<R: Read + Seek>(mut reader: R) -> Result<Ba2Header, ReadError> {
    let mut head = [0u8; HEADER_LEN];
    let got = read_up_to(&mut reader, &mut head)?;
    let magic_len = got.min(4);
    if got == 0 || head[..magic_len] != b"BTDX"[..magic_len] {
        return Err(ReadError::NotThisFormat {
            format: FORMAT,
            expected: "\"BTDX\"",
        });
    }
    if got < HEADER_LEN {
        return Err(ReadError::Truncated {
            what: "BA2 header",
            got: got as u64,
            need: HEADER_LEN as u64,
        });
    }

    let version = le_u32(&head, 4);
    if !matches!(version, 1 | 7 | 8) {
        return Err(ReadError::Unsupported {
            format: FORMAT,
            what: format!("version {version}"),
            supported: "Fallout 4 versions 1, 7 and 8 are",
        });
    }
    let kind = match &head[8..12] {
        b"GNRL" => Ba2Kind::General,
        b"DX10" => Ba2Kind::Textures,
        other => {
            return Err(ReadError::Unsupported {
                format: FORMAT,
                what: format!("type \"{}\"", printable(&decode_cp1252(other))),
                supported: "GNRL and DX10 are",
            });
        }
    };
    let file_count = le_u32(&head, 12);
    let name_table_offset = le_u64(&head, 16);

    let mut header = Ba2Header {
        version,
        kind,
        file_count,
        name_table_offset,
        names: Vec::new(),
        names_capped: false,
    };
    if name_table_offset == 0 || file_count == 0 {
        return Ok(header);
    }

    let file_len = reader.seek(SeekFrom::End(0))?;
    if name_table_offset < HEADER_LEN as u64 || name_table_offset > file_len {
        return Err(invalid(format!(
            "its name table offset {name_table_offset} is outside the {file_len}-byte file"
        )));
    }
    reader.seek(SeekFrom::Start(name_table_offset))?;
    let table_len = file_len - name_table_offset;
    let budget = table_len.min(MAX_NAME_TABLE_BYTES);
    let mut table = BufReader::new(reader.take(budget));
    let wanted = file_count.min(MAX_NAMES);
    for index in 0..wanted {
        let mut len = [0u8; 2];
        let mut name = Vec::new();
        let got_len = read_up_to(&mut table, &mut len)?;
        let name_len = u64::from(u16::from_le_bytes(len));
        let got_name = if got_len == 2 {
            (&mut table).take(name_len).read_to_end(&mut name)?
        } else {
            0
        };
        if got_len < 2 || (got_name as u64) < name_len {
            if table_len > budget {
                header.names_capped = true;
                return Ok(header);
            }
            return Err(invalid(format!(
                "its name table ends after {index} of {file_count} names"
            )));
        }
        header.names.push(decode_cp1252(&name));
    }
    header.names_capped = file_count > wanted;
    Ok(header)
}

fn invalid(reason: String) -> ReadError {
    ReadError::Invalid {
        format: FORMAT,
        reason,
    }
}
