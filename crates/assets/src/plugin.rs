//! Plugin headers (`.esp`, `.esm`, `.esl`): the `TES4` record that opens every Fallout 4
//! plugin.
//!
//! The record is a 24-byte header (type, data size, flags, form id, version control, form
//! version) followed by subrecords: `HEDR` (version, record count, next object id), `CNAM`
//! author, `SNAM` description, and one `MAST` per master. Only that first record is read, so a
//! 500 MB master costs a few hundred bytes. The reader is tolerant: unknown subrecords are
//! skipped and odd values (HEDR 0.94, form version 0, a wrong record count) are reported as
//! they are, because Creation Kit and xEdit load such plugins too.

use std::io::Read;

use crate::read_error::{ReadError, decode_cp1252, le_u16, le_u32, printable, read_up_to};

/// Length of a Fallout 4 record header.
const RECORD_HEADER_LEN: usize = 24;

/// Largest `TES4` data accepted. Real ones hold a few kB (masters plus the override list);
/// a bigger claim is a damaged file and would only waste memory.
const MAX_TES4_LEN: u32 = 4 * 1024 * 1024;

/// Record flag: the plugin is a master (ESM), whatever its extension.
const FLAG_MASTER: u32 = 0x1;

/// Record flag: the plugin is light (ESL) and takes no full load-order slot.
const FLAG_LIGHT: u32 = 0x200;

const FORMAT: &str = "plugin";

/// What the `TES4` header of a plugin says.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginHeader {
    /// The master flag (0x1) is set.
    pub master: bool,
    /// The light flag (0x200) is set.
    pub light: bool,
    /// All record flags as stored.
    pub flags: u32,
    /// Form version of the `TES4` record (131 for current Fallout 4 plugins).
    pub form_version: u16,
    /// `HEDR` version (1.0 for Fallout 4), if there is a `HEDR`.
    pub hedr_version: Option<f32>,
    /// Number of records the header claims; not checked against the file.
    pub record_count: Option<u32>,
    /// Next free object id, from `HEDR`.
    pub next_object_id: Option<u32>,
    /// Author (`CNAM`).
    pub author: Option<String>,
    /// Description (`SNAM`).
    pub description: Option<String>,
    /// Masters in the order they are listed (`MAST`).
    pub masters: Vec<String>,
}

/// Reads the `TES4` header record from the start of `reader`.
pub fn read_plugin_header(mut reader: impl Read) -> Result<PluginHeader, ReadError> {
    let mut head = [0u8; RECORD_HEADER_LEN];
    let got = read_up_to(&mut reader, &mut head)?;
    let magic_len = got.min(4);
    if got == 0 || head[..magic_len] != b"TES4"[..magic_len] {
        return Err(ReadError::NotThisFormat {
            format: FORMAT,
            expected: "a \"TES4\" record",
        });
    }
    if got < RECORD_HEADER_LEN {
        return Err(truncated(got, RECORD_HEADER_LEN as u64));
    }

    let data_len = le_u32(&head, 4);
    if data_len > MAX_TES4_LEN {
        return Err(invalid(format!("its TES4 header claims {data_len} bytes")));
    }
    let mut data = vec![0u8; data_len as usize];
    let got_data = read_up_to(&mut reader, &mut data)?;
    if got_data < data.len() {
        return Err(truncated(
            got + got_data,
            RECORD_HEADER_LEN as u64 + u64::from(data_len),
        ));
    }

    let flags = le_u32(&head, 8);
    let mut header = PluginHeader {
        master: flags & FLAG_MASTER != 0,
        light: flags & FLAG_LIGHT != 0,
        flags,
        form_version: le_u16(&head, 20),
        hedr_version: None,
        record_count: None,
        next_object_id: None,
        author: None,
        description: None,
        masters: Vec::new(),
    };
    for subrecord in Subrecords::new(&data) {
        let (kind, body) = subrecord?;
        match &kind {
            b"HEDR" if body.len() >= 12 => {
                header.hedr_version = Some(f32::from_bits(le_u32(body, 0)));
                header.record_count = Some(le_u32(body, 4));
                header.next_object_id = Some(le_u32(body, 8));
            }
            b"CNAM" => header.author = Some(zstring(body)),
            b"SNAM" => header.description = Some(zstring(body)),
            b"MAST" => header.masters.push(zstring(body)),
            _ => {}
        }
    }
    Ok(header)
}

/// Walks the subrecords of a record body, honouring `XXXX` (a u32 size for the next one).
struct Subrecords<'a> {
    rest: &'a [u8],
    next_len: Option<usize>,
}

impl<'a> Subrecords<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self {
            rest: data,
            next_len: None,
        }
    }
}

impl<'a> Iterator for Subrecords<'a> {
    type Item = Result<([u8; 4], &'a [u8]), ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            if self.rest.len() < 6 {
                self.rest = &[];
                return Some(Err(invalid(
                    "its TES4 header ends inside a subrecord".to_owned(),
                )));
            }
            let mut kind = [0u8; 4];
            kind.copy_from_slice(&self.rest[..4]);
            let stated = usize::from(le_u16(self.rest, 4));
            let len = self.next_len.take().unwrap_or(stated);
            let Some(body) = self.rest[6..].get(..len) else {
                let name = printable(&decode_cp1252(&kind));
                self.rest = &[];
                return Some(Err(invalid(format!(
                    "its {name} subrecord runs past the end of the TES4 header"
                ))));
            };
            self.rest = &self.rest[6 + body.len()..];
            if &kind == b"XXXX" && body.len() >= 4 {
                self.next_len = Some(le_u32(body, 0) as usize);
                continue;
            }
            return Some(Ok((kind, body)));
        }
    }
}

/// A zero-terminated Windows-1252 string; a missing terminator is tolerated.
fn zstring(body: &[u8]) -> String {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    decode_cp1252(&body[..end])
}

fn truncated(got: usize, need: u64) -> ReadError {
    ReadError::Truncated {
        what: "plugin header",
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
