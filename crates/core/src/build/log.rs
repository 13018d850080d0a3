//! A build's whole log, held compactly so a million lines fit in tens of megabytes.
//!
//! Lines are never dropped: the panel shows any range of them on demand. Each line costs its
//! display text (in one shared `String`) plus a fixed 24-byte record; the few lines longer
//! than the display cap keep their full length in a side table. Lines holding an error or
//! warning are listed too, for the "errors only" view.

use std::collections::HashMap;

use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::LogLine;

const STDERR: u8 = 1;
const LOSSY: u8 = 2;
const TRUNCATED: u8 = 4;

/// Where one line's text is and what it is.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Byte offset of the text in [`LogBuffer::text`].
    start: u64,
    /// Text length in bytes.
    len: u32,
    /// Milliseconds after the build's start; saturates after 49 days.
    at_offset_ms: u32,
    /// Stream and marks.
    flags: u8,
}

/// The lines of one build, numbered from 1 in arrival order.
#[derive(Debug, Clone)]
pub struct LogBuffer {
    started_at_ms: i64,
    text: String,
    records: Vec<Record>,
    /// Full byte length of truncated lines, by index.
    long_lines: HashMap<u32, u64>,
    /// Indexes of lines with an error or warning, ascending.
    problems: Vec<u32>,
}

impl LogBuffer {
    /// An empty log of a build that started at `started_at_ms` (Unix ms).
    pub fn new(started_at_ms: i64) -> Self {
        Self {
            started_at_ms,
            text: String::new(),
            records: Vec::new(),
            long_lines: HashMap::new(),
            problems: Vec::new(),
        }
    }

    /// Lines held.
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    /// True before the first line.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Lines marked as holding an error or warning.
    pub fn problem_count(&self) -> u64 {
        self.problems.len() as u64
    }

    /// Appends a line and returns its 1-based number; the number in `line` is ignored.
    /// Past `u32::MAX` lines (four billion) further lines are not kept.
    pub fn push(&mut self, line: &LogLine) -> u64 {
        let Ok(index) = u32::try_from(self.records.len()) else {
            return self.len();
        };
        let mut flags = 0;
        if line.stream == LogStream::Stderr {
            flags |= STDERR;
        }
        if line.lossy {
            flags |= LOSSY;
        }
        if line.truncated {
            flags |= TRUNCATED;
            self.long_lines.insert(index, line.byte_len);
        }
        let at_offset_ms =
            u32::try_from((line.at_ms - self.started_at_ms).max(0)).unwrap_or(u32::MAX);
        self.records.push(Record {
            start: self.text.len() as u64,
            // Display text is capped far below 4 GiB by the runner.
            len: u32::try_from(line.text.len()).unwrap_or(u32::MAX),
            at_offset_ms,
            flags,
        });
        self.text.push_str(&line.text);
        u64::from(index) + 1
    }

    /// Marks line `number` (1-based) as holding an error or warning. Lines are marked in
    /// order; marking one twice is harmless.
    pub fn mark_problem(&mut self, number: u64) {
        let Some(index) = number.checked_sub(1).and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        if self.problems.last().is_some_and(|&last| last >= index) {
            return;
        }
        if (index as usize) < self.records.len() {
            self.problems.push(index);
        }
    }

    /// Line `number` (1-based), if held.
    pub fn line(&self, number: u64) -> Option<LogLine> {
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        let record = self.records.get(index)?;
        let start = usize::try_from(record.start).ok()?;
        let text = self.text.get(start..start + record.len as usize)?;
        Some(LogLine {
            number,
            at_ms: self.started_at_ms + i64::from(record.at_offset_ms),
            stream: if record.flags & STDERR == 0 {
                LogStream::Stdout
            } else {
                LogStream::Stderr
            },
            text: text.to_owned(),
            lossy: record.flags & LOSSY != 0,
            truncated: record.flags & TRUNCATED != 0,
            byte_len: u32::try_from(index)
                .ok()
                .and_then(|i| self.long_lines.get(&i).copied())
                .unwrap_or(u64::from(record.len)),
        })
    }

    /// Up to `count` lines from position `start` (0-based): of all lines, or of the problem
    /// lines only.
    pub fn range(&self, start: u64, count: u64, problems_only: bool) -> Vec<LogLine> {
        let total = if problems_only {
            self.problem_count()
        } else {
            self.len()
        };
        let end = start.saturating_add(count).min(total);
        (start..end)
            .filter_map(|position| {
                let number = if problems_only {
                    u64::from(*self.problems.get(usize::try_from(position).ok()?)?) + 1
                } else {
                    position + 1
                };
                self.line(number)
            })
            .collect()
    }

    /// The position of line `number` among the problem lines, if it is one.
    pub fn problem_position(&self, number: u64) -> Option<u64> {
        let index = u32::try_from(number.checked_sub(1)?).ok()?;
        self.problems.binary_search(&index).ok().map(|p| p as u64)
    }

    /// The number of the next line after `from` (or before it, going backwards) whose text
    /// holds `query`, ignoring case; wraps around the end. `from` 0 starts at the top.
    pub fn search(&self, query: &str, from: u64, backwards: bool) -> Option<u64> {
        if query.is_empty() || self.records.is_empty() {
            return None;
        }
        let needle = Needle::new(query);
        let total = self.records.len();
        let from = usize::try_from(from).unwrap_or(usize::MAX).min(total);
        // `from` is 1-based; as a 0-based index it is the line after it.
        let order: Box<dyn Iterator<Item = usize>> = if backwards {
            let before = from.saturating_sub(1);
            Box::new((0..before).rev().chain((before..total).rev()))
        } else {
            Box::new((from..total).chain(0..from))
        };
        order
            .into_iter()
            .find(|&index| {
                let record = self.records[index];
                let start = record.start as usize;
                self.text
                    .get(start..start + record.len as usize)
                    .is_some_and(|text| needle.is_in(text))
            })
            .map(|index| index as u64 + 1)
    }

    /// Bytes this log holds on the heap, for the memory figures.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.records.capacity() * std::mem::size_of::<Record>()
            + self.problems.capacity() * std::mem::size_of::<u32>()
            + self.long_lines.capacity() * (std::mem::size_of::<(u32, u64)>() + 8)
    }

    /// The log as bytes for storage, keeping whole lines while the text fits in `cap` bytes.
    /// Returns the bytes and whether lines were left out.
    pub fn encode(&self, cap: usize) -> (Vec<u8>, bool) {
        let kept = self
            .records
            .iter()
            .position(|record| (record.start + u64::from(record.len)) as usize > cap)
            .unwrap_or(self.records.len());
        let text_len = self
            .records
            .get(kept)
            .map_or(self.text.len(), |r| r.start as usize);
        let mut out = Vec::with_capacity(32 + kept * 21 + text_len);
        out.extend_from_slice(ENCODING_MAGIC);
        out.extend_from_slice(&self.started_at_ms.to_le_bytes());
        out.extend_from_slice(&(kept as u64).to_le_bytes());
        for (index, record) in self.records[..kept].iter().enumerate() {
            out.extend_from_slice(&record.len.to_le_bytes());
            out.extend_from_slice(&record.at_offset_ms.to_le_bytes());
            out.push(record.flags);
            let long = u32::try_from(index)
                .ok()
                .and_then(|i| self.long_lines.get(&i).copied())
                .unwrap_or(u64::from(record.len));
            out.extend_from_slice(&long.to_le_bytes());
        }
        let problems: Vec<u32> = self
            .problems
            .iter()
            .copied()
            .filter(|&p| (p as usize) < kept)
            .collect();
        out.extend_from_slice(&(problems.len() as u64).to_le_bytes());
        for problem in problems {
            out.extend_from_slice(&problem.to_le_bytes());
        }
        out.extend_from_slice(&self.text.as_bytes()[..text_len]);
        (out, kept < self.records.len())
    }

    /// Reads back what [`LogBuffer::encode`] wrote; `None` when the bytes are not such a log.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut reader = Reader(bytes);
        if reader.take(ENCODING_MAGIC.len())? != ENCODING_MAGIC {
            return None;
        }
        let started_at_ms = i64::from_le_bytes(reader.array()?);
        let count = usize::try_from(u64::from_le_bytes(reader.array()?)).ok()?;
        // Each record is 17 bytes; a count the bytes cannot hold is damage, not a reason to
        // reserve gigabytes.
        if count > bytes.len() / 17 {
            return None;
        }
        let mut log = Self::new(started_at_ms);
        log.records.reserve(count);
        let mut start = 0_u64;
        for index in 0..count {
            let len = u32::from_le_bytes(reader.array()?);
            let at_offset_ms = u32::from_le_bytes(reader.array()?);
            let flags = reader.take(1)?[0];
            let full = u64::from_le_bytes(reader.array()?);
            if flags & TRUNCATED != 0 {
                log.long_lines.insert(u32::try_from(index).ok()?, full);
            }
            log.records.push(Record {
                start,
                len,
                at_offset_ms,
                flags,
            });
            start += u64::from(len);
        }
        let problems = usize::try_from(u64::from_le_bytes(reader.array()?)).ok()?;
        if problems > count {
            return None;
        }
        for _ in 0..problems {
            log.problems.push(u32::from_le_bytes(reader.array()?));
        }
        log.text = String::from_utf8(reader.0.to_vec()).ok()?;
        let fits = log.records.iter().all(|r| {
            log.text
                .is_char_boundary((r.start + u64::from(r.len)) as usize)
        });
        (log.text.len() as u64 == start && fits).then_some(log)
    }
}

const ENCODING_MAGIC: &[u8; 8] = b"MLLOG01\n";

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        if self.0.len() < count {
            return None;
        }
        let (head, tail) = self.0.split_at(count);
        self.0 = tail;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

/// A search text, matched without regard to case.
enum Needle {
    /// ASCII queries compare bytes, ASCII letters folded: no allocation per line.
    Ascii(Vec<u8>),
    /// Other queries fold both sides with Unicode lower-casing.
    Unicode(String),
}

impl Needle {
    fn new(query: &str) -> Self {
        if query.is_ascii() {
            Self::Ascii(query.to_ascii_lowercase().into_bytes())
        } else {
            Self::Unicode(query.to_lowercase())
        }
    }

    fn is_in(&self, text: &str) -> bool {
        match self {
            Self::Ascii(needle) => text
                .as_bytes()
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle)),
            Self::Unicode(needle) => text.to_lowercase().contains(needle.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(stream: LogStream, at_ms: i64, text: &str) -> LogLine {
        LogLine {
            number: 0,
            at_ms,
            stream,
            text: text.to_owned(),
            lossy: false,
            truncated: false,
            byte_len: text.len() as u64,
        }
    }

    fn sample() -> LogBuffer {
        let mut log = LogBuffer::new(1_000);
        log.push(&line(LogStream::Stdout, 1_005, "Compiling \"Quest\"..."));
        log.push(&line(
            LogStream::Stderr,
            1_010,
            "Quest.psc(3,1): Ünbekannt FOO",
        ));
        let mut long = line(LogStream::Stdout, 1_020, "xxxx");
        long.truncated = true;
        long.lossy = true;
        long.byte_len = 10 * 1024 * 1024;
        log.push(&long);
        log.push(&line(LogStream::Stdout, 1_030, "done foo"));
        log.mark_problem(2);
        log
    }

    #[test]
    fn lines_come_back_as_they_went_in() {
        let log = sample();
        assert_eq!(log.len(), 4);
        let second = log.line(2).expect("line 2");
        assert_eq!(
            second,
            LogLine {
                number: 2,
                ..line(LogStream::Stderr, 1_010, "Quest.psc(3,1): Ünbekannt FOO")
            }
        );
        let third = log.line(3).expect("line 3");
        assert!(third.truncated && third.lossy);
        assert_eq!(third.byte_len, 10 * 1024 * 1024);
        assert_eq!(log.line(5), None);
        assert_eq!(log.line(0), None);
    }

    #[test]
    fn ranges_of_all_lines_and_of_problems() {
        let log = sample();
        let numbers = |lines: Vec<LogLine>| lines.iter().map(|l| l.number).collect::<Vec<_>>();
        assert_eq!(numbers(log.range(1, 2, false)), [2, 3]);
        assert_eq!(numbers(log.range(3, 10, false)), [4]);
        assert_eq!(numbers(log.range(0, 10, true)), [2]);
        assert_eq!(log.problem_position(2), Some(0));
        assert_eq!(log.problem_position(3), None);
    }

    #[test]
    fn search_ignores_case_wraps_and_goes_both_ways() {
        let log = sample();
        assert_eq!(log.search("foo", 0, false), Some(2));
        assert_eq!(log.search("foo", 2, false), Some(4));
        assert_eq!(log.search("foo", 4, false), Some(2), "wraps to the top");
        assert_eq!(log.search("FOO", 4, true), Some(2));
        assert_eq!(log.search("foo", 2, true), Some(4), "wraps to the bottom");
        assert_eq!(log.search("ünbekannt", 0, false), Some(2));
        assert_eq!(log.search("absent", 0, false), None);
        assert_eq!(log.search("", 0, false), None);
    }

    #[test]
    fn encoding_round_trips_and_respects_the_cap() {
        let log = sample();
        let (bytes, capped) = log.encode(usize::MAX);
        assert!(!capped);
        let back = LogBuffer::decode(&bytes).expect("decodes");
        assert_eq!(back.range(0, 10, false), log.range(0, 10, false));
        assert_eq!(back.range(0, 10, true), log.range(0, 10, true));

        let (bytes, capped) = log.encode(25);
        assert!(capped);
        let back = LogBuffer::decode(&bytes).expect("decodes");
        assert_eq!(back.len(), 1, "only whole lines under the cap");

        assert!(LogBuffer::decode(b"not a log").is_none());
        assert!(LogBuffer::decode(&bytes[..bytes.len() - 3]).is_none());
    }
}
