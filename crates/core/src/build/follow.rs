//! Following a log file another program writes, such as the game's `Papyrus.0.log`.
//!
//! The file is polled rather than watched: a poll every [`POLL_INTERVAL`] costs one
//! `metadata` call, works the same on every file system (network drives included), and sees
//! the three things that happen to game logs — growth, truncation (the game reopens the log
//! at start) and rotation (`Papyrus.0.log` renamed to `.1.log` and a new `.0` created).
//! A file that disappears is waited for; reading picks up when it comes back.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::LogLine;
use tokio::sync::watch;

use super::output::{AssembledLine, LineAssembler};
use super::runner::DISPLAY_LINE_CAP;
use crate::clock::now_ms;

/// How often the file is looked at.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Most bytes read per poll, so a huge existing log streams in over several polls instead
/// of holding the build's lock for seconds.
const READ_PER_POLL: usize = 4 * 1024 * 1024;

/// Bytes at the start of the file remembered to tell a rewritten file from a grown one:
/// a log reopened by a new game session starts with a new timestamp.
const HEAD_BYTES: usize = 64;

/// What the follower reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FollowEvent {
    /// A complete line of the file.
    Line(LogLine),
    /// Something happened to the file, in words, for the log view.
    Notice(String),
}

/// What identifies "the same file" between polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    #[cfg(unix)]
    inode: u64,
    created: Option<SystemTime>,
}

impl Identity {
    fn of(metadata: &std::fs::Metadata) -> Self {
        Self {
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(metadata),
            created: metadata.created().ok(),
        }
    }
}

/// Reads `path` from its start and then as it grows until `stop` turns true, calling
/// `emit` for every line and notice.
pub(crate) async fn follow(
    path: PathBuf,
    mut stop: watch::Receiver<bool>,
    mut emit: impl FnMut(FollowEvent) + Send,
) {
    let mut reader = Follower::new(path);
    loop {
        reader.poll(&mut emit);
        tokio::select! {
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    reader.finish(&mut emit);
}

/// The reading state between polls.
struct Follower {
    path: PathBuf,
    open: Option<(File, Identity)>,
    position: u64,
    lines: LineAssembler,
    missing_reported: bool,
    buffer: Vec<u8>,
    /// The file's first bytes as read, up to [`HEAD_BYTES`].
    head: Vec<u8>,
}

impl Follower {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            open: None,
            position: 0,
            lines: LineAssembler::new(DISPLAY_LINE_CAP),
            missing_reported: false,
            buffer: vec![0; 64 * 1024],
            head: Vec::new(),
        }
    }

    fn poll(&mut self, emit: &mut impl FnMut(FollowEvent)) {
        let metadata = match std::fs::metadata(&self.path) {
            Ok(metadata) if metadata.is_file() => metadata,
            Ok(_) | Err(_) => {
                if !self.missing_reported {
                    self.missing_reported = true;
                    self.flush(emit);
                    emit(FollowEvent::Notice(format!(
                        "{} is gone; waiting for it to come back",
                        self.path.display()
                    )));
                }
                self.open = None;
                return;
            }
        };
        let identity = Identity::of(&metadata);
        let same_file = self
            .open
            .as_ref()
            .is_some_and(|(_, known)| *known == identity);
        if self.open.is_some() && !same_file {
            self.flush(emit);
            emit(FollowEvent::Notice(
                "the file was replaced; reading the new one".into(),
            ));
            self.open = None;
        }
        if self.open.is_none() {
            match File::open(&self.path) {
                Ok(file) => {
                    if self.missing_reported {
                        emit(FollowEvent::Notice("the file is back; reading it".into()));
                    }
                    self.open = Some((file, identity));
                    self.position = 0;
                    self.head.clear();
                    self.missing_reported = false;
                }
                Err(err) => {
                    if !self.missing_reported {
                        self.missing_reported = true;
                        emit(FollowEvent::Notice(format!("cannot open the file: {err}")));
                    }
                    return;
                }
            }
        }
        if metadata.len() < self.position || !self.same_head() {
            self.flush(emit);
            emit(FollowEvent::Notice(
                "the file was truncated; reading from its start".into(),
            ));
            self.position = 0;
            self.head.clear();
        }
        self.read_new(emit);
        if self.head.len() < HEAD_BYTES {
            self.head = self.read_head();
        }
    }

    /// The file's first bytes (as many as were read so far, at most [`HEAD_BYTES`]).
    fn read_head(&mut self) -> Vec<u8> {
        let want = usize::try_from(self.position)
            .unwrap_or(usize::MAX)
            .min(HEAD_BYTES);
        let Some((file, _)) = self.open.as_mut() else {
            return Vec::new();
        };
        let mut head = vec![0; want];
        match file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut head))
        {
            Ok(()) => head,
            Err(_) => Vec::new(),
        }
    }

    /// False when the start of the file changed since it was read: it was rewritten, even
    /// if it has grown past where reading stopped.
    fn same_head(&mut self) -> bool {
        if self.head.is_empty() {
            return true;
        }
        let known = self.head.clone();
        let now = self.read_head();
        now.len() < known.len() || now[..known.len()] == known[..]
    }

    fn read_new(&mut self, emit: &mut impl FnMut(FollowEvent)) {
        let Some((file, _)) = self.open.as_mut() else {
            return;
        };
        if file.seek(SeekFrom::Start(self.position)).is_err() {
            return;
        }
        let mut budget = READ_PER_POLL;
        while budget > 0 {
            let want = self.buffer.len().min(budget);
            let read = match file.read(&mut self.buffer[..want]) {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            budget -= read;
            self.position += read as u64;
            self.lines.push(&self.buffer[..read], |line| {
                emit(FollowEvent::Line(stamp(line)))
            });
        }
    }

    /// A partial last line is shown when the file goes away or following stops.
    fn flush(&mut self, emit: &mut impl FnMut(FollowEvent)) {
        if let Some(line) = self.lines.finish() {
            emit(FollowEvent::Line(stamp(line)));
        }
    }

    fn finish(&mut self, emit: &mut impl FnMut(FollowEvent)) {
        self.read_new(emit);
        self.flush(emit);
    }
}

fn stamp(line: AssembledLine) -> LogLine {
    LogLine {
        number: 0,
        at_ms: now_ms(),
        stream: LogStream::Stdout,
        text: line.text,
        lossy: line.lossy,
        truncated: line.truncated,
        byte_len: line.byte_len,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Polls by hand so each step of the test is one poll, with no timing involved.
    fn texts(events: &[FollowEvent]) -> Vec<String> {
        events
            .iter()
            .map(|event| match event {
                FollowEvent::Line(line) => line.text.clone(),
                FollowEvent::Notice(notice) => format!("! {notice}"),
            })
            .collect()
    }

    #[test]
    fn growth_truncation_rotation_and_disappearance() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("Papyrus #0 ü.log");
        std::fs::write(&path, "one\ntwo\npar").expect("writes");
        let mut follower = Follower::new(path.clone());
        let mut events = Vec::new();
        follower.poll(&mut |e| events.push(e));
        assert_eq!(texts(&events), ["one", "two"]);

        events.clear();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("opens");
        file.write_all(b"tial\nthree\n").expect("appends");
        follower.poll(&mut |e| events.push(e));
        assert_eq!(texts(&events), ["partial", "three"]);

        events.clear();
        std::fs::write(&path, "new\n").expect("truncates");
        follower.poll(&mut |e| events.push(e));
        assert_eq!(
            texts(&events),
            ["! the file was truncated; reading from its start", "new"]
        );

        events.clear();
        std::fs::rename(&path, dir.path().join("Papyrus.1.log")).expect("rotates");
        std::fs::write(&path, "after rotation\n").expect("recreates");
        follower.poll(&mut |e| events.push(e));
        let seen = texts(&events);
        assert_eq!(seen.last().map(String::as_str), Some("after rotation"));
        assert!(
            seen[0].starts_with("! the file was replaced")
                || seen[0].starts_with("! the file was truncated"),
            "rotation is noticed: {seen:?}"
        );

        events.clear();
        std::fs::remove_file(&path).expect("removes");
        follower.poll(&mut |e| events.push(e));
        follower.poll(&mut |e| events.push(e));
        assert_eq!(
            texts(&events).len(),
            1,
            "reported once: {:?}",
            texts(&events)
        );
        assert!(texts(&events)[0].contains("is gone"));

        events.clear();
        std::fs::write(&path, "back\n").expect("recreates");
        follower.poll(&mut |e| events.push(e));
        assert_eq!(texts(&events), ["! the file is back; reading it", "back"]);
    }

    #[tokio::test]
    async fn follow_stops_when_told_and_shows_the_last_partial_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("log.txt");
        std::fs::write(&path, "a\nb").expect("writes");
        let (stop, stopped) = watch::channel(false);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let task = tokio::spawn(follow(path, stopped, move |e| {
            sink.lock().expect("lock").push(e);
        }));
        tokio::time::sleep(POLL_INTERVAL).await;
        stop.send(true).expect("follower listens");
        task.await.expect("ends");
        assert_eq!(texts(&seen.lock().expect("lock")), ["a", "b"]);
    }
}
