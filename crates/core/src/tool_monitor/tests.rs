//! Tests of the tool monitor through the bus, as the app drives it.

use std::path::Path;
use std::time::Duration;

use mossy_protocol::bridge::{BridgeMessage, EventTime};
use mossy_protocol::ipc::{FeedKind, ToolId, ToolInstance};

use super::*;
use crate::bus::{BUS_CAPACITY, BusEvent, ToolProcess};
use crate::feed::NewFeedEntry;

/// Far longer than a feed batch takes; only reached when a test is failing.
const WAIT: Duration = Duration::from_secs(10);

fn blender(pid: u32, started_at_ms: i64, memory_bytes: u64) -> ToolProcess {
    ToolProcess {
        tool: ToolId("blender".into()),
        pid,
        exe: "blender".into(),
        started_at_ms,
        memory_bytes,
    }
}

fn blender_card(instances: Vec<ToolInstance>, reported_by_mossy_at_ms: Option<i64>) -> ToolCard {
    ToolCard {
        id: ToolId("blender".into()),
        name: "Blender".into(),
        instances,
        reported_by_mossy_at_ms,
    }
}

fn instance(process: &ToolProcess) -> ToolInstance {
    ToolInstance {
        pid: process.pid,
        exe: process.exe.clone(),
        memory_bytes: process.memory_bytes,
        started_at_ms: process.started_at_ms,
    }
}

fn spawn(path: &Path, bus: &Bus) -> ToolMonitorHandle {
    let store = FeedStore::open(path).expect("feed opens");
    ToolMonitor::spawn(Arc::new(ToolTable::builtin()), store, bus).expect("monitor starts")
}

/// Waits for the next update, failing the test instead of hanging.
async fn next(subscription: &mut ToolMonitorSubscription) -> ToolMonitorUpdate {
    tokio::time::timeout(WAIT, subscription.next_update())
        .await
        .expect("an update in time")
}

/// Gathers updates until `count` feed entries arrived; returns the last cards and the
/// entries, newest first, as the window would hold them.
async fn gather_feed(
    subscription: &mut ToolMonitorSubscription,
    count: usize,
) -> (Vec<ToolCard>, Vec<FeedEntry>) {
    let mut feed = Vec::new();
    loop {
        let update = next(subscription).await;
        assert!(!update.feed_reset, "unexpected reset");
        feed.splice(0..0, update.feed);
        if feed.len() >= count {
            return (update.cards, feed);
        }
    }
}

fn summary(feed: &[FeedEntry]) -> Vec<(FeedKind, &str, i64, Option<u32>)> {
    feed.iter()
        .map(|entry| (entry.kind, entry.tool.as_str(), entry.at_ms, entry.pid))
        .collect()
}

#[tokio::test]
async fn first_update_has_every_card_and_the_stored_feed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("feed.sqlite");
    let stored = NewFeedEntry {
        at_ms: 1_000,
        kind: FeedKind::Exited,
        tool: ToolId("xedit".into()),
        tool_name: "xEdit".into(),
        pid: Some(3),
        exe: Some("FO4Edit.exe".into()),
    };
    let stored = FeedStore::open(&path)
        .expect("opens")
        .append(&[stored])
        .expect("appends");

    let monitor = spawn(&path, &Bus::new());
    let update = next(&mut monitor.subscribe()).await;
    let table = ToolTable::builtin();
    let empty_cards: Vec<ToolCard> = table
        .tools()
        .iter()
        .map(|tool| ToolCard {
            id: tool.id.clone(),
            name: tool.name.clone(),
            instances: Vec::new(),
            reported_by_mossy_at_ms: None,
        })
        .collect();
    assert_eq!(
        update,
        ToolMonitorUpdate {
            cards: empty_cards,
            feed: stored,
            feed_reset: true,
            feed_notice: None,
        }
    );
}

#[tokio::test]
async fn process_and_bridge_events_become_cards_and_feed_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let monitor = spawn(&dir.path().join("feed.sqlite"), &bus);
    let mut subscription = monitor.subscribe();
    next(&mut subscription).await;

    let first = blender(10, 1_000, 5);
    let second = blender(11, 2_000, 6);
    bus.publish(BusEvent::ToolStarted(second.clone()));
    bus.publish(BusEvent::ToolStarted(first.clone()));
    bus.publish(BusEvent::BridgeMessageReceived {
        message: BridgeMessage::ToolDetected {
            tool: "blender".into(),
            pid: None,
            at: Some(EventTime::Rfc3339("1970-01-01T00:00:03Z".into())),
        },
        received_at_ms: 9_999,
    });
    bus.publish(BusEvent::ToolExited {
        process: first.clone(),
        noticed_at_ms: 4_000,
    });

    let (cards, feed) = gather_feed(&mut subscription, 4).await;
    assert_eq!(cards[0], blender_card(vec![instance(&second)], Some(3_000)));
    assert_eq!(
        summary(&feed),
        [
            (FeedKind::Exited, "blender", 4_000, Some(10)),
            (FeedKind::Reported, "blender", 3_000, None),
            (FeedKind::Started, "blender", 2_000, Some(11)),
            (FeedKind::Started, "blender", 1_000, Some(10)),
        ]
    );
}

#[tokio::test]
async fn many_events_between_two_calls_come_as_one_update() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let monitor = spawn(&dir.path().join("feed.sqlite"), &bus);
    let mut subscription = monitor.subscribe();
    next(&mut subscription).await;

    for pid in 1..=1_000 {
        bus.publish(BusEvent::BridgeMessageReceived {
            message: BridgeMessage::ToolDetected {
                tool: "Blender".into(),
                pid: Some(pid),
                at: None,
            },
            received_at_ms: i64::from(pid),
        });
    }
    // Let the task and the writer take the whole burst before asking once.
    let written = async {
        while monitor.inner.shared.lock().feed.len() < 1_000 {
            tokio::time::sleep(FEED_WRITE_DELAY).await;
        }
    };
    tokio::time::timeout(WAIT, written)
        .await
        .expect("burst written in time");
    let update = next(&mut subscription).await;
    let feed = update.feed;
    assert_eq!((update.feed_reset, feed.len()), (false, 1_000));
    assert_eq!(
        summary(&feed[..1]),
        [(FeedKind::Reported, "blender", 1_000, Some(1_000))]
    );
    assert_eq!(
        summary(&feed[999..]),
        [(FeedKind::Reported, "blender", 1, Some(1))]
    );
}

#[tokio::test]
async fn subscriptions_are_independent_and_see_a_clear_as_reset() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let monitor = spawn(&dir.path().join("feed.sqlite"), &bus);
    let mut early = monitor.subscribe();
    next(&mut early).await;

    bus.publish(BusEvent::ToolStarted(blender(10, 1_000, 5)));
    let (_, feed) = gather_feed(&mut early, 1).await;
    let mut late = monitor.subscribe();
    let first_of_late = next(&mut late).await;
    assert_eq!((first_of_late.feed_reset, first_of_late.feed), (true, feed));

    monitor.clear_feed().await.expect("clears");
    for subscription in [&mut early, &mut late] {
        let update = next(subscription).await;
        assert_eq!((update.feed_reset, update.feed), (true, Vec::new()));
    }
}

#[tokio::test]
async fn feed_survives_a_restart_of_the_monitor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("feed.sqlite");
    let bus = Bus::new();
    let monitor = spawn(&path, &bus);
    let mut subscription = monitor.subscribe();
    next(&mut subscription).await;
    bus.publish(BusEvent::ToolStarted(blender(10, 1_000, 5)));
    let (_, written) = gather_feed(&mut subscription, 1).await;
    drop(monitor);

    let restarted = spawn(&path, &Bus::new());
    let update = next(&mut restarted.subscribe()).await;
    assert_eq!((update.feed_reset, update.feed), (true, written));
}

// Guards against a lagging bus receiver stopping the monitor or leaving it stale.
#[tokio::test]
async fn keeps_going_after_the_bus_lags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let monitor = spawn(&dir.path().join("feed.sqlite"), &bus);
    let mut subscription = monitor.subscribe();
    next(&mut subscription).await;

    // The test runtime has one thread, so the monitor task runs only when this test awaits:
    // the bus overflows first.
    let last = u64::try_from(BUS_CAPACITY).expect("fits") + 10;
    for memory in 0..=last {
        bus.publish(BusEvent::ToolsPolled {
            running: vec![blender(10, 1_000, memory)],
        });
    }
    // The task catches up in several steps; the last update shows the last event.
    let expected = blender_card(vec![instance(&blender(10, 1_000, last))], None);
    let mut seen = next(&mut subscription).await.cards;
    while seen[0] != expected {
        seen = next(&mut subscription).await.cards;
    }
    assert_eq!(seen[0], expected);
}

// A disk that fills up mid-session: nothing the monitor saw may vanish from the window, and
// the window must be told the history is no longer saved.
#[tokio::test]
async fn a_feed_file_that_stops_taking_writes_keeps_the_session_in_memory_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("feed.sqlite");
    let mut store = FeedStore::open(&path).expect("feed opens");
    let before = store
        .append(&[NewFeedEntry {
            at_ms: 500,
            kind: FeedKind::Exited,
            tool: ToolId("xedit".into()),
            tool_name: "xEdit".into(),
            pid: Some(3),
            exe: Some("FO4Edit.exe".into()),
        }])
        .expect("appends");
    store.stop_growing();
    let bus = Bus::new();
    let monitor =
        ToolMonitor::spawn(Arc::new(ToolTable::builtin()), store, &bus).expect("monitor starts");
    let mut subscription = monitor.subscribe();
    let first = next(&mut subscription).await;
    assert_eq!((first.feed, first.feed_notice), (before.clone(), None));

    // More than fits in the file's last page, so some batch has to grow it.
    let started: u32 = 400;
    for pid in 100..100 + started {
        bus.publish(BusEvent::ToolStarted(blender(
            pid,
            i64::from(pid) * 1_000,
            1,
        )));
        if pid % 50 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let mut shown = Vec::new();
    let mut notice = None;
    while shown.len() < started as usize {
        let update = next(&mut subscription).await;
        assert!(!update.feed_reset, "unexpected reset");
        shown.extend(update.feed);
        notice = update.feed_notice.or(notice);
    }
    let notice = notice.expect("the window is told");
    assert!(
        notice.starts_with("The activity history could not be saved (")
            && notice.contains("gone when the app closes"),
        "notice: {notice}"
    );
    let mut pids: Vec<u32> = shown.iter().filter_map(|entry| entry.pid).collect();
    pids.sort_unstable();
    assert_eq!(pids, (100..100 + started).collect::<Vec<_>>());
    let mut ids: Vec<i64> = shown.iter().map(|entry| entry.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), started as usize, "every entry keeps its own id");
    assert!(ids[0] > before[0].id, "no id comes back: {ids:?}");

    // A window opened now gets the whole session and the notice at once.
    let late = next(&mut monitor.subscribe()).await;
    assert_eq!(late.feed.len(), started as usize + 1);
    assert_eq!(late.feed_notice.as_deref(), Some(notice.as_str()));
    let on_disk = FeedStore::open(&path)
        .expect("reopens")
        .latest(1_000)
        .expect("lists")
        .len();
    assert!(
        on_disk < started as usize + 1,
        "the file could not have taken every entry ({on_disk} stored)"
    );

    // Cleared now, the file is cleared too, or the entries would be back after a restart.
    monitor.clear_feed().await.expect("clears");
    assert_eq!(
        FeedStore::open(&path)
            .expect("reopens")
            .latest(1_000)
            .expect("lists"),
        []
    );
}
