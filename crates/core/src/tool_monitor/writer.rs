//! The thread that writes the activity feed to SQLite.
//!
//! SQLite calls block, so they run on this dedicated thread rather than on the async
//! workers. Commands arrive over a channel; the thread waits [`FEED_WRITE_DELAY`] after the
//! first one of a batch and then writes everything that came in one transaction, so a
//! burst of a thousand bridge reports a second costs about sixty transactions, not a
//! thousand. Entries reach the window only after their transaction committed, with the ids
//! the store gave them.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::Shared;
use crate::feed::{FEED_CAPACITY, FeedError, FeedStore, NewFeedEntry};

/// How long the writer gathers entries before one transaction. Entries reach the page only
/// after their commit, so this sits in every feed entry's latency: one display frame keeps
/// that within the frame the page would wait for anyway, and still turns a 1,000 messages/s
/// burst into about sixty small WAL transactions a second.
pub const FEED_WRITE_DELAY: Duration = Duration::from_millis(16);

/// What the writer is asked to do, in order.
#[derive(Debug)]
pub(crate) enum WriteCommand {
    /// Append these entries.
    Append(Vec<NewFeedEntry>),
    /// Delete every entry, then say how that went.
    Clear(oneshot::Sender<Result<(), FeedError>>),
}

/// Starts the writer thread; it ends when every sender is dropped, after writing what it
/// was given.
pub(crate) fn spawn_writer(
    store: FeedStore,
    shared: Arc<Shared>,
) -> std::io::Result<mpsc::Sender<WriteCommand>> {
    let (sender, commands) = mpsc::channel();
    thread::Builder::new()
        .name("feed-writer".into())
        .spawn(move || run(store, &commands, &shared))?;
    Ok(sender)
}

fn run(mut store: FeedStore, commands: &mpsc::Receiver<WriteCommand>, shared: &Shared) {
    // The file, once it refused a write and the feed moved to memory: still cleared with
    // the feed, so what the user cleared does not come back after a restart.
    let mut left_file = None;
    while let Ok(first) = commands.recv() {
        let mut batch = vec![first];
        let deadline = Instant::now() + FEED_WRITE_DELAY;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match commands.recv_timeout(left) {
                Ok(command) => batch.push(command),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }

        let mut pending = Vec::new();
        for command in batch {
            match command {
                WriteCommand::Append(entries) => pending.extend(entries),
                WriteCommand::Clear(reply) => {
                    flush(&mut store, &mut left_file, &mut pending, shared);
                    let result = store.clear();
                    if result.is_ok() {
                        clear_left_file(left_file.as_mut(), shared);
                        let mut view = shared.lock();
                        view.feed.clear();
                        view.feed_epoch += 1;
                        drop(view);
                        shared.notify();
                    }
                    // The caller may have given up waiting; the feed is cleared regardless.
                    let _ = reply.send(result);
                }
            }
        }
        flush(&mut store, &mut left_file, &mut pending, shared);
    }
    info!("feed writer stopped");
}

/// Writes `pending` in one transaction and shows the written entries. When the file
/// refuses the write (a full disk, a file gone read-only), the rest of the session is kept
/// in memory, the window is told so, and these entries still show.
fn flush(
    store: &mut FeedStore,
    left_file: &mut Option<FeedStore>,
    pending: &mut Vec<NewFeedEntry>,
    shared: &Shared,
) {
    if pending.is_empty() {
        return;
    }
    let written = store.append(pending).or_else(|err| {
        error!(
            error = %err,
            entries = pending.len(),
            "could not write the activity feed; keeping it in memory from now on"
        );
        let successor = store.in_memory_successor()?;
        let previous = std::mem::replace(store, successor);
        // Only the first move leaves a file behind; should memory ever refuse too, the
        // file is still the one a Clear must reach.
        left_file.get_or_insert(previous);
        shared.lock().feed_notice = Some(format!(
            "The activity history could not be saved ({err}). From now on this session's \
             activity shows here but is gone when the app closes; restarting the app tries \
             the file again."
        ));
        shared.notify();
        store.append(pending)
    });
    match written {
        Ok(appended) => {
            debug!(
                given = pending.len(),
                written = appended.len(),
                "feed batch written"
            );
            if appended.is_empty() {
                pending.clear();
                return;
            }
            let mut view = shared.lock();
            view.feed.extend(appended);
            let excess = view.feed.len().saturating_sub(FEED_CAPACITY);
            view.feed.drain(..excess);
            drop(view);
            shared.notify();
        }
        Err(err) => {
            error!(error = %err, entries = pending.len(), "could not keep the activity feed");
        }
    }
    pending.clear();
}

/// Clears the file the feed left for memory, if it did; when that fails too, the notice
/// says the cleared entries come back at the next start.
fn clear_left_file(left_file: Option<&mut FeedStore>, shared: &Shared) {
    const NOT_CLEARED: &str = "The activity was cleared here but not in the file";
    let Some(Err(err)) = left_file.map(FeedStore::clear) else {
        return;
    };
    warn!(error = %err, "the activity file was not cleared; its entries come back at the next start");
    let mut view = shared.lock();
    let said = view.feed_notice.get_or_insert_default();
    if !said.contains(NOT_CLEARED) {
        said.push_str(&format!(
            " {NOT_CLEARED} ({err}), so it comes back when the app starts again."
        ));
    }
}
