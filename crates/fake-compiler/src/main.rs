//! `mossy-fake-compiler`: stands in for the Papyrus compiler and other build tools, so the
//! build runner's tests can run a real child process with known output.
//!
//! ```text
//! mossy-fake-compiler replay FILE [DELAY_MS]   play a transcript (see below)
//! mossy-fake-compiler lines N                   print N numbered lines to stdout, fast
//! mossy-fake-compiler rate PER_SECOND SECONDS   print numbered lines at a steady pace;
//!                                               every 1000th is a Papyrus error on stderr
//!                                               (MOSSY_FAKE_ERROR_EVERY=N changes 1000; 0: none)
//! mossy-fake-compiler invalid-utf8              print bytes that are not UTF-8 and a 10 MiB line
//! mossy-fake-compiler grandchild SECONDS        start a child that sleeps; print its pid; wait
//! mossy-fake-compiler sleep SECONDS             sleep
//! mossy-fake-compiler crash                     abort (SIGABRT on Unix)
//! mossy-fake-compiler exit CODE                 print nothing, exit with CODE
//! mossy-fake-compiler show [ARGS...]            print the working folder, args and env
//! ```
//!
//! A transcript (`tests/fixtures/logs/*.log`) has one line of output per line: `O text`
//! goes to stdout, `E text` to stderr, `X code` sets the exit code (0 when absent); lines
//! starting with `#` and blank lines are notes. Each output line is flushed on its own,
//! after `DELAY_MS` milliseconds, so the reader sees it arrive as a compiler would send it.
//!
//! It depends on std alone so it builds in seconds; it is a test tool, not shipped.

use std::io::{self, BufWriter, Write};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Exit code for a bad command line, apart from any code a transcript asks for.
const USAGE_EXIT: u8 = 64;

/// Length of the huge line of `invalid-utf8`: 10 MiB, well over any display cap.
const HUGE_LINE_BYTES: usize = 10 * 1024 * 1024;

/// Environment variable `show` prints, so a test can check the profile's environment.
const SHOWN_ENV: &str = "MOSSY_FAKE_VALUE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |index: usize| args.get(index).map(String::as_str);
    let result = match (arg(0), arg(1)) {
        (Some("replay"), Some(file)) => replay(file, arg(2).map_or(Ok(0), number)),
        (Some("lines"), Some(count)) => number(count).and_then(lines),
        (Some("rate"), Some(per_second)) => match arg(2).map(number) {
            Some(seconds) => number(per_second).and_then(|rate| steady(rate, seconds?)),
            None => Err("rate needs PER_SECOND and SECONDS".to_owned()),
        },
        (Some("invalid-utf8"), None) => invalid_utf8(),
        (Some("grandchild"), Some(seconds)) => grandchild(seconds),
        (Some("sleep"), Some(seconds)) => number(seconds).map(|s| {
            std::thread::sleep(Duration::from_secs(s));
            0
        }),
        (Some("crash"), None) => std::process::abort(),
        (Some("exit"), Some(code)) => number(code),
        (Some("show"), _) => show(&args[1..]),
        _ => Err(format!("usage: see the crate docs; got {args:?}")),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX)),
        Err(message) => {
            eprintln!("mossy-fake-compiler: {message}");
            ExitCode::from(USAGE_EXIT)
        }
    }
}

fn number(text: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// Plays a transcript, returning its exit code.
fn replay(file: &str, delay_ms: Result<u64, String>) -> Result<u64, String> {
    let delay = Duration::from_millis(delay_ms?);
    let text = std::fs::read_to_string(file).map_err(|error| format!("{file}: {error}"))?;
    let mut exit_code = 0;
    for (index, line) in text.lines().enumerate() {
        let mut chars = line.chars();
        let tag = chars.next();
        let rest = chars.as_str();
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        match tag {
            Some(tag @ ('O' | 'E')) => {
                std::thread::sleep(delay);
                let written = if tag == 'O' {
                    let mut out = io::stdout().lock();
                    writeln!(out, "{rest}").and_then(|()| out.flush())
                } else {
                    let mut err = io::stderr().lock();
                    writeln!(err, "{rest}").and_then(|()| err.flush())
                };
                written.map_err(|error| format!("writing: {error}"))?;
            }
            Some('X') => exit_code = number(rest)?,
            Some('#') | None => {}
            Some(tag) => return Err(format!("{file}:{}: unknown tag {tag:?}", index + 1)),
        }
    }
    Ok(exit_code)
}

/// `line 1` to `line N` on stdout, buffered, as fast as the pipe takes them.
fn lines(count: u64) -> Result<u64, String> {
    let mut out = BufWriter::new(io::stdout().lock());
    for number in 1..=count {
        writeln!(out, "line {number}").map_err(|error| format!("writing: {error}"))?;
    }
    out.flush().map_err(|error| format!("writing: {error}"))?;
    Ok(0)
}

/// Lines at `per_second` for `seconds`, written in 10 ms batches so the pace is even; every
/// 1000th line is a compiler error on stderr, as a big batch with a few broken scripts gives.
fn steady(per_second: u64, seconds: u64) -> Result<u64, String> {
    const TICK: Duration = Duration::from_millis(10);
    let total = per_second.saturating_mul(seconds);
    let start = std::time::Instant::now();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut err = io::stderr().lock();
    let error_every = std::env::var("MOSSY_FAKE_ERROR_EVERY")
        .ok()
        .and_then(|every| every.parse::<u64>().ok())
        .unwrap_or(1000);
    let mut written = 0_u64;
    while written < total {
        let due = (start.elapsed().as_secs_f64() * per_second as f64) as u64;
        let due = due.min(total).max(written + 1);
        for number in written + 1..=due {
            let result = if error_every > 0 && number % error_every == 0 {
                writeln!(
                    err,
                    r"C:\Mods\Big Batch\Scripts\Source\User\Script{number}.psc(12,8): variable Foo{number} is undefined"
                )
            } else {
                writeln!(
                    out,
                    "line {number}: Compiling \"Script{number}\"... assembled in 3 ms"
                )
            };
            result.map_err(|error| format!("writing: {error}"))?;
        }
        written = due;
        out.flush().map_err(|error| format!("writing: {error}"))?;
        std::thread::sleep(TICK);
    }
    Ok(0)
}

/// Output a Windows tool in a legacy code page could give, and a runaway line: a Latin-1
/// error on stderr (CRLF), a bad line, a 10 MiB line and a last line with no line ending.
fn invalid_utf8() -> Result<u64, String> {
    let write = || -> io::Result<()> {
        let mut err = io::stderr().lock();
        err.write_all(b"C:\\Mods\\Caf\xe9 Quest.psc(3,1): variable x is undefined\r\n")?;
        err.flush()?;
        let mut out = BufWriter::new(io::stdout().lock());
        out.write_all(b"bad \xff\xfe bytes\n")?;
        out.write_all(&vec![b'x'; HUGE_LINE_BYTES])?;
        out.write_all(b"\nafter the huge line\nno line ending")?;
        out.flush()
    };
    write().map_err(|error| format!("writing: {error}"))?;
    Ok(0)
}

/// Starts `sleep SECONDS` as a child sharing our output and process group, prints
/// `grandchild PID`, then waits for it: a build tool with a helper, for cancel tests.
fn grandchild(seconds: &str) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|error| format!("own path: {error}"))?;
    let mut child = Command::new(exe)
        .args(["sleep", seconds])
        .spawn()
        .map_err(|error| format!("starting the grandchild: {error}"))?;
    let mut out = io::stdout().lock();
    writeln!(out, "grandchild {}", child.id())
        .and_then(|()| out.flush())
        .map_err(|error| format!("writing: {error}"))?;
    let status = child.wait().map_err(|error| format!("waiting: {error}"))?;
    Ok(u64::from(!status.success()))
}

/// The working folder, each argument and [`SHOWN_ENV`], one per line.
fn show(args: &[String]) -> Result<u64, String> {
    let folder = std::env::current_dir().map_err(|error| format!("working folder: {error}"))?;
    let mut out = io::stdout().lock();
    let mut write = || -> io::Result<()> {
        writeln!(out, "cwd {}", folder.display())?;
        for arg in args {
            writeln!(out, "arg {arg}")?;
        }
        let value = std::env::var(SHOWN_ENV).unwrap_or_else(|_| "<unset>".to_owned());
        writeln!(out, "env {SHOWN_ENV}={value}")
    };
    write().map_err(|error| format!("writing: {error}"))?;
    Ok(0)
}
