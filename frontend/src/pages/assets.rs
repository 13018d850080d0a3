//! The Assets panel: the modder's textures, meshes, plugins and archives, live.
//!
//! The page holds only what is on screen. The backend's stream says when the index changed
//! (a version number) and which folders are chosen; the page then asks again for the count
//! and for the cards in view, by position, newest first. The grid ([`grid`]) is the shared
//! virtual list with one row of cards as one list row, the number of cards per row
//! following the panel's width, so 50,000 files scroll like fifty. Thumbnails are `<img>`
//! elements pointing at the backend's `thumb://` scheme; only rendered cards ask for theirs.
//!
//! The details pane ([`details`]) shows the selected file and its preview requests
//! ([`previews`]): a prompt sends `generate_preview` to Mossy, and each request's progress
//! and resulting images follow from the backend's stream, which outlives the page.

mod details;
mod folders;
mod grid;
mod previews;

use leptos::prelude::*;
use mossy_protocol::assets::{AssetFilter, AssetItem, AssetKind, AssetsUpdate};

use crate::ipc;
use details::DetailsPane;
use folders::FolderBar;
use grid::Grid;

/// Kinds offered by the filter, with their labels.
const KIND_CHOICES: [(Option<AssetKind>, &str); 6] = [
    (None, "All"),
    (Some(AssetKind::Texture), "Textures"),
    (Some(AssetKind::Mesh), "Meshes"),
    (Some(AssetKind::Plugin), "Plugins"),
    (Some(AssetKind::Archive), "Archives"),
    (Some(AssetKind::Image), "Images"),
];

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
                                    "No folders yet. Press Browse… to pick a folder, or paste its \
                                     full path above and press Add folder: the game's Data folder, a Mod Organizer 2 \
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
