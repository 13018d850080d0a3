//! The selected file: a larger preview, everything its header says, and its preview
//! requests.

use leptos::prelude::*;
use mossy_protocol::assets::{AssetDetails, AssetItem};

use super::previews::{PreviewFeed, PreviewRequests};
use super::{file_size, kind_label, kind_word, plugin_type, sentence};
use crate::{format, ipc};

/// The selected file: a larger preview, everything its header says, and its preview
/// requests.
#[component]
pub(super) fn DetailsPane(
    selected: RwSignal<Option<String>>,
    version: Memo<Option<u64>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let item = RwSignal::new(None::<Result<AssetItem, String>>);
    let feed = PreviewFeed::start();
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
                Some(Ok(item)) => details_view(item, open_folder, feed).into_any(),
            }}
        </aside>
    }
}

fn details_view(
    item: AssetItem,
    open_folder: impl Fn(String) + 'static,
    feed: PreviewFeed,
) -> impl IntoView {
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
        <PreviewRequests asset=item.path.clone() feed=feed />
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
