//! The Tool monitor panel: a card per modding tool and the activity feed.
//!
//! The page subscribes to the backend's tool monitor stream on mount. The first update
//! carries every card and the stored feed; later ones carry the cards and only new feed
//! entries, at most one per animation frame.

use leptos::prelude::*;
use mossy_protocol::ipc::{FeedEntry, FeedKind, ToolCard, ToolId, ToolMonitorUpdate};

use crate::components::virtual_list::virtual_list;
use crate::{format, ipc, perf};

/// Height of one feed row in pixels; `.feed-row` in the stylesheet uses the same value.
const FEED_ROW_PX: f64 = 30.0;

/// Feed entries the page holds; matches the backend's stored bound, so the page shows
/// exactly what survives a restart.
const FEED_LIMIT: usize = 10_000;

#[derive(Clone, PartialEq)]
enum LoadState {
    Loading,
    Ready,
    Failed(String),
}

/// The Tool monitor page.
#[component]
pub fn ToolMonitorPage() -> impl IntoView {
    let cards = RwSignal::new(Vec::<(ToolId, RwSignal<ToolCard>)>::new());
    // Oldest first, so new entries append; the list shows it reversed.
    let feed = RwSignal::new(Vec::<FeedEntry>::new());
    let load = RwSignal::new(LoadState::Loading);
    let subscription = StoredValue::new_local(None::<ipc::Subscription>);
    // Said above the feed: the history kept aside or not stored at all when the app
    // started, and, apart, a write that failed later in the session.
    let notice = RwSignal::new(None::<String>);
    let write_notice = RwSignal::new(None::<String>);

    let subscribe = move || {
        load.set(LoadState::Loading);
        leptos::task::spawn_local(async move {
            let on_update = move |mut update: ToolMonitorUpdate| {
                if let Some(text) = update.feed_notice.take()
                    && write_notice.with_untracked(|shown| shown.as_ref() != Some(&text))
                {
                    write_notice.set(Some(text));
                }
                apply_update(update, cards, feed);
                load.set(LoadState::Ready);
            };
            match ipc::subscribe_tool_monitor(on_update).await {
                Ok(sub) => subscription.set_value(Some(sub)),
                Err(err) => load.set(LoadState::Failed(err.message)),
            }
        });
    };
    subscribe();
    on_cleanup(move || subscription.set_value(None));

    leptos::task::spawn_local(async move {
        match ipc::feed_notice().await {
            Ok(text) => notice.set(text),
            Err(err) => notice.set(Some(format!(
                "Whether the activity history is kept could not be read: {}",
                err.message
            ))),
        }
    });

    let clear = move |_| {
        leptos::task::spawn_local(async move {
            match ipc::clear_feed().await {
                Ok(()) => feed.set(Vec::new()),
                Err(err) => load.set(LoadState::Failed(err.message)),
            }
        });
    };

    let count = Signal::derive(move || feed.with(Vec::len));
    let rows = move |range: std::ops::Range<usize>| {
        feed.with(|entries| {
            let len = entries.len();
            range
                .filter_map(|i| entries.get(len.checked_sub(i + 1)?).cloned())
                .collect()
        })
    };
    let feed_list = virtual_list(count, FEED_ROW_PX, rows, |e: &FeedEntry| e.id, feed_row);

    view! {
        <section class="tool-monitor">
            <header class="panel-header">
                <h1>"Tool monitor"</h1>
                <p class="panel-sub">"Modding tools running on this PC, and those Mossy reports."</p>
            </header>
            {move || match load.get() {
                LoadState::Loading => view! { <p class="loading">"Looking for tools…"</p> }.into_any(),
                LoadState::Failed(message) => view! {
                    <div class="error-box" role="alert">
                        <p>{format!("The tool monitor could not start: {message}")}</p>
                        <button on:click=move |_| subscribe()>"Try again"</button>
                    </div>
                }.into_any(),
                LoadState::Ready => ().into_any(),
            }}
            <div class="tool-cards">
                <For each=move || cards.get() key=|(id, _)| id.clone() let:((_, card))>
                    <ToolCardView card=card />
                </For>
            </div>
            <div class="feed">
                <div class="feed-header">
                    <h2>"Activity"</h2>
                    <span class="feed-count">{move || format!("{} events", count.get())}</span>
                    <button class="quiet" on:click=clear>"Clear"</button>
                </div>
                {move || notice.get().map(|text| view! {
                    <p class="notice-box" id="feed-notice" role="status">{text}</p>
                })}
                {move || write_notice.get().map(|text| view! {
                    <p class="notice-box" id="feed-write-notice" role="status">{text}</p>
                })}
                {move || (count.get() == 0).then(|| view! {
                    <p class="empty">
                        "No activity yet. Start Blender, xEdit or the Creation Kit and it shows here."
                    </p>
                })}
                {feed_list}
            </div>
        </section>
    }
}

/// Folds one stream update into the page's signals, touching only cards that changed.
fn apply_update(
    update: ToolMonitorUpdate,
    cards: RwSignal<Vec<(ToolId, RwSignal<ToolCard>)>>,
    feed: RwSignal<Vec<FeedEntry>>,
) {
    let mut added = Vec::new();
    cards.with_untracked(|existing| {
        for card in update.cards {
            match existing.iter().find(|(id, _)| *id == card.id) {
                Some((_, signal)) => {
                    if signal.with_untracked(|old| *old != card) {
                        signal.set(card);
                    }
                }
                None => added.push((card.id.clone(), RwSignal::new(card))),
            }
        }
    });
    if !added.is_empty() {
        cards.update(|existing| existing.extend(added));
    }

    let reported: Vec<i64> = update
        .feed
        .iter()
        .filter(|entry| entry.kind == FeedKind::Reported)
        .map(|entry| entry.at_ms)
        .collect();
    feed.update(|entries| {
        if update.feed_reset {
            entries.clear();
        }
        // Kept in (time, id) order, as the store returns it after a restart; a Mossy report
        // stamped in the past lands where it belongs, not on top.
        for entry in update.feed.into_iter().rev() {
            let key = (entry.at_ms, entry.id);
            let at = entries.partition_point(|e| (e.at_ms, e.id) <= key);
            entries.insert(at, entry);
        }
        if entries.len() > FEED_LIMIT {
            let excess = entries.len() - FEED_LIMIT;
            entries.drain(..excess);
        }
    });
    perf::record_after_paint(reported);
}

#[component]
fn ToolCardView(card: RwSignal<ToolCard>) -> impl IntoView {
    let id = move || card.with(|c| format!("tool-card-{}", c.id.as_str()));
    let running = move || card.with(ToolCard::is_running);
    let class = move || {
        if running() {
            "tool-card active"
        } else {
            "tool-card"
        }
    };
    let status = move || if running() { "Running" } else { "Not running" };
    let reported = move || card.with(|c| c.reported_by_mossy_at_ms);

    view! {
        <article id=id class=class data-running=move || running().to_string()>
            <header>
                <h3>{move || card.with(|c| c.name.clone())}</h3>
                <span class="status">{status}</span>
            </header>
            <ul class="instances">
                {move || card.with(|c| {
                    c.instances.iter().map(|instance| {
                        let since = format::clock_time(instance.started_at_ms);
                        let full = format::date_time(instance.started_at_ms);
                        view! {
                            <li class="instance" data-pid=instance.pid>
                                <span class="exe">{instance.exe.clone()}</span>
                                <span class="meta">
                                    {format!("pid {} · {} · since ", instance.pid, format::memory(instance.memory_bytes))}
                                    <time title=full>{since}</time>
                                </span>
                            </li>
                        }
                    }).collect_view()
                })}
            </ul>
            {move || reported().map(|at| view! {
                <p class="reported" title=format::date_time(at)>
                    {format!("Reported by Mossy at {}", format::clock_time(at))}
                </p>
            })}
        </article>
    }
}

fn feed_row(entry: FeedEntry) -> impl IntoView {
    let (kind, label) = match entry.kind {
        FeedKind::Started => ("started", "started"),
        FeedKind::Exited => ("exited", "exited"),
        FeedKind::Reported => ("reported", "reported by Mossy"),
        FeedKind::ReportedExited => ("reported-exited", "exited (Mossy)"),
        FeedKind::Crashed => ("crashed", "stopped working"),
    };
    let detail = match (entry.pid, &entry.exe) {
        (Some(pid), Some(exe)) => format!("{exe} · pid {pid}"),
        (Some(pid), None) => format!("pid {pid}"),
        (None, Some(exe)) => exe.clone(),
        (None, None) => String::new(),
    };
    view! {
        <div class="feed-row" data-kind=kind data-tool=entry.tool.0.clone()>
            <time title=format::date_time(entry.at_ms)>{format::clock_time(entry.at_ms)}</time>
            <span class="tool">{entry.tool_name}</span>
            <span class="kind">{label}</span>
            <span class="detail">{detail}</span>
        </div>
    }
}
