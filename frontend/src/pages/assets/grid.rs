//! The virtualised grid of cards.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use leptos::ev;
use leptos::html::Div;
use leptos::prelude::*;
use mossy_protocol::assets::{
    AssetDetails, AssetFilter, AssetItem, AssetRoot, MAX_FOCUS, RootState, nearest_first,
};

use super::{file_size, kind_label, kind_word, plugin_type, sentence};
use crate::components::virtual_list::{ListControl, controlled_list};
use crate::ipc;

/// Height of one row of cards, gap included; `.card-row` in the stylesheet uses the same.
const CARD_ROW_PX: f64 = 212.0;

/// Narrowest card, in pixels; the row holds as many as fit.
const MIN_CARD_PX: f64 = 168.0;

/// Space between cards; `.card-row` uses the same gap.
const CARD_GAP_PX: f64 = 12.0;

/// Cards fetched behind the rendered ones, so a small scroll back needs no request.
const FETCH_BEHIND: usize = 60;

/// Cards fetched ahead of the rendered ones in the direction of the scroll: about 80 rows,
/// a tenth of a second of a fling through 50,000 files, in one request of a few
/// milliseconds. Rows arrive before the view reaches them, not after it has moved on.
const FETCH_AHEAD: usize = 480;

/// Cards kept around the view; farther ones are dropped, so memory stays flat.
const KEEP_AROUND: usize = FETCH_AHEAD * 2;

/// The cards the page holds: positions near the view, for one filter and index version.
#[derive(Clone, Default, PartialEq)]
struct Loaded {
    filter: AssetFilter,
    version: u64,
    items: BTreeMap<usize, AssetItem>,
    /// Where a short answer showed the list ends, before the count says so: files were
    /// deleted meanwhile. Positions from here on are not asked for again.
    ends_at: Option<usize>,
}

/// One request for cards: the positions, and the filter and index version it is for.
#[derive(Clone, PartialEq)]
struct Asked {
    positions: Range<usize>,
    filter: AssetFilter,
    version: u64,
}

/// One cell of a row of cards.
#[derive(Clone)]
enum Cell {
    /// A file.
    Item(AssetItem),
    /// A file whose row is on the way.
    Pending,
    /// Past the last file: keeps the row's cards their width.
    Empty,
}

/// One rendered row of cards.
#[derive(Clone)]
struct CardRow {
    cells: Vec<Cell>,
    key: String,
}

/// The virtualised grid of cards.
#[component]
pub(super) fn Grid(
    filter: Memo<AssetFilter>,
    version: Memo<Option<u64>>,
    total: RwSignal<Option<usize>>,
    roots: Memo<Vec<AssetRoot>>,
    selected: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let grid = NodeRef::<Div>::new();
    let columns = RwSignal::new(1_usize);
    let measure = move || {
        if let Some(element) = grid.get_untracked() {
            let width = f64::from(element.client_width());
            let fit = ((width + CARD_GAP_PX) / (MIN_CARD_PX + CARD_GAP_PX)).floor();
            columns.set((fit as usize).max(1));
        }
    };
    Effect::new(move |_| {
        if grid.get().is_some() {
            measure();
            request_animation_frame(measure);
        }
    });
    let resize = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let loaded = RwSignal::new(Loaded::default());
    let range = RwSignal::new(0..0_usize);
    let count = Memo::new(move |_| total.get().unwrap_or(0));
    let row_count = Memo::new(move |_| count.get().div_ceil(columns.get()));
    // Which way the view last moved, so rows are fetched ahead of it. At the top it can
    // only go down (a new filter starts there).
    let heading_down = Memo::new(move |previous: Option<&(usize, bool)>| {
        let start = range.get().start;
        let down = match previous {
            _ if start == 0 => true,
            Some(&(before, down)) if start == before => down,
            Some(&(before, _)) => start > before,
            None => true,
        };
        (start, down)
    });
    // The newest request not answered yet. While it will fill the missing cards nearest the
    // view, no other is sent; once the view has moved past it, the next one goes at once.
    let in_flight = StoredValue::new(None::<Asked>);

    // Ask for the cards in view whenever the view, the filter or the index moves.
    let fetch = move || {
        let shown = filter;
        let (Some(version), filter) = (version.get_untracked(), filter.get_untracked()) else {
            return;
        };
        let down = heading_down.get_untracked().1;
        // A new filter or index version first asks for little more than the view, so the
        // first screen comes as soon as it can; the rows ahead follow in the next request.
        let (fresh, ends_at) = loaded.with_untracked(|l| {
            let fresh = l.version == version && l.filter == filter;
            (fresh, if fresh { l.ends_at } else { None })
        });
        let files = count.get_untracked().min(ends_at.unwrap_or(usize::MAX));
        let cards = cards_in(range.get_untracked(), columns.get_untracked(), files);
        let (behind, ahead) = match (fresh, down) {
            (false, _) => (FETCH_BEHIND, FETCH_BEHIND),
            (true, true) => (FETCH_BEHIND, FETCH_AHEAD),
            (true, false) => (FETCH_AHEAD, FETCH_BEHIND),
        };
        let wanted = cards.start.saturating_sub(behind)..(cards.end + ahead).min(files);
        // Only what is missing: the first and last missing positions of the wanted range.
        let missing = loaded.with_untracked(|l| {
            let absent = |p: &usize| !fresh || !l.items.contains_key(p);
            let first = wanted.clone().find(absent)?;
            let last = wanted.clone().rev().find(absent)?;
            Some(first..last + 1)
        });
        let Some(missing) = missing else {
            return;
        };
        // The missing cards nearest the view, up to its far edge: what must come first.
        let urgent = if down {
            missing.start..missing.end.min(cards.end).max(missing.start + 1)
        } else {
            missing.start.max(cards.start).min(missing.end - 1)..missing.end
        };
        let answering = in_flight.with_value(|flight| {
            flight.as_ref().is_some_and(|asked| {
                asked.version == version
                    && asked.filter == filter
                    && asked.positions.start <= urgent.start
                    && urgent.end <= asked.positions.end
            })
        });
        if answering {
            return;
        }
        // The view itself is loaded and only rows ahead are missing: fetch them once fewer
        // than two screens of loaded rows are left before the view reaches them.
        let view_loaded = missing.start >= cards.end || missing.end <= cards.start;
        let runway = if down {
            missing.start.saturating_sub(cards.end)
        } else {
            cards.start.saturating_sub(missing.end)
        };
        if view_loaded && runway > cards.len().max(FETCH_BEHIND) * 2 {
            return;
        }
        let asked = Asked {
            positions: missing.clone(),
            filter: filter.clone(),
            version,
        };
        in_flight.set_value(Some(asked.clone()));
        leptos::task::spawn_local(async move {
            let (start, end) = (missing.start, missing.end);
            let result = ipc::assets_page(&filter, start as u64, (end - start) as u64).await;
            in_flight.update_value(|flight| {
                if flight.as_ref() == Some(&asked) {
                    *flight = None;
                }
            });
            let items = match result {
                Ok(items) => items,
                Err(err) => {
                    error.set(Some(err.message));
                    return;
                }
            };
            // Answers can come back out of order: one for a filter no longer shown, or for
            // an older index than the cards held, is dropped.
            let older = loaded.with_untracked(|l| l.filter == filter && l.version > version);
            if shown.get_untracked() != filter || older {
                return;
            }
            loaded.update(|l| {
                if l.filter != filter || l.version != version {
                    *l = Loaded {
                        filter,
                        version,
                        ..Loaded::default()
                    };
                }
                if items.len() < end - start {
                    l.ends_at = Some(start + items.len());
                }
                let view = cards_in(
                    range.get_untracked(),
                    columns.get_untracked(),
                    count.get_untracked(),
                );
                for (offset, item) in items.into_iter().enumerate() {
                    l.items.insert(start + offset, item);
                }
                let keep = view.start.saturating_sub(KEEP_AROUND)..view.end + KEEP_AROUND;
                l.items.retain(|position, _| keep.contains(position));
            });
        });
    };
    Effect::new(move |_| {
        let _ = (
            range.get(),
            columns.get(),
            count.get(),
            version.get(),
            filter.get(),
        );
        fetch();
    });
    // A response that arrives after the view moved on asks again.
    Effect::new(move |_| {
        loaded.track();
        fetch();
    });

    // The thumbnail pool makes what is in view first, from the middle out.
    let focused = StoredValue::new(Vec::<String>::new());
    Effect::new(move |_| {
        let cols = columns.get();
        let cards = cards_in(range.get(), cols, count.get());
        let paths: Vec<String> = loaded.with(|l| {
            nearest_first(cards, cols)
                .into_iter()
                .filter_map(|position| l.items.get(&position))
                .filter(|item| item.kind.has_thumbnail())
                .take(MAX_FOCUS)
                .map(|item| item.path.clone())
                .collect()
        });
        if paths.is_empty() || focused.with_value(|sent| *sent == paths) {
            return;
        }
        focused.set_value(paths.clone());
        leptos::task::spawn_local(async move {
            // Only an ordering hint: without it thumbnails still come, newest request first.
            if let Err(err) = ipc::assets_focus(&paths).await {
                web_sys::console::warn_1(&format!("mossy-live: {}", err.message).into());
            }
        });
    });

    // A new filter starts at the top, where its newest files are.
    let scroll_to = RwSignal::new(None::<usize>);
    Effect::new(move |previous: Option<AssetFilter>| {
        let now = filter.get();
        if previous.is_some_and(|p| p != now) {
            scroll_to.set(Some(0));
        }
        now
    });

    // Thumbnails the webview could not load, by URL, for the error badge.
    let broken = RwSignal::new(HashSet::<String>::new());
    let rows = move |visible: Range<usize>| {
        let cols = columns.get();
        let count = count.get();
        loaded.with(|l| {
            let fresh = version.get() == Some(l.version) && filter.with(|f| *f == l.filter);
            visible
                .map(|row| card_row(l, fresh, row, cols, count))
                .collect::<Vec<_>>()
        })
    };
    let render = move |row: CardRow| {
        view! {
            <div class="card-row">
                {row
                    .cells
                    .into_iter()
                    .map(|cell| card(cell, selected, broken))
                    .collect_view()}
            </div>
        }
    };
    let list = controlled_list(
        Signal::derive(move || row_count.get()),
        CARD_ROW_PX,
        rows,
        |row: &CardRow| row.key.clone(),
        render,
        ListControl {
            range: Some(range),
            scroll_to: Some(scroll_to),
            ..ListControl::default()
        },
    );

    let scanning = move || roots.with(|r| r.iter().any(|r| r.state == RootState::Scanning));
    view! {
        <div class="assets-grid" id="assets-grid" node_ref=grid>
            {move || (total.get() == Some(0)).then(|| {
                let message = if scanning() {
                    "Scanning your folders…"
                } else if filter.with(|f| f.kind.is_some() || !f.text.trim().is_empty()) {
                    "Nothing matches this filter."
                } else {
                    "These folders hold no files yet."
                };
                view! { <p class="empty assets-empty">{message}</p> }
            })}
            {list}
        </div>
    }
}

/// The card positions of rows `rows` with `cols` cards a row, within `count` cards.
fn cards_in(rows: Range<usize>, cols: usize, count: usize) -> Range<usize> {
    (rows.start * cols).min(count)..(rows.end * cols).min(count)
}

fn card_row(loaded: &Loaded, fresh: bool, row: usize, cols: usize, count: usize) -> CardRow {
    let mut key = format!("{row}/{cols}");
    let cells = (row * cols..(row + 1) * cols)
        .map(|position| {
            if position >= count {
                key.push_str("|-");
                return Cell::Empty;
            }
            // Rows of an older version still show while the new ones are on the way.
            match loaded.items.get(&position) {
                Some(item) => {
                    key.push('|');
                    key.push_str(&item.path);
                    key.push_str(&format!(
                        ":{}:{}:{}",
                        item.modified_ms,
                        item.details.is_some(),
                        item.error.is_some()
                    ));
                    Cell::Item(item.clone())
                }
                None => {
                    key.push_str(if fresh { "|?" } else { "|~" });
                    Cell::Pending
                }
            }
        })
        .collect();
    CardRow { cells, key }
}

fn card(
    cell: Cell,
    selected: RwSignal<Option<String>>,
    broken: RwSignal<HashSet<String>>,
) -> AnyView {
    let item = match cell {
        Cell::Item(item) => item,
        Cell::Pending => return view! { <div class="asset-card pending"></div> }.into_any(),
        Cell::Empty => return view! { <div class="asset-card blank"></div> }.into_any(),
    };
    let path = item.path.clone();
    let is_selected = {
        let path = path.clone();
        move || selected.with(|s| s.as_deref() == Some(path.as_str()))
    };
    let url = item
        .kind
        .has_thumbnail()
        .then(|| ipc::asset_thumb_url(&item, false));
    let thumb_failed = {
        let url = url.clone();
        move || url.as_ref().is_some_and(|u| broken.with(|b| b.contains(u)))
    };
    let header_error = item.error.as_deref().map(sentence);
    let error_title = {
        let header_error = header_error.clone();
        move || {
            header_error
                .clone()
                .unwrap_or_else(|| "The thumbnail could not be made.".to_owned())
        }
    };
    let has_error = {
        let failed = thumb_failed.clone();
        let header = header_error.is_some();
        move || header || failed()
    };
    let texture = match &item.details {
        Some(AssetDetails::Texture(texture)) => Some(texture.clone()),
        _ => None,
    };
    let has_error_class = has_error.clone();
    let label = kind_label(&item);
    let picture = match url {
        Some(url) => {
            let failed_url = url.clone();
            let failed = thumb_failed.clone();
            let failed_label = thumb_failed.clone();
            view! {
                <img
                    loading="lazy"
                    decoding="async"
                    alt=""
                    src=url
                    class:failed=failed
                    on:error=move |_| broken.update(|b| {
                        b.insert(failed_url.clone());
                    })
                />
                {move || failed_label().then(|| view! {
                    <span class="kind-label">{label.clone()}</span>
                })}
            }
            .into_any()
        }
        None => view! { <span class="kind-label">{label}</span> }.into_any(),
    };

    view! {
        <div
            class="asset-card"
            class:selected=is_selected
            class:has-error=has_error_class
            class:missing=item.root_missing
            data-kind=kind_word(item.kind)
            data-name=item.name().to_owned()
            title=item.rel_path.clone()
            tabindex="0"
            on:click=move |_| selected.set(Some(path.clone()))
        >
            <div class="asset-thumb">{picture}</div>
            <div class="asset-name">{item.name().to_owned()}</div>
            <div class="asset-meta">
                <span>{file_size(item.size)}</span>
                {summary(&item).map(|text| view! { <span class="asset-summary">{text}</span> })}
            </div>
            <div class="asset-badges">
                {move || has_error().then(|| view! {
                    <span class="badge error" title=error_title.clone()>"Error"</span>
                })}
                {texture.as_ref().filter(|t| t.normal_map).map(|_| view! {
                    <span class="badge normal">"Normal map"</span>
                })}
                {texture.as_ref().filter(|t| t.cubemap).map(|_| view! {
                    <span class="badge cube">"Cubemap"</span>
                })}
            </div>
        </div>
    }
    .into_any()
}

/// One line about what the header says, for the card.
fn summary(item: &AssetItem) -> Option<String> {
    Some(match item.details.as_ref()? {
        AssetDetails::Texture(t) => format!("{} · {}×{}", t.format, t.width, t.height),
        AssetDetails::Mesh(m) => format!("{} blocks", m.blocks),
        AssetDetails::Plugin(p) => format!(
            "{} · {} master{}",
            plugin_type(p.master, p.light),
            p.masters.len(),
            if p.masters.len() == 1 { "" } else { "s" }
        ),
        AssetDetails::Archive(a) => match a.file_count {
            1 => "1 file".to_owned(),
            count => format!("{count} files"),
        },
    })
}
