//! The Assets panel: the modder's textures, meshes, plugins and archives, live.
//!
//! The page holds only what is on screen. The backend's stream says when the index changed
//! (a version number) and which folders are chosen; the page then asks again for the count
//! and for the cards in view, by position, newest first. The grid is the shared virtual list
//! with one row of cards as one list row, the number of cards per row following the panel's
//! width, so 50,000 files scroll like fifty. Thumbnails are `<img>` elements pointing at the
//! backend's `thumb://` scheme; only rendered cards ask for theirs.
//!
//! TODO(assets): "Generate previews" for the selected asset (`generate_preview` to Mossy,
//! `generation_progress` and `generation_complete` back) is not built: the bridge protocol
//! has no such messages yet and the simulator does not answer them.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use leptos::ev;
use leptos::html::Div;
use leptos::prelude::*;
use mossy_protocol::assets::{
    AssetDetails, AssetFilter, AssetItem, AssetKind, AssetRoot, AssetsUpdate, RootState,
};

use crate::components::fetched_window::merge_page;
use crate::components::virtual_list::{ListControl, controlled_list};
use crate::{format, ipc};

/// Height of one row of cards, gap included; `.card-row` in the stylesheet uses the same.
const CARD_ROW_PX: f64 = 212.0;

/// Narrowest card, in pixels; the row holds as many as fit.
const MIN_CARD_PX: f64 = 168.0;

/// Space between cards; `.card-row` uses the same gap.
const CARD_GAP_PX: f64 = 12.0;

/// Cards fetched beyond the rendered ones on each side, so small scrolls need no request.
const FETCH_MARGIN: usize = 60;

/// Kinds offered by the filter, with their labels.
const KIND_CHOICES: [(Option<AssetKind>, &str); 6] = [
    (None, "All"),
    (Some(AssetKind::Texture), "Textures"),
    (Some(AssetKind::Mesh), "Meshes"),
    (Some(AssetKind::Plugin), "Plugins"),
    (Some(AssetKind::Archive), "Archives"),
    (Some(AssetKind::Image), "Images"),
];

/// The cards the page holds: positions near the view, for one filter and index version.
#[derive(Clone, Default, PartialEq)]
struct Loaded {
    filter: AssetFilter,
    version: u64,
    items: BTreeMap<usize, AssetItem>,
}

/// What the body of the page shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The first update has not arrived.
    Loading,
    /// The stream could not start.
    Unavailable,
    /// No folder is chosen.
    NoFolders,
    /// The grid.
    Gallery,
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

/// The Assets page.
#[component]
pub fn AssetsPage() -> impl IntoView {
    let update = RwSignal::new(None::<AssetsUpdate>);
    let error = RwSignal::new(None::<String>);
    let subscription = StoredValue::new_local(None::<ipc::Subscription>);
    leptos::task::spawn_local(async move {
        match ipc::subscribe_assets(move |next| update.set(Some(next))).await {
            Ok(sub) => subscription.set_value(Some(sub)),
            Err(err) => error.set(Some(err.message)),
        }
    });
    on_cleanup(move || subscription.set_value(None));

    let version = Memo::new(move |_| update.with(|u| u.as_ref().map(|u| u.version)));
    let roots = Memo::new(move |_| {
        update.with(|u| u.as_ref().map(|u| u.roots.clone()).unwrap_or_default())
    });
    let kind = RwSignal::new(None::<AssetKind>);
    let text = RwSignal::new(String::new());
    let filter = Memo::new(move |_| AssetFilter {
        kind: kind.get(),
        text: text.get(),
    });
    let selected = RwSignal::new(None::<String>);
    let phase = Memo::new(move |_| {
        if update.with(Option::is_none) {
            if error.with(Option::is_none) {
                Phase::Loading
            } else {
                Phase::Unavailable
            }
        } else if roots.with(Vec::is_empty) {
            Phase::NoFolders
        } else {
            Phase::Gallery
        }
    });

    // The count, asked again whenever the filter or the index changes.
    let total = RwSignal::new(None::<usize>);
    Effect::new(move |_| {
        let (Some(asked_version), asked) = (version.get(), filter.get()) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let result = ipc::assets_count(&asked).await;
            if version.get_untracked() != Some(asked_version) || filter.get_untracked() != asked {
                return;
            }
            match result {
                Ok(count) => total.set(Some(count as usize)),
                Err(err) => error.set(Some(err.message)),
            }
        });
    });

    view! {
        <section class="assets-panel">
            <header class="panel-header assets-header">
                <div>
                    <h1>"Assets"</h1>
                    <p class="panel-sub">
                        "Textures, meshes, plugins and archives in your folders, kept up to date."
                    </p>
                </div>
                <FolderBar roots=roots error=error />
            </header>
            {move || error.get().map(|message| view! {
                <div class="error-box" role="alert">
                    <p>{message}</p>
                    <button on:click=move |_| error.set(None)>"Dismiss"</button>
                </div>
            })}
            <FilterBar kind=kind text=text total=total />
            <div class="assets-body">
                // Only a change of phase rebuilds the grid; updates within one keep its scroll.
                {move || match phase.get() {
                    Phase::Loading => {
                        view! { <p class="loading assets-empty">"Loading the gallery…"</p> }
                            .into_any()
                    }
                    Phase::Unavailable => {
                        view! {
                            <p class="empty assets-empty">
                                "The gallery is not available; the message above says why."
                            </p>
                        }
                            .into_any()
                    }
                    Phase::NoFolders => {
                        view! {
                            <div class="assets-empty" id="assets-empty">
                                <p class="empty">
                                    "No folders yet. Paste the full path of a folder above and \
                                     press Add folder: the game's Data folder, a Mod Organizer 2 \
                                     instance folder (its mods and overwrite folders are added), \
                                     or any folder of your work."
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    Phase::Gallery => {
                        view! {
                            <Grid
                                filter=filter
                                version=version
                                total=total
                                roots=roots
                                selected=selected
                                error=error
                            />
                        }
                            .into_any()
                    }
                }}
                <DetailsPane selected=selected version=version error=error />
            </div>
        </section>
    }
}

/// Adding a folder by its path, and the chosen folders with their state.
// TODO(assets): offer a native folder picker; it needs tauri-plugin-dialog, which the app
// does not ship yet, so until then the path is typed or pasted.
#[component]
fn FolderBar(roots: Memo<Vec<AssetRoot>>, error: RwSignal<Option<String>>) -> impl IntoView {
    let path = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let add = move || {
        let typed = path.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match ipc::assets_add_folder(&typed).await {
                Ok(_) => {
                    path.set(String::new());
                    error.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let remove = move |root: String| {
        leptos::task::spawn_local(async move {
            if let Err(err) = ipc::assets_remove_folder(&root).await {
                error.set(Some(err.message));
            }
        });
    };

    view! {
        <div class="folder-bar">
            <form
                class="folder-add"
                on:submit=move |ev| {
                    ev.prevent_default();
                    add();
                }
            >
                <label class="sr-only" for="folder-path">"Folder to add"</label>
                <input
                    id="folder-path"
                    class="path-input"
                    type="text"
                    placeholder="Add a folder: full path of Fallout 4\\Data, an MO2 instance, or any folder"
                    prop:value=move || path.get()
                    on:input=move |ev| path.set(event_target_value(&ev))
                />
                <button id="folder-add" type="submit" class="primary" disabled=move || busy.get()>
                    "Add folder"
                </button>
            </form>
            <ul class="root-list" id="asset-roots">
                <For
                    each=move || roots.get()
                    key=|root| (root.path.clone(), root.state)
                    children=move |root| {
                        let state = state_word(root.state);
                        let path = root.path.clone();
                        view! {
                            <li class="root" data-state=state title=root.path.clone()>
                                <span class="dot"></span>
                                <span class="root-path">{root.path.clone()}</span>
                                <span class="root-state">{state_label(root.state)}</span>
                                <button
                                    class="link root-remove"
                                    title="Stop showing this folder (files stay on disk)"
                                    on:click=move |_| remove(path.clone())
                                >
                                    "Remove"
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </div>
    }
}

fn state_word(state: RootState) -> &'static str {
    match state {
        RootState::Scanning => "scanning",
        RootState::Ready => "ready",
        RootState::Missing => "missing",
    }
}

fn state_label(state: RootState) -> &'static str {
    match state {
        RootState::Scanning => "scanning…",
        RootState::Ready => "watching",
        RootState::Missing => "missing: reconnect the drive or restore the folder",
    }
}

/// Kind chips, the text filter and the number of files matching.
#[component]
fn FilterBar(
    kind: RwSignal<Option<AssetKind>>,
    text: RwSignal<String>,
    total: RwSignal<Option<usize>>,
) -> impl IntoView {
    view! {
        <div class="asset-filters">
            <div class="kind-chips" role="group" aria-label="Kind">
                {KIND_CHOICES
                    .into_iter()
                    .map(|(choice, label)| {
                        view! {
                            <button
                                class="chip"
                                data-kind=choice.map_or("all", kind_word)
                                aria-pressed=move || (kind.get() == choice).to_string()
                                on:click=move |_| kind.set(choice)
                            >
                                {label}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <label class="sr-only" for="asset-search">"Filter by name"</label>
            <input
                id="asset-search"
                type="search"
                placeholder="Filter by name or folder"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <span class="asset-count" id="asset-count">
                {move || match total.get() {
                    Some(1) => "1 file".to_owned(),
                    Some(count) => format!("{count} files"),
                    None => String::new(),
                }}
            </span>
        </div>
    }
}

fn kind_word(kind: AssetKind) -> &'static str {
    match kind {
        AssetKind::Texture => "texture",
        AssetKind::Image => "image",
        AssetKind::Mesh => "mesh",
        AssetKind::Plugin => "plugin",
        AssetKind::Archive => "archive",
        AssetKind::Other => "other",
    }
}

/// The virtualised grid of cards.
#[component]
fn Grid(
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
    let in_flight = StoredValue::new(false);
    let count = Memo::new(move |_| total.get().unwrap_or(0));
    let row_count = Memo::new(move |_| count.get().div_ceil(columns.get()));

    // Ask for the cards in view whenever the view, the filter or the index moves.
    let fetch = move || {
        if in_flight.get_value() {
            return;
        }
        let (Some(version), filter) = (version.get_untracked(), filter.get_untracked()) else {
            return;
        };
        let cards = cards_in(
            range.get_untracked(),
            columns.get_untracked(),
            count.get_untracked(),
        );
        let current = loaded.with_untracked(|l| {
            l.version == version
                && l.filter == filter
                && cards.clone().all(|p| l.items.contains_key(&p))
        });
        let start = cards.start.saturating_sub(FETCH_MARGIN);
        let end = (cards.end + FETCH_MARGIN).min(count.get_untracked());
        if current || start >= end {
            return;
        }
        in_flight.set_value(true);
        leptos::task::spawn_local(async move {
            let result = ipc::assets_page(&filter, start as u64, (end - start) as u64).await;
            in_flight.set_value(false);
            match result {
                Ok(items) => loaded.update(|l| {
                    if l.version != version || l.filter != filter {
                        *l = Loaded {
                            filter,
                            version,
                            items: BTreeMap::new(),
                        };
                    }
                    merge_page(&mut l.items, start, end, FETCH_MARGIN * 4, items);
                }),
                Err(err) => error.set(Some(err.message)),
            }
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

/// The short label drawn in place of a thumbnail for files without one.
fn kind_label(item: &AssetItem) -> String {
    match item.kind {
        AssetKind::Mesh => "NIF".to_owned(),
        AssetKind::Archive => "BA2".to_owned(),
        AssetKind::Plugin => item
            .rel_path
            .rsplit_once('.')
            .map_or("ESP".to_owned(), |(_, ext)| ext.to_ascii_uppercase()),
        AssetKind::Texture | AssetKind::Image | AssetKind::Other => item
            .rel_path
            .rsplit_once('.')
            .map_or("FILE".to_owned(), |(_, ext)| ext.to_ascii_uppercase()),
    }
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

fn plugin_type(master: bool, light: bool) -> &'static str {
    match (master, light) {
        (true, true) => "light master",
        (true, false) => "master",
        (false, true) => "light",
        (false, false) => "plugin",
    }
}

/// A reader's message as a sentence: capital first letter, full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A file size such as `912 B`, `44.0 KB` or `1.3 MB`.
fn file_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let bytes_f = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes_f < KIB * KIB {
        format!("{:.1} KB", bytes_f / KIB)
    } else if bytes_f < KIB * KIB * KIB {
        format!("{:.1} MB", bytes_f / KIB / KIB)
    } else {
        format!("{:.2} GB", bytes_f / KIB / KIB / KIB)
    }
}

/// The selected file: a larger preview and everything its header says.
#[component]
fn DetailsPane(
    selected: RwSignal<Option<String>>,
    version: Memo<Option<u64>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let item = RwSignal::new(None::<Result<AssetItem, String>>);
    // Asked again when the selection or the index changes (the header may arrive later).
    Effect::new(move |previous: Option<Option<String>>| {
        let _ = version.get();
        let now = selected.get();
        if previous.is_some_and(|p| p != now) {
            // Another file: show "reading" rather than the last one's details.
            item.set(None);
        }
        let Some(path) = now.clone() else {
            return now;
        };
        leptos::task::spawn_local(async move {
            let result = ipc::asset_details(&path).await;
            let fresh = Some(result.map_err(|err| err.message));
            // An unchanged file keeps its pane as is: no flicker, no second preview request.
            if selected.get_untracked().as_deref() == Some(path.as_str())
                && item.with_untracked(|shown| *shown != fresh)
            {
                item.set(fresh);
            }
        });
        now
    });
    let open_folder = move |path: String| {
        leptos::task::spawn_local(async move {
            if let Err(err) = ipc::open_asset_folder(&path).await {
                error.set(Some(err.message));
            }
        });
    };

    view! {
        <aside class="asset-details" id="asset-details">
            {move || match item.get() {
                None if selected.with(Option::is_some) => {
                    view! { <p class="loading">"Reading the file…"</p> }.into_any()
                }
                None => {
                    view! { <p class="empty">"Select a file to see its details."</p> }
                        .into_any()
                }
                Some(Err(message)) => view! { <p class="detail-error">{message}</p> }.into_any(),
                Some(Ok(item)) => details_view(item, open_folder).into_any(),
            }}
        </aside>
    }
}

fn details_view(item: AssetItem, open_folder: impl Fn(String) + 'static) -> impl IntoView {
    let preview = item
        .kind
        .has_thumbnail()
        .then(|| ipc::asset_thumb_url(&item, true));
    let failed = RwSignal::new(false);
    let path = item.path.clone();
    let rows = detail_rows(&item);
    view! {
        <div class="detail-preview">
            {match preview {
                Some(url) => view! {
                    <img
                        alt=""
                        src=url
                        class:failed=move || failed.get()
                        on:error=move |_| failed.set(true)
                    />
                    {move || failed.get().then(|| view! {
                        <span class="badge error">"No preview"</span>
                    })}
                }
                    .into_any(),
                None => view! { <span class="kind-label">{kind_label(&item)}</span> }.into_any(),
            }}
        </div>
        <h2 class="detail-name">{item.name().to_owned()}</h2>
        {item.error.as_deref().map(sentence).map(|message| view! {
            <p class="detail-error" role="alert">{message}</p>
        })}
        <dl class="detail-list">
            {rows
                .into_iter()
                .map(|(class, label, value)| view! {
                    <dt>{label}</dt>
                    <dd class=class>{value}</dd>
                })
                .collect_view()}
        </dl>
        {archive_names(&item)}
        <button id="asset-open-folder" on:click=move |_| open_folder(path.clone())>
            "Open folder"
        </button>
    }
}

/// (class, label, value) of each line of the details list.
fn detail_rows(item: &AssetItem) -> Vec<(&'static str, &'static str, String)> {
    let mut rows = vec![
        ("detail-path mono", "Path", item.path.clone()),
        ("detail-kind", "Kind", kind_word(item.kind).to_owned()),
        (
            "detail-size",
            "Size",
            format!("{} ({} bytes)", file_size(item.size), item.size),
        ),
        (
            "detail-modified",
            "Modified",
            format::date_time(item.modified_ms),
        ),
    ];
    let yes_no = |flag: bool| if flag { "yes" } else { "no" }.to_owned();
    match &item.details {
        Some(AssetDetails::Texture(t)) => {
            rows.push(("detail-format", "Format", t.format.clone()));
            rows.push((
                "detail-dimensions",
                "Dimensions",
                format!("{} × {}", t.width, t.height),
            ));
            rows.push(("detail-mips", "Mips", t.mips.to_string()));
            rows.push(("detail-srgb", "sRGB", yes_no(t.srgb)));
            rows.push(("detail-cubemap", "Cubemap", yes_no(t.cubemap)));
            rows.push((
                "detail-header",
                "Header",
                if t.dx10 { "DX10" } else { "legacy" }.to_owned(),
            ));
        }
        Some(AssetDetails::Mesh(m)) => {
            rows.push(("detail-version", "Version", m.version.clone()));
            rows.push((
                "detail-user-version",
                "User version",
                m.user_version.to_string(),
            ));
            if let Some(bsver) = m.bsver {
                rows.push(("detail-bsver", "BS version", bsver.to_string()));
            }
            rows.push(("detail-blocks", "Blocks", m.blocks.to_string()));
        }
        Some(AssetDetails::Plugin(p)) => {
            rows.push((
                "detail-type",
                "Type",
                plugin_type(p.master, p.light).to_owned(),
            ));
            let masters = if p.masters.is_empty() {
                "none".to_owned()
            } else {
                p.masters.join(", ")
            };
            rows.push(("detail-masters", "Masters", masters));
            if let Some(author) = &p.author {
                rows.push(("detail-author", "Author", author.clone()));
            }
            if let Some(records) = p.records {
                rows.push(("detail-records", "Records", records.to_string()));
            }
        }
        Some(AssetDetails::Archive(a)) => {
            rows.push(("detail-version", "Version", a.version.to_string()));
            let kind = match a.archive_kind {
                mossy_protocol::assets::ArchiveKind::General => "general (GNRL)",
                mossy_protocol::assets::ArchiveKind::Textures => "textures (DX10)",
            };
            rows.push(("detail-archive-type", "Type", kind.to_owned()));
            rows.push(("detail-files", "Files", a.file_count.to_string()));
        }
        None => {}
    }
    rows
}

fn archive_names(item: &AssetItem) -> Option<impl IntoView + use<>> {
    let Some(AssetDetails::Archive(archive)) = &item.details else {
        return None;
    };
    let names = archive.first_names.clone();
    (!names.is_empty()).then(|| {
        view! {
            <div class="detail-names">
                <h3>"First files"</h3>
                <ul class="mono">
                    {names.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}
                </ul>
            </div>
        }
    })
}
