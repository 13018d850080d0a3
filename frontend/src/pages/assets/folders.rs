//! Adding a folder by its path or the system's picker, and the chosen folders with their
//! state.

use leptos::prelude::*;
use mossy_protocol::assets::{AssetRoot, RootState};

use crate::ipc;

/// Adding a folder by its path or with the system's picker, and the chosen folders with
/// their state.
#[component]
pub(super) fn FolderBar(
    roots: Memo<Vec<AssetRoot>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
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
    // The picker fills in the path and adds it; a cancelled picker changes nothing.
    let browse = move |_| {
        leptos::task::spawn_local(async move {
            match ipc::pick_folder().await {
                Ok(Some(chosen)) => {
                    path.set(chosen);
                    add();
                }
                Ok(None) => {}
                Err(err) => error.set(Some(err.message)),
            }
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
                <button
                    id="folder-browse"
                    type="button"
                    title="Choose a folder with the system's folder picker"
                    disabled=move || busy.get()
                    on:click=browse
                >
                    "Browse…"
                </button>
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
