//! Cutting one output stream into display lines, however the bytes arrive.
//!
//! A pipe hands over chunks that split lines anywhere, even inside a UTF-8 letter. The
//! [`LineAssembler`] keeps at most the display cap of each line and only counts the rest, so
//! a single 10 MB line costs the cap in memory, not 10 MB. Bytes that are not UTF-8 (a
//! Windows tool writing in its code page) are shown with replacement characters and the line
//! is marked lossy; a line cut at the cap is cut on a letter boundary and marked truncated.
//! A trailing `\r` (Windows line endings) is not part of the text.

/// A finished line before it is stamped and numbered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssembledLine {
    /// The text, cut to the cap.
    pub text: String,
    /// Some bytes were not UTF-8.
    pub lossy: bool,
    /// The line was longer than the cap.
    pub truncated: bool,
    /// The full length in bytes, line ending excluded.
    pub byte_len: u64,
}

/// Splits one stream's bytes into lines.
#[derive(Debug)]
pub(crate) struct LineAssembler {
    cap: usize,
    /// The line's first `cap` bytes (one more while a final `\r` may need dropping).
    kept: Vec<u8>,
    /// Bytes of the line so far, all of them.
    byte_len: u64,
    /// The last byte seen was `\r`.
    ends_with_cr: bool,
    /// Some bytes of the current line were seen, so end of input must emit it.
    open: bool,
}

impl LineAssembler {
    /// An assembler that keeps at most `cap` bytes of each line for display.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            cap,
            kept: Vec::new(),
            byte_len: 0,
            ends_with_cr: false,
            open: false,
        }
    }

    /// Takes the next chunk of the stream, calling `emit` for every line it completes.
    pub(crate) fn push(&mut self, mut chunk: &[u8], mut emit: impl FnMut(AssembledLine)) {
        while !chunk.is_empty() {
            let newline = chunk.iter().position(|&b| b == b'\n');
            let (part, rest) = match newline {
                Some(at) => (&chunk[..at], &chunk[at + 1..]),
                None => (chunk, &chunk[chunk.len()..]),
            };
            self.take(part);
            if newline.is_some() {
                emit(self.complete());
            }
            chunk = rest;
        }
    }

    /// Ends the stream: a last line without a line ending is still a line.
    pub(crate) fn finish(&mut self) -> Option<AssembledLine> {
        self.open.then(|| self.complete())
    }

    fn take(&mut self, part: &[u8]) {
        if part.is_empty() {
            self.open = true;
            return;
        }
        // One byte over the cap is kept so a `\r` right at the cap can be dropped later
        // without mistaking the line for a truncated one.
        let room = (self.cap + 1).saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&part[..part.len().min(room)]);
        self.byte_len += part.len() as u64;
        self.ends_with_cr = part.last() == Some(&b'\r');
        self.open = true;
    }

    fn complete(&mut self) -> AssembledLine {
        let mut byte_len = self.byte_len;
        if self.ends_with_cr {
            byte_len -= 1;
        }
        let keep = usize::try_from(byte_len)
            .unwrap_or(usize::MAX)
            .min(self.cap);
        self.kept.truncate(keep);
        let truncated = byte_len > keep as u64;
        let (text, lossy) = decode(&self.kept, truncated);

        self.kept.clear();
        self.byte_len = 0;
        self.ends_with_cr = false;
        self.open = false;
        AssembledLine {
            text,
            lossy,
            truncated,
            byte_len,
        }
    }
}

/// The bytes as text. When the line was cut, an incomplete letter at the cut is dropped
/// rather than shown as invalid.
fn decode(bytes: &[u8], truncated: bool) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), false),
        Err(error) if truncated && error.error_len().is_none() => {
            let valid = &bytes[..error.valid_up_to()];
            (String::from_utf8_lossy(valid).into_owned(), false)
        }
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, lossy: bool, truncated: bool, byte_len: u64) -> AssembledLine {
        AssembledLine {
            text: text.to_owned(),
            lossy,
            truncated,
            byte_len,
        }
    }

    fn assemble(cap: usize, chunks: &[&[u8]]) -> Vec<AssembledLine> {
        let mut assembler = LineAssembler::new(cap);
        let mut lines = Vec::new();
        for chunk in chunks {
            assembler.push(chunk, |done| lines.push(done));
        }
        lines.extend(assembler.finish());
        lines
    }

    #[test]
    fn joins_lines_split_across_chunks_and_drops_crlf() {
        let lines = assemble(64, &[b"Compiling \"A", b"\"...\r", b"\n\nlast"]);
        assert_eq!(
            lines,
            [
                line("Compiling \"A\"...", false, false, 16),
                line("", false, false, 0),
                line("last", false, false, 4),
            ]
        );
    }

    #[test]
    fn no_output_gives_no_lines() {
        assert_eq!(assemble(64, &[]), []);
        assert_eq!(assemble(64, &[b""]), []);
    }

    #[test]
    fn marks_invalid_utf8_as_lossy() {
        let lines = assemble(64, &[b"Caf\xe9.psc(1,1): bad\n"]);
        assert_eq!(lines, [line("Caf\u{fffd}.psc(1,1): bad", true, false, 18)]);
    }

    #[test]
    fn cuts_a_long_line_at_the_cap_on_a_letter_boundary() {
        // "é" is two bytes; a cap of 4 would split the second one.
        let lines = assemble(4, &[b"a\xc3\xa9", "\u{e9}xyz\n".as_bytes()]);
        assert_eq!(lines, [line("a\u{e9}", false, true, 8)]);
    }

    #[test]
    fn a_carriage_return_at_the_cap_is_not_truncation() {
        let lines = assemble(4, &[b"abcd\r\n"]);
        assert_eq!(lines, [line("abcd", false, false, 4)]);
    }
}
