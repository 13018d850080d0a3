//! "Generate previews" in the details pane: a prompt for the selected asset, and every
//! request for it with its progress and, once Mossy is done, its images.
//!
//! The requests live in the backend for the whole session; the page only mirrors its
//! stream, so a request sent before switching panels is still there, still moving, when
//! the modder comes back.

use leptos::prelude::*;
use mossy_protocol::previews::{
    MAX_PROMPT_CHARS, PreviewImage, PreviewRequest, PreviewRequestId, PreviewStatus,
};

use crate::ipc;

/// The backend's preview requests, kept up to date while the page is open.
#[derive(Clone, Copy)]
pub(super) struct PreviewFeed {
    /// Every request of this session, newest first.
    requests: RwSignal<Vec<PreviewRequest>>,
    /// Why the stream could not start, if it could not.
    trouble: RwSignal<Option<String>>,
}

impl PreviewFeed {
    /// Starts the stream; it stops when the owner (the page) is cleaned up.
    pub(super) fn start() -> Self {
        let feed = Self {
            requests: RwSignal::new(Vec::new()),
            trouble: RwSignal::new(None),
        };
        let subscription = StoredValue::new_local(None::<ipc::Subscription>);
        leptos::task::spawn_local(async move {
            let on_update = move |update: mossy_protocol::previews::PreviewsUpdate| {
                feed.requests.set(update.requests);
            };
            match ipc::subscribe_previews(on_update).await {
                Ok(sub) => subscription.set_value(Some(sub)),
                Err(err) => feed.trouble.set(Some(err.message)),
            }
        });
        on_cleanup(move || subscription.set_value(None));
        feed
    }
}

/// The prompt box, the button, and the requests for the asset at `asset`.
#[component]
pub(super) fn PreviewRequests(asset: String, feed: PreviewFeed) -> impl IntoView {
    let prompt = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let refusal = RwSignal::new(None::<String>);
    let enlarged = RwSignal::new(None::<(String, String)>);
    let generate = {
        let asset = asset.clone();
        move || {
            let asset = asset.clone();
            let typed = prompt.get_untracked();
            busy.set(true);
            leptos::task::spawn_local(async move {
                match ipc::generate_previews(&asset, &typed).await {
                    Ok(_) => {
                        prompt.set(String::new());
                        refusal.set(None);
                    }
                    Err(err) => refusal.set(Some(err.message)),
                }
                busy.set(false);
            });
        }
    };
    let mine = Memo::new(move |_| {
        feed.requests.with(|all| {
            all.iter()
                .filter(|request| request.asset == asset)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let too_long = move || prompt.with(|text| text.chars().count() > MAX_PROMPT_CHARS);

    view! {
        <section class="previews" id="asset-previews">
            <h3>"Previews"</h3>
            <form
                class="preview-form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    generate();
                }
            >
                <label class="sr-only" for="preview-prompt">"What the previews should show"</label>
                <textarea
                    id="preview-prompt"
                    rows="2"
                    placeholder="Ask Mossy for variations: rusty, snow-covered, Institute white…"
                    prop:value=move || prompt.get()
                    on:input=move |ev| prompt.set(event_target_value(&ev))
                ></textarea>
                <div class="preview-form-row">
                    <span class="preview-limit" class:over=too_long>
                        {move || {
                            format!(
                                "{} / {MAX_PROMPT_CHARS}",
                                prompt.with(|text| text.chars().count()),
                            )
                        }}
                    </span>
                    <button
                        id="preview-generate"
                        type="submit"
                        class="primary"
                        disabled=move || busy.get() || too_long()
                    >
                        "Generate previews"
                    </button>
                </div>
            </form>
            {move || {
                refusal
                    .get()
                    .or_else(|| feed.trouble.get())
                    .map(|message| {
                        view! {
                            <p class="detail-error preview-refusal" role="alert">
                                {message}
                            </p>
                        }
                    })
            }}
            <ul class="preview-requests">
                <For
                    each=move || mine.get()
                    key=|request| {
                        (
                            request.id.clone(),
                            request.status,
                            request.percent.map(f32::to_bits),
                            request.images.len(),
                        )
                    }
                    children=move |request| request_view(request, enlarged)
                />
            </ul>
            {move || {
                enlarged
                    .get()
                    .map(|(url, label)| {
                        view! {
                            <div
                                class="preview-enlarged"
                                id="preview-enlarged"
                                role="dialog"
                                aria-label=label.clone()
                                on:click=move |_| enlarged.set(None)
                            >
                                <img src=url alt=label.clone() />
                                <span class="preview-enlarged-hint">"Click to close"</span>
                            </div>
                        }
                    })
            }}
        </section>
    }
}

fn request_view(
    request: PreviewRequest,
    enlarged: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let percent = request.percent.unwrap_or(0.0).clamp(0.0, 100.0);
    let showing_bar = !matches!(
        request.status,
        PreviewStatus::Complete | PreviewStatus::Failed
    );
    let gallery = (!request.images.is_empty()).then(|| {
        let id = request.id.clone();
        let prompt = request.prompt.clone();
        let thumbs = request
            .images
            .clone()
            .into_iter()
            .enumerate()
            .map(|(n, image)| thumb(&id, &image, format!("{prompt} ({})", n + 1), enlarged))
            .collect_view();
        view! { <div class="preview-gallery">{thumbs}</div> }
    });

    view! {
        <li class="preview-request" data-status=status_word(request.status)>
            <p class="preview-prompt">{request.prompt.clone()}</p>
            <div class="preview-state">
                <span class="preview-status">{status_label(request.status)}</span>
                {showing_bar
                    .then(|| {
                        view! {
                            <progress class="preview-progress" max="100" value=percent></progress>
                            <span class="preview-percent">{format!("{percent:.0}%")}</span>
                        }
                    })}
            </div>
            {request
                .message
                .clone()
                .map(|message| {
                    let class = if request.status == PreviewStatus::Complete {
                        "preview-note"
                    } else {
                        "detail-error preview-error"
                    };
                    view! { <p class=class>{message}</p> }
                })}
            {gallery}
        </li>
    }
}

fn thumb(
    id: &PreviewRequestId,
    image: &PreviewImage,
    label: String,
    enlarged: RwSignal<Option<(String, String)>>,
) -> impl IntoView + use<> {
    let url = ipc::preview_image_url(id, &image.file);
    let open = (url.clone(), label.clone());
    let size = format!("{} × {}", image.width, image.height);
    view! {
        <button
            class="preview-thumb"
            type="button"
            title=format!("{label}, {size}. Click to enlarge.")
            on:click=move |_| enlarged.set(Some(open.clone()))
        >
            <img src=url alt=label.clone() />
        </button>
    }
}

fn status_word(status: PreviewStatus) -> &'static str {
    match status {
        PreviewStatus::Sent => "sent",
        PreviewStatus::Running => "running",
        PreviewStatus::Complete => "complete",
        PreviewStatus::Failed => "failed",
        PreviewStatus::TimedOut => "timed-out",
    }
}

fn status_label(status: PreviewStatus) -> &'static str {
    match status {
        PreviewStatus::Sent => "Waiting for Mossy…",
        PreviewStatus::Running => "Generating",
        PreviewStatus::Complete => "Done",
        PreviewStatus::Failed => "Failed",
        PreviewStatus::TimedOut => "Mossy did not answer",
    }
}
