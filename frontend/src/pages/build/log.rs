//! The Build panel's log: every line of one build, virtualised, with search, follow-tail
//! and an errors-only filter. Rows are fetched by position for the part on screen.

use std::collections::BTreeMap;

use leptos::prelude::*;
use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::{BuildId, BuildView, LogLine};

use crate::components::fetched_window::merge_page;
use crate::components::virtual_list::{ListControl, controlled_list};
use crate::ipc;

/// Height of one log row in pixels; `.log-row` in the stylesheet uses the same value.
const LOG_ROW_PX: f64 = 20.0;

/// Rows fetched beyond the rendered ones on each side, so small scrolls need no request.
const FETCH_MARGIN: usize = 120;

/// The log rows the page holds: one window of one build's lines.
#[derive(Clone, Default, PartialEq)]
struct LogWindow {
    build: Option<BuildId>,
    problems_only: bool,
    /// Position → line.
    lines: BTreeMap<usize, LogLine>,
}

/// One rendered log row: a line, or a gap while its text is on the way.
#[derive(Clone)]
struct LogRow {
    position: usize,
    line: Option<LogLine>,
}

/// The whole log, virtualised, with search, follow-tail and an errors-only filter.
#[component]
pub(super) fn LogView(
    shown: Memo<Option<BuildView>>,
    problems_only: RwSignal<bool>,
    follow: RwSignal<bool>,
    scroll_to: RwSignal<Option<usize>>,
    selected_line: RwSignal<Option<u64>>,
    go_to_line: impl Fn(u64) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let window = RwSignal::new(LogWindow::default());
    let range = RwSignal::new(0..0_usize);
    let in_flight = StoredValue::new(false);
    let query = RwSignal::new(String::new());
    let search_state = RwSignal::new(None::<String>);

    let build_id = Memo::new(move |_| shown.with(|v| v.as_ref().map(|v| v.id)));
    let total = Memo::new(move |_| {
        shown.with(|v| {
            v.as_ref().map_or(0, |v| {
                if problems_only.get() {
                    v.problem_lines
                } else {
                    v.lines
                }
            })
        }) as usize
    });
    // A different build or view mode starts from an empty window, following the tail.
    Effect::new(move |previous: Option<(Option<BuildId>, bool)>| {
        let now = (build_id.get(), problems_only.get());
        if previous.is_some_and(|p| p != now) {
            window.set(LogWindow {
                build: now.0,
                problems_only: now.1,
                lines: BTreeMap::new(),
            });
            if previous.is_some_and(|p| p.0 != now.0) {
                follow.set(true);
                selected_line.set(None);
                search_state.set(None);
            }
        }
        now
    });
    // Fetch what is on screen whenever the view moves or lines arrive.
    let fetch = move || {
        if in_flight.get_value() {
            return;
        }
        let Some(id) = build_id.get_untracked() else {
            return;
        };
        let only = problems_only.get_untracked();
        let visible = range.get_untracked();
        let total = total.get_untracked();
        let start = visible.start.saturating_sub(FETCH_MARGIN);
        let end = (visible.end + FETCH_MARGIN).min(total);
        let complete = window.with_untracked(|w| {
            w.build == Some(id)
                && w.problems_only == only
                && (visible.start..visible.end.min(total)).all(|p| w.lines.contains_key(&p))
        });
        if complete || start >= end {
            return;
        }
        in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            let result = ipc::build_log_range(id, start as u64, (end - start) as u64, only).await;
            in_flight.set_value(false);
            match result {
                Ok(page) => {
                    window.update(|w| {
                        if w.build != Some(id) || w.problems_only != only {
                            *w = LogWindow {
                                build: Some(id),
                                problems_only: only,
                                lines: BTreeMap::new(),
                            };
                        }
                        merge_page(&mut w.lines, start, end, FETCH_MARGIN * 4, page.lines);
                    });
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    Effect::new(move |_| {
        let _ = (
            range.get(),
            total.get(),
            build_id.get(),
            problems_only.get(),
        );
        fetch();
    });
    // A response that arrives after the view moved on asks again.
    Effect::new(move |_| {
        window.track();
        fetch();
    });

    let rows = move |visible: std::ops::Range<usize>| {
        window.with(|w| {
            visible
                .map(|position| LogRow {
                    position,
                    line: w.lines.get(&position).cloned(),
                })
                .collect::<Vec<_>>()
        })
    };
    let key = move |row: &LogRow| {
        (
            row.position,
            row.line.as_ref().map(|l| l.number),
            build_id.get_untracked().map(|b| b.0),
        )
    };
    let render = move |row: LogRow| log_row(row, selected_line);
    let list = controlled_list(
        Signal::derive(move || total.get()),
        LOG_ROW_PX,
        rows,
        key,
        render,
        ListControl {
            scroll_to: Some(scroll_to),
            follow_tail: Some(follow),
            range: Some(range),
        },
    );

    let search = move |backwards: bool| {
        let text = query.get_untracked();
        let Some(id) = build_id.get_untracked() else {
            return;
        };
        if text.is_empty() {
            search_state.set(None);
            return;
        }
        let from = selected_line.get_untracked().unwrap_or(0);
        leptos::task::spawn_local(async move {
            match ipc::build_search(id, &text, from, backwards).await {
                Ok(Some(number)) => {
                    search_state.set(Some(format!("line {number}")));
                    go_to_line(number);
                }
                Ok(None) => search_state.set(Some("no match".into())),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };

    view! {
        <div class="log-view">
            <div class="log-toolbar">
                <form
                    class="search"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        search(false);
                    }
                >
                    <input
                        id="log-search"
                        type="search"
                        placeholder="Search the log"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                    />
                    <button type="button" id="search-prev" title="Previous match" on:click=move |_| search(true)>"↑"</button>
                    <button type="submit" id="search-next" title="Next match">"↓"</button>
                    <span class="search-state" id="search-state">{move || search_state.get()}</span>
                </form>
                <span class="spacer"></span>
                <label class="check">
                    <input
                        id="errors-only"
                        type="checkbox"
                        prop:checked=move || problems_only.get()
                        on:change=move |ev| problems_only.set(event_target_checked(&ev))
                    />
                    "Errors and warnings only"
                </label>
                <label class="check">
                    <input
                        id="follow-tail"
                        type="checkbox"
                        prop:checked=move || follow.get()
                        on:change=move |ev| follow.set(event_target_checked(&ev))
                    />
                    "Follow"
                </label>
            </div>
            <div class="log-lines" id="build-log">
                {move || (total.get() == 0).then(|| view! {
                    <p class="empty log-empty">{move || if shown.with(Option::is_some) {
                        if problems_only.get() { "No errors or warnings." } else { "No output yet." }
                    } else {
                        "The log shows here."
                    }}</p>
                })}
                {list}
            </div>
        </div>
    }
}

fn log_row(row: LogRow, selected_line: RwSignal<Option<u64>>) -> impl IntoView {
    match row.line {
        None => view! {
            <div class="log-row pending"><span class="ln">{row.position + 1}</span><span class="text">"…"</span></div>
        }
        .into_any(),
        Some(line) => {
            let number = line.number;
            let mut class = String::from("log-row");
            if line.stream == LogStream::Stderr {
                class.push_str(" stderr");
            }
            let marks = match (line.lossy, line.truncated) {
                (false, false) => None,
                (lossy, truncated) => {
                    let mut text = Vec::new();
                    if lossy {
                        text.push("not valid UTF-8, shown with replacement marks".to_owned());
                    }
                    if truncated {
                        text.push(format!(
                            "cut for display: the full line is {} long",
                            size(line.byte_len)
                        ));
                    }
                    Some(text.join("; "))
                }
            };
            view! {
                <div
                    class=class
                    class:selected=move || selected_line.get() == Some(number)
                    data-line=number
                    on:click=move |_| selected_line.set(Some(number))
                >
                    <span class="ln">{number}</span>
                    <span class="text">{line.text}</span>
                    {marks.map(|m| view! { <span class="mark" title=m.clone()>{if line.truncated { "✂ cut" } else { "� lossy" }}</span> })}
                </div>
            }
            .into_any()
        }
    }
}

/// A byte count such as `10.0 MB`.
fn size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MB", b / KIB / KIB)
    } else if b >= KIB {
        format!("{:.1} KB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}
