//! What one line of build output says, decided without allocating.
//!
//! [`papyrus_line`] recognises the Papyrus compiler's own lines (batch start and end, a
//! script starting, a script failing). [`diagnostic_line`] recognises errors and warnings in
//! the forms compilers share:
//!
//! - `path(line[,col]): message` and `path(line:col): message` — Papyrus, MSVC, MSBuild;
//!   the message may start with `error CODE:` or `warning CODE:`;
//! - `path:line[:col]: error: message` — GCC, Clang and most Unix tools;
//! - `error: message`, `warning: message`, `error[CODE]: message` at the start of a line.
//!
//! A keyword-less `path(line,col): message` is how Papyrus prints an error, so it counts as
//! one when the path is a `.psc` script or the line came on stderr; on stdout, a line like
//! that from another tool is more likely chatter, and stays plain log. Everything here works
//! on borrowed text; only a line that turns out to be a diagnostic is copied.

use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::{CompilerSummary, Diagnostic, Severity};

/// A line only the Papyrus compiler prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PapyrusLine<'a> {
    /// `Starting N compile threads for M files...`
    BatchStarted {
        /// Compile threads.
        threads: u32,
        /// Files in the batch.
        files: u32,
    },
    /// `Compiling "Name"...`
    Compiling(&'a str),
    /// `No output generated for Name, compilation failed.`
    NoOutput(&'a str),
    /// `Batch compile of M files finished. S succeeded, F failed.`
    BatchFinished(CompilerSummary),
}

/// Reads a Papyrus compiler line, or `None` for any other line.
pub(crate) fn papyrus_line(line: &str) -> Option<PapyrusLine<'_>> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("Compiling \"") {
        let name = &rest[..rest.find('"')?];
        return (!name.is_empty()).then_some(PapyrusLine::Compiling(name));
    }
    if let Some(rest) = line.strip_prefix("No output generated for ") {
        let name = match rest.rfind(", compilation failed") {
            Some(end) => &rest[..end],
            None => rest.trim_end_matches('.'),
        };
        return (!name.is_empty()).then_some(PapyrusLine::NoOutput(name));
    }
    if let Some(rest) = line.strip_prefix("Starting ") {
        let (threads, rest) = leading_number(rest)?;
        let rest = rest.strip_prefix(" compile threads for ")?;
        let (files, rest) = leading_number(rest)?;
        rest.starts_with(" file")
            .then_some(PapyrusLine::BatchStarted { threads, files })
    } else if let Some(rest) = line.strip_prefix("Batch compile of ") {
        let (files, rest) = leading_number(rest)?;
        let rest = rest.strip_prefix(" files finished. ")?;
        let (succeeded, rest) = leading_number(rest)?;
        let rest = rest.strip_prefix(" succeeded, ")?;
        let (failed, rest) = leading_number(rest)?;
        rest.starts_with(" failed")
            .then_some(PapyrusLine::BatchFinished(CompilerSummary {
                files,
                succeeded,
                failed,
            }))
    } else {
        None
    }
}

/// Reads an error or warning, or `None` when the line is plain log.
pub(crate) fn diagnostic_line(stream: LogStream, line: &str) -> Option<Diagnostic> {
    let line = line.trim();
    parenthesised(stream, line)
        .or_else(|| colon_separated(line))
        .or_else(|| bare(line))
        .map(Found::into_diagnostic)
}

/// A diagnostic still borrowing its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found<'a> {
    severity: Severity,
    file: Option<&'a str>,
    line: u32,
    column: u32,
    code: Option<&'a str>,
    message: &'a str,
}

impl Found<'_> {
    fn into_diagnostic(self) -> Diagnostic {
        let message = without_project_suffix(self.message);
        Diagnostic {
            severity: self.severity,
            file: self.file.map(str::to_owned),
            line: (self.line > 0).then_some(self.line),
            column: (self.column > 0).then_some(self.column),
            code: self.code.map(str::to_owned),
            message: message.to_owned(),
            log_line: None,
        }
    }
}

/// MSBuild ends each diagnostic with the project it belongs to, ` [C:\x\Helper.vcxproj]`;
/// that is noise next to the file the diagnostic names, so it is dropped.
fn without_project_suffix(message: &str) -> &str {
    let Some(inner) = message.strip_suffix(']') else {
        return message;
    };
    match inner.rfind(" [") {
        Some(open) if inner.len() >= 4 && is_project_file(&inner[open + 2..]) => {
            message[..open].trim_end()
        }
        _ => message,
    }
}

/// True for an MSBuild project file name (`.vcxproj`, `.csproj`, `.proj`, ...).
fn is_project_file(path: &str) -> bool {
    path.len() >= 4
        && path.is_char_boundary(path.len() - 4)
        && path[path.len() - 4..].eq_ignore_ascii_case("proj")
}

/// `path(line[,col]): message` or `path(line:col): message`. A path may itself hold
/// parentheses (`C:\Program Files (x86)\...`), so every `(` is tried in turn.
fn parenthesised(stream: LogStream, line: &str) -> Option<Found<'_>> {
    let mut from = 0;
    while let Some(offset) = line[from..].find('(') {
        let open = from + offset;
        from = open + 1;
        let path = &line[..open];
        let Some((position, rest)) = position_in_parens(&line[open + 1..]) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        if !looks_like_path(path) {
            continue;
        }
        let rest = rest.trim_start();
        let (severity, code, message) = match severity_head(rest) {
            Some(head) => head,
            None if is_papyrus_source(path) || stream == LogStream::Stderr => {
                (Severity::Error, None, rest)
            }
            None => return None,
        };
        return Some(Found {
            severity,
            file: Some(path),
            line: position.0,
            column: position.1,
            code,
            message,
        });
    }
    None
}

/// `12,8)`, `12:8)` or `12)` at the start of `text`: the position and what follows `)`.
fn position_in_parens(text: &str) -> Option<((u32, u32), &str)> {
    let (line, rest) = leading_number(text)?;
    if let Some(rest) = rest.strip_prefix(')') {
        return Some(((line, 0), rest));
    }
    let rest = rest.strip_prefix([',', ':'])?;
    let (column, rest) = leading_number(rest)?;
    Some(((line, column), rest.strip_prefix(')')?))
}

/// `path:line[:col]: error: message`, the Unix form. It needs the severity keyword, or a
/// clock time (`10:20:30: done`) would pass for a position in file `10`.
fn colon_separated(line: &str) -> Option<Found<'_>> {
    let mut from = 0;
    while let Some(offset) = line[from..].find(':') {
        let colon = from + offset;
        from = colon + 1;
        let Some((number, rest)) = leading_number(&line[colon + 1..]) else {
            continue;
        };
        let (column, rest) = match rest.strip_prefix(':').and_then(leading_number) {
            Some((column, rest)) => (column, rest),
            None => (0, rest),
        };
        let Some(rest) = rest.strip_prefix(':') else {
            continue;
        };
        let path = &line[..colon];
        if !looks_like_path(path) {
            continue;
        }
        let (severity, code, message) = severity_head(rest.trim_start())?;
        return Some(Found {
            severity,
            file: Some(path),
            line: number,
            column,
            code,
            message,
        });
    }
    None
}

/// `error: message` and its kin at the start of a line, with no file.
fn bare(line: &str) -> Option<Found<'_>> {
    let (severity, code, message) = severity_head(line)?;
    Some(Found {
        severity,
        file: None,
        line: 0,
        column: 0,
        code,
        message,
    })
}

/// Longest code accepted in `error CODE:`; real ones (`C4996`, `CS0103`, `LNK2019`) are
/// under ten characters, and a longer word is more likely part of a sentence.
const MAX_CODE_LEN: usize = 16;

/// Reads `error: `, `fatal error: `, `warning CODE: ` or `error[CODE]: ` (keywords in any
/// case) at the start of `text`: the severity, the code and the message after it.
fn severity_head(text: &str) -> Option<(Severity, Option<&str>, &str)> {
    let text = strip_prefix_ignore_case(text, "fatal ").unwrap_or(text);
    let (severity, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "error") {
        (Severity::Error, rest)
    } else {
        (
            Severity::Warning,
            strip_prefix_ignore_case(text, "warning")?,
        )
    };

    let (code, rest) = if let Some(rest) = rest.strip_prefix(':') {
        (None, rest)
    } else if let Some(rest) = rest.strip_prefix('[') {
        let end = rest.find("]:")?;
        (Some(&rest[..end]), &rest[end + 2..])
    } else {
        let rest = rest.strip_prefix(' ')?;
        let end = rest.find(':')?;
        let code = &rest[..end];
        if !looks_like_code(code) {
            return None;
        }
        (Some(code), &rest[end + 1..])
    };
    Some((severity, code, rest.trim()))
}

/// A code is one short token with a digit in it (`C4996`) or all capitals (`X`, `LNK`), so
/// that `Error opening file: x` is not read as code `opening`.
fn looks_like_code(code: &str) -> bool {
    let token = !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let distinctive =
        code.bytes().any(|b| b.is_ascii_digit()) || code.bytes().all(|b| !b.is_ascii_lowercase());
    token && distinctive
}

/// Paths hold spaces and any letters, but do not start or end with a space, and have a
/// separator or an extension; that keeps `Compiling (3): x` and the like out.
fn looks_like_path(path: &str) -> bool {
    let trimmed = path.trim();
    !trimmed.is_empty() && trimmed.len() == path.len() && path.contains(['/', '\\', '.'])
}

/// True for a `.psc` file, the Papyrus source extension, in any case.
fn is_papyrus_source(path: &str) -> bool {
    path.len() >= 4
        && path.is_char_boundary(path.len() - 4)
        && path[path.len() - 4..].eq_ignore_ascii_case(".psc")
}

/// `text` without `prefix`, compared ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// A decimal number at the start of `text` and what follows it; `None` when there are no
/// digits or the number does not fit a `u32`.
fn leading_number(text: &str) -> Option<(u32, &str)> {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let number = text[..end].parse().ok()?;
    Some((number, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: Option<&str>, line: Option<u32>, column: Option<u32>, msg: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.map(str::to_owned),
            line,
            column,
            code: None,
            message: msg.to_owned(),
            log_line: None,
        }
    }

    #[test]
    fn reads_the_papyrus_lines() {
        assert_eq!(
            papyrus_line("Starting 4 compile threads for 12 files..."),
            Some(PapyrusLine::BatchStarted {
                threads: 4,
                files: 12
            })
        );
        assert_eq!(
            papyrus_line("Compiling \"DLC03:TrapBear\"..."),
            Some(PapyrusLine::Compiling("DLC03:TrapBear"))
        );
        assert_eq!(
            papyrus_line("No output generated for RüstungQuest, compilation failed.\r"),
            Some(PapyrusLine::NoOutput("RüstungQuest"))
        );
        assert_eq!(
            papyrus_line("Batch compile of 2 files finished. 1 succeeded, 1 failed."),
            Some(PapyrusLine::BatchFinished(CompilerSummary {
                files: 2,
                succeeded: 1,
                failed: 1
            }))
        );
        for plain in [
            "Compiling \"\"...",
            "Starting assembly of Foo",
            "Assembly succeeded",
        ] {
            assert_eq!(papyrus_line(plain), None, "{plain}");
        }
    }

    #[test]
    fn reads_papyrus_errors_in_both_position_forms() {
        let path = r"C:\Mods\Scripts\Source\User\MyQuestScript.psc";
        let expected = error(Some(path), Some(12), Some(8), "variable Foo is undefined");
        for line in [
            format!("{path}(12,8): variable Foo is undefined"),
            format!("{path}(12:8): variable Foo is undefined"),
        ] {
            assert_eq!(
                diagnostic_line(LogStream::Stdout, &line),
                Some(expected.clone())
            );
        }
    }

    #[test]
    fn zero_position_is_a_file_level_error() {
        let found = diagnostic_line(LogStream::Stderr, "D:/Mods/Quest.psc(0,0): bad flags");
        assert_eq!(
            found,
            Some(error(Some("D:/Mods/Quest.psc"), None, None, "bad flags"))
        );
    }

    #[test]
    fn a_parenthesis_inside_the_path_is_skipped() {
        let line = r"C:\Program Files (x86)\Fallout 4\Ölwerk Quest.psc(3,1): mismatched input";
        let path = r"C:\Program Files (x86)\Fallout 4\Ölwerk Quest.psc";
        assert_eq!(
            diagnostic_line(LogStream::Stderr, line),
            Some(error(Some(path), Some(3), Some(1), "mismatched input"))
        );
    }

    #[test]
    fn reads_other_tools_forms_with_severity_and_code() {
        use Severity::{Error, Warning};
        let cases = [
            (
                "src/a b.c:12:3: error: expected ';'",
                Error,
                Some("src/a b.c"),
                12,
                3,
                None,
            ),
            (
                r"C:\x\y.cpp:7: warning: msg",
                Warning,
                Some(r"C:\x\y.cpp"),
                7,
                0,
                None,
            ),
            (
                "lib.rs(12): warning X: msg",
                Warning,
                Some("lib.rs"),
                12,
                0,
                Some("X"),
            ),
            (
                "a.cs(4,9): error CS0103: msg",
                Error,
                Some("a.cs"),
                4,
                9,
                Some("CS0103"),
            ),
            (
                r"b.cpp(4): error C2065: msg [C:\x\H.vcxproj]",
                Error,
                Some("b.cpp"),
                4,
                0,
                Some("C2065"),
            ),
            ("error[E0425]: msg", Error, None, 0, 0, Some("E0425")),
            ("  Fatal error: msg", Error, None, 0, 0, None),
            ("WARNING: msg", Warning, None, 0, 0, None),
        ];
        for (line, severity, file, number, column, code) in cases {
            let message = if line.ends_with("';'") {
                "expected ';'"
            } else {
                "msg"
            };
            let expected = Diagnostic {
                severity,
                file: file.map(str::to_owned),
                line: (number > 0).then_some(number),
                column: (column > 0).then_some(column),
                code: code.map(str::to_owned),
                message: message.to_owned(),
                log_line: None,
            };
            assert_eq!(
                diagnostic_line(LogStream::Stdout, line),
                Some(expected),
                "{line}"
            );
        }
    }

    #[test]
    fn plain_lines_stay_plain() {
        for line in [
            "Papyrus Compiler Version 2.8.0.4 for Fallout 4",
            "0 error(s), 0 warning(s)",
            "errors: 3",
            "Error opening file: x",
            "10:20:30: packed 12 files",
            "Compiling (3): textures",
            "notes.txt(3): just a remark",
            "",
        ] {
            assert_eq!(diagnostic_line(LogStream::Stdout, line), None, "{line}");
        }
    }

    #[test]
    fn keywordless_parenthesised_line_on_stderr_is_an_error() {
        assert_eq!(
            diagnostic_line(LogStream::Stderr, "notes.txt(3): broken"),
            Some(error(Some("notes.txt"), Some(3), None, "broken"))
        );
    }
}
