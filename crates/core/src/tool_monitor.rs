//! The tool monitor panel's state: which tools run, and the activity feed.
//!
//! [`ToolMonitor::spawn`] starts a task that reads the bus. Process events from the poller
//! and tool reports from Mossy update one [`ToolCard`] per tool (table tools in table
//! order, then tools only Mossy named) and produce feed entries, which a writer thread
//! stores in the [`FeedStore`] in batches (see [`FEED_WRITE_DELAY`]).
//!
//! The window pulls updates through a [`ToolMonitorSubscription`]: the first
//! [`ToolMonitorSubscription::next_update`] returns at once with every card and the whole
//! stored feed; each later one waits for a change and returns the cards and only the feed
//! entries added since. Everything that happened between two calls comes as one update, so
//! a window asking once per animation frame never falls behind a burst. Each subscription
//! keeps its own place; a cleared feed reaches each as an update with `feed_reset` set.

mod cards;
mod writer;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};

use mossy_protocol::ipc::{FeedEntry, ToolCard, ToolMonitorUpdate};
use tokio::sync::{broadcast::error::RecvError, oneshot, watch};
use tokio::task::AbortHandle;
use tracing::{error, info, warn};

use crate::bus::Bus;
use crate::feed::{FEED_CAPACITY, FeedError, FeedStore};
use crate::tools::ToolTable;
use cards::Cards;
pub use writer::FEED_WRITE_DELAY;
use writer::WriteCommand;

/// Why the tool monitor could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToolMonitorError {
    /// [`ToolMonitor::spawn`] was called outside a tokio runtime.
    #[error("the tool monitor needs a tokio runtime")]
    NoRuntime,
    /// The feed writer thread could not be started.
    #[error("cannot start the feed writer thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The feed store failed.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// The monitor has stopped.
    #[error("the tool monitor has stopped")]
    Stopped,
}

/// Starts the tool monitor; see the module docs.
#[derive(Debug)]
pub struct ToolMonitor;

impl ToolMonitor {
    /// Loads the stored feed, then follows `bus` on a task of the current tokio runtime until
    /// the last handle is dropped or the bus closes.
    pub fn spawn(
        table: Arc<ToolTable>,
        store: FeedStore,
        bus: &Bus,
    ) -> Result<ToolMonitorHandle, ToolMonitorError> {
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|_| ToolMonitorError::NoRuntime)?;
        let feed = match store.latest(FEED_CAPACITY) {
            // Stored newest first; kept here in id order so new entries go at the back.
            Ok(mut feed) => {
                feed.sort_by_key(|entry| entry.id);
                VecDeque::from(feed)
            }
            Err(err) => {
                error!(error = %err, "could not read the stored feed; showing new entries only");
                VecDeque::new()
            }
        };
        let shared = Arc::new(Shared {
            view: Mutex::new(View {
                cards: Cards::new(&table),
                feed,
                feed_epoch: 0,
                feed_notice: None,
            }),
            version: watch::Sender::new(0),
        });
        let writer =
            writer::spawn_writer(store, Arc::clone(&shared)).map_err(ToolMonitorError::Thread)?;

        let mut events = bus.subscribe();
        let task_shared = Arc::clone(&shared);
        let task_writer = writer.clone();
        let task = runtime.spawn(async move {
            info!(tools = table.tools().len(), "tool monitor started");
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(RecvError::Lagged(missed)) => {
                        warn!(
                            missed,
                            "tool monitor fell behind the bus; the next poll corrects the cards"
                        );
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                let (changed, entries) = task_shared.lock().cards.apply(&event, &table);
                if changed {
                    task_shared.notify();
                }
                if !entries.is_empty() && task_writer.send(WriteCommand::Append(entries)).is_err() {
                    error!("feed writer stopped; tool monitor stops");
                    break;
                }
            }
            info!("tool monitor stopped");
        });

        Ok(ToolMonitorHandle {
            inner: Arc::new(Inner {
                shared,
                writer,
                task: task.abort_handle(),
            }),
        })
    }
}

/// The app's handle on the tool monitor; clone it freely. Dropping the last clone stops
/// the monitor; the writer thread then writes what it holds and ends.
#[derive(Debug, Clone)]
pub struct ToolMonitorHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    writer: mpsc::Sender<WriteCommand>,
    task: AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ToolMonitorHandle {
    /// A new, independent stream of updates; its first update carries everything.
    pub fn subscribe(&self) -> ToolMonitorSubscription {
        ToolMonitorSubscription {
            shared: Arc::clone(&self.inner.shared),
            version: self.inner.shared.version.subscribe(),
            started: false,
            feed_epoch: 0,
            last_feed_id: 0,
            last_cards: Vec::new(),
            last_notice: None,
        }
    }

    /// Deletes the stored feed once the entries already given to the writer are written;
    /// every subscription then gets an update with `feed_reset` and an empty feed.
    pub async fn clear_feed(&self) -> Result<(), ToolMonitorError> {
        let (reply, done) = oneshot::channel();
        self.inner
            .writer
            .send(WriteCommand::Clear(reply))
            .map_err(|_| ToolMonitorError::Stopped)?;
        done.await
            .map_err(|_| ToolMonitorError::Stopped)?
            .map_err(ToolMonitorError::Feed)
    }
}

/// One window's stream of [`ToolMonitorUpdate`]s.
#[derive(Debug)]
pub struct ToolMonitorSubscription {
    shared: Arc<Shared>,
    version: watch::Receiver<u64>,
    started: bool,
    feed_epoch: u64,
    last_feed_id: i64,
    last_cards: Vec<ToolCard>,
    last_notice: Option<String>,
}

impl ToolMonitorSubscription {
    /// The first call returns at once with every card and the stored feed (newest first,
    /// `feed_reset` set). Later calls wait until something changed, then return the cards
    /// and the feed entries added since the previous call, newest first. Cancel-safe.
    pub async fn next_update(&mut self) -> ToolMonitorUpdate {
        loop {
            if self.started {
                if self.version.changed().await.is_err() {
                    // The sender lives in `shared`, which this subscription holds.
                    std::future::pending::<()>().await;
                }
            } else {
                self.version.borrow_and_update();
            }
            if let Some(update) = self.take_update() {
                return update;
            }
        }
    }

    /// The update since the last one, or `None` when nothing this window shows changed.
    fn take_update(&mut self) -> Option<ToolMonitorUpdate> {
        let view = self.shared.lock();
        let cards = view.cards.cards();
        let feed_reset = !self.started || view.feed_epoch != self.feed_epoch;
        let mut feed: Vec<FeedEntry> = if feed_reset {
            view.feed.iter().cloned().collect()
        } else {
            let since = self.last_feed_id;
            view.feed
                .iter()
                .rev()
                .take_while(|entry| entry.id > since)
                .cloned()
                .collect()
        };
        if !feed_reset
            && feed.is_empty()
            && cards == self.last_cards.as_slice()
            && view.feed_notice == self.last_notice
        {
            return None;
        }

        self.started = true;
        self.feed_epoch = view.feed_epoch;
        self.last_feed_id = view.feed.back().map_or(self.last_feed_id, |entry| entry.id);
        self.last_cards = cards.to_vec();
        self.last_notice.clone_from(&view.feed_notice);
        drop(view);
        feed.sort_by(|a, b| b.at_ms.cmp(&a.at_ms).then(b.id.cmp(&a.id)));
        Some(ToolMonitorUpdate {
            cards: self.last_cards.clone(),
            feed,
            feed_reset,
            feed_notice: self.last_notice.clone(),
        })
    }
}

/// State shared by the bus task, the writer thread and the subscriptions.
#[derive(Debug)]
struct Shared {
    view: Mutex<View>,
    /// Bumped after every change, so subscriptions wake.
    version: watch::Sender<u64>,
}

#[derive(Debug)]
struct View {
    cards: Cards,
    /// The stored feed, oldest id first, at most [`FEED_CAPACITY`] entries.
    feed: VecDeque<FeedEntry>,
    /// Bumped when the feed is cleared.
    feed_epoch: u64,
    /// Why the feed is no longer written to disk, once a write failed.
    feed_notice: Option<String>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, View> {
        // Every update leaves the view consistent, so a panic elsewhere does not spoil it.
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.version
            .send_modify(|version| *version = version.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests;
