//! The one error type shared by the header readers (DDS, NIF, plugin, BA2).
//!
//! Every reader turns bad input into one of these values instead of panicking, and each
//! message is a short sentence a modder can act on ("DDS header is truncated (60 of 128
//! bytes)"), because the gallery shows it as is under the file name.

use std::io;

/// Why a file header could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("could not read the file: {0}")]
    Io(#[from] io::Error),

    /// The file ends before the part being read is complete.
    #[error("{what} is truncated ({got} of {need} bytes)")]
    Truncated {
        /// The part being read, e.g. "DDS header".
        what: &'static str,
        /// Bytes present.
        got: u64,
        /// Bytes needed.
        need: u64,
    },

    /// The file does not start with the signature of the expected format.
    #[error("not a {format}: it does not start with {expected}")]
    NotThisFormat {
        /// The format that was expected, e.g. "DDS texture".
        format: &'static str,
        /// The signature that was expected, quoted, e.g. "\"DDS \"".
        expected: &'static str,
    },

    /// The signature is right but a field makes no sense.
    #[error("{format} is damaged: {reason}")]
    Invalid {
        /// The format being read, e.g. "BA2 archive".
        format: &'static str,
        /// What is wrong, as a short clause.
        reason: String,
    },

    /// A real file of this format, in a variant the reader does not handle.
    #[error("{format} {what} is not supported ({supported})")]
    Unsupported {
        /// The format being read, e.g. "BA2 archive".
        format: &'static str,
        /// The variant found, e.g. "version 3".
        what: String,
        /// What is supported, e.g. "versions 1, 7 and 8 are".
        supported: &'static str,
    },

    /// A texture claims dimensions beyond [`MAX_DIMENSION`]; decoding it could exhaust memory.
    #[error("texture claims {width}x{height} pixels, more than the {max}-pixel limit per side")]
    TooLarge {
        /// Claimed width.
        width: u32,
        /// Claimed height.
        height: u32,
        /// The limit, [`MAX_DIMENSION`].
        max: u32,
    },
}

/// The largest width or height accepted for a texture or image.
///
/// Fallout 4 and its mods top out at 8192 (some 16384 landscape maps); anything above this is a
/// damaged header whose claim would make us allocate gigabytes.
pub const MAX_DIMENSION: u32 = 16_384;

/// Reads into `buf` until it is full or the reader ends; returns how many bytes were read.
///
/// Unlike `read_exact` this tells the caller how much was there, for a "truncated (60 of 128
/// bytes)" message.
pub(crate) fn read_up_to(reader: &mut impl io::Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

/// Text taken from a file, made safe to put in a one-line message: control characters, line
/// and paragraph separators and bidirectional overrides are escaped (`\nNRL`, `\u{202e}`),
/// and the result is cut to 60 characters, so a damaged header can neither break the
/// gallery's error badge over lines, reorder it, nor flood it.
pub(crate) fn printable(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    let mut shown = String::new();
    let mut count = 0;
    for c in text.chars() {
        let piece: String = if hidden(c) {
            c.escape_default().collect()
        } else {
            c.to_string()
        };
        count += piece.chars().count();
        if count > MAX_CHARS {
            shown.push('…');
            break;
        }
        shown.push_str(&piece);
    }
    shown
}

/// Little-endian u16 at `at`; callers have checked the length.
pub(crate) fn le_u16(bytes: &[u8], at: usize) -> u16 {
    let mut raw = [0; 2];
    raw.copy_from_slice(&bytes[at..at + 2]);
    u16::from_le_bytes(raw)
}

/// Little-endian u32 at `at`; callers have checked the length.
pub(crate) fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut raw = [0; 4];
    raw.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(raw)
}

/// Little-endian u64 at `at`; callers have checked the length.
pub(crate) fn le_u64(bytes: &[u8], at: usize) -> u64 {
    let mut raw = [0; 8];
    raw.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(raw)
}

/// Decodes Windows-1252 text, the code page Bethesda tools write names and paths in.
///
/// Bytes 0xA0-0xFF map to the same code points (Latin-1); 0x80-0x9F hold typographic
/// characters. The five undefined bytes become U+FFFD.
pub(crate) fn decode_cp1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1252_maps_typographic_bytes_and_latin1() {
        assert_eq!(decode_cp1252(b"Caf\xe9 \x93x\x94 \x80"), "Café “x” €");
    }

    #[test]
    fn printable_text_is_one_short_line() {
        assert_eq!(printable("20.2.0.7"), "20.2.0.7");
        assert_eq!(printable("\nNR\u{0}"), "\\nNR\\u{0}");
        assert_eq!(printable("a\u{2028}b\u{202e}c"), "a\\u{2028}b\\u{202e}c");
        for long in ["x".repeat(500), "\u{1}".repeat(500)] {
            let shown = printable(&long);
            assert!(
                shown.chars().count() <= 61 && shown.ends_with('…'),
                "{shown}"
            );
        }
    }

    #[test]
    fn truncated_message_reads_as_a_sentence() {
        let err = ReadError::Truncated {
            what: "DDS header",
            got: 60,
            need: 128,
        };
        assert_eq!(err.to_string(), "DDS header is truncated (60 of 128 bytes)");
    }
}
