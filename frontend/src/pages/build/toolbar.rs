//! The Build panel's toolbar: profile picker, start / re-run / cancel, the log-file
//! follower, and the editor for build profiles.

use std::collections::BTreeMap;

use leptos::prelude::*;
use mossy_protocol::build::{BuildProfile, BuildSource, BuildStatus, BuildUpdate, BuildView};

use crate::ipc;

/// Profile picker, start / re-run / cancel, the profile editor and the log-file follower.
#[component]
pub(super) fn Toolbar(
    update: RwSignal<Option<BuildUpdate>>,
    shown: Memo<Option<BuildView>>,
    picked: RwSignal<Option<BuildView>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let profiles = Memo::new(move |_| {
        update.with(|u| u.as_ref().map(|u| u.profiles.clone()).unwrap_or_default())
    });
    let chosen = RwSignal::new(String::new());
    // Keep the choice valid as profiles come and go.
    Effect::new(move |_| {
        let names: Vec<String> = profiles.get().into_iter().map(|p| p.name).collect();
        if !names.contains(&chosen.get_untracked()) {
            chosen.set(names.first().cloned().unwrap_or_default());
        }
    });
    let editing = RwSignal::new(false);
    let follow_path = RwSignal::new(String::new());

    let start = move |name: String| {
        picked.set(None);
        leptos::task::spawn_local(async move {
            if let Err(err) = ipc::build_start(&name).await {
                error.set(Some(err.message));
            }
        });
    };
    let running =
        move || shown.with(|v| v.as_ref().is_some_and(|v| v.status == BuildStatus::Running));
    let rerun_name = move || {
        shown.with(|v| match v.as_ref().map(|v| &v.source) {
            Some(BuildSource::Profile { name }) => Some(name.clone()),
            _ => None,
        })
    };
    let cancel = move |_| {
        if let Some(id) = shown.with_untracked(|v| v.as_ref().map(|v| v.id)) {
            leptos::task::spawn_local(async move {
                if let Err(err) = ipc::build_cancel(id).await {
                    error.set(Some(err.message));
                }
            });
        }
    };
    let follow_file = move || {
        let path = follow_path.get_untracked();
        if path.trim().is_empty() {
            error.set(Some("Type the full path of a log file to follow.".into()));
            return;
        }
        picked.set(None);
        leptos::task::spawn_local(async move {
            match ipc::build_follow_log(&path).await {
                Ok(_) => follow_path.set(String::new()),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };

    view! {
        <div class="build-toolbar">
            <div class="toolbar-row">
                <label class="sr-only" for="profile-select">"Build profile"</label>
                <select
                    id="profile-select"
                    prop:value=move || chosen.get()
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                    disabled=move || profiles.with(Vec::is_empty)
                >
                    {move || {
                        let list = profiles.get();
                        if list.is_empty() {
                            view! { <option value="">"No profiles yet"</option> }.into_any()
                        } else {
                            list.into_iter()
                                .map(|p| {
                                    let name = p.name.clone();
                                    view! { <option value=name.clone()>{name.clone()}</option> }
                                })
                                .collect_view()
                                .into_any()
                        }
                    }}
                </select>
                <button
                    id="build-start"
                    class="primary"
                    disabled=move || chosen.with(String::is_empty)
                    on:click=move |_| start(chosen.get_untracked())
                >"Start"</button>
                {move || rerun_name().map(|name| view! {
                    <button id="build-rerun" disabled=running on:click=move |_| start(name.clone())>
                        "Re-run"
                    </button>
                })}
                <button id="build-cancel" disabled=move || !running() on:click=cancel>
                    "Cancel"
                </button>
                <button id="profiles-edit" on:click=move |_| editing.update(|e| *e = !*e)>
                    {move || if editing.get() { "Close profiles" } else { "Profiles…" }}
                </button>
            </div>
            <form
                class="toolbar-row"
                on:submit=move |ev| {
                    ev.prevent_default();
                    follow_file();
                }
            >
                <input
                    id="follow-path"
                    class="path-input"
                    type="text"
                    placeholder="Follow a log file: full path, e.g. …\\Logs\\Script\\Papyrus.0.log"
                    prop:value=move || follow_path.get()
                    on:input=move |ev| follow_path.set(event_target_value(&ev))
                />
                <button id="follow-start" type="submit">"Follow"</button>
            </form>
            {move || editing.get().then(|| view! {
                <ProfileEditor profiles=profiles chosen=chosen error=error />
            })}
        </div>
    }
}

/// Create, edit and delete build profiles; stored in the settings file by the backend.
#[component]
fn ProfileEditor(
    profiles: Memo<Vec<BuildProfile>>,
    chosen: RwSignal<String>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    // `None` edits a new profile.
    let editing_name = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let program = RwSignal::new(String::new());
    let args = RwSignal::new(String::new());
    let working_dir = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);

    let load = move |profile: Option<BuildProfile>| {
        message.set(None);
        match profile {
            Some(p) => {
                editing_name.set(Some(p.name.clone()));
                name.set(p.name);
                program.set(p.program);
                args.set(p.args.join("\n"));
                working_dir.set(p.working_dir.unwrap_or_default());
                env.set(
                    p.env
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            None => {
                editing_name.set(None);
                for field in [name, program, args, working_dir, env] {
                    field.set(String::new());
                }
            }
        }
    };
    // Start on the chosen profile, if any.
    load(
        profiles
            .get_untracked()
            .into_iter()
            .find(|p| p.name == chosen.get_untracked()),
    );

    let save = move || {
        let mut variables = BTreeMap::new();
        for line in env.get_untracked().lines().filter(|l| !l.trim().is_empty()) {
            match line.split_once('=') {
                Some((key, value)) => {
                    variables.insert(key.trim().to_owned(), value.to_owned());
                }
                None => {
                    message.set(Some(format!("\"{line}\" is not NAME=value.")));
                    return;
                }
            }
        }
        let profile = BuildProfile {
            name: name.get_untracked(),
            program: program.get_untracked(),
            args: args
                .get_untracked()
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            working_dir: Some(working_dir.get_untracked()).filter(|d| !d.trim().is_empty()),
            env: variables,
        };
        let replacing = editing_name.get_untracked();
        leptos::task::spawn_local(async move {
            match ipc::build_save_profile(&profile, replacing.as_deref()).await {
                Ok(()) => {
                    let saved = profile.name.trim().to_owned();
                    editing_name.set(Some(saved.clone()));
                    chosen.set(saved);
                    message.set(Some("Saved.".into()));
                }
                Err(err) => message.set(Some(err.message)),
            }
        });
    };
    let delete = move |_| {
        let Some(old) = editing_name.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match ipc::build_delete_profile(&old).await {
                Ok(()) => load(None),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };

    view! {
        <form
            class="profile-editor"
            on:submit=move |ev| {
                ev.prevent_default();
                save();
            }
        >
            <div class="profile-list">
                {move || profiles.get().into_iter().map(|p| {
                    let label = p.name.clone();
                    let active = {
                        let label = label.clone();
                        move || editing_name.with(|e| e.as_deref() == Some(label.as_str()))
                    };
                    view! {
                        <button type="button" class:active=active on:click=move |_| load(Some(p.clone()))>
                            {label}
                        </button>
                    }
                }).collect_view()}
                <button type="button" id="profile-new" on:click=move |_| load(None)>"+ New profile"</button>
            </div>
            <div class="profile-fields">
                <label>"Name"
                    <input id="profile-name" type="text" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <label>"Program"
                    <input id="profile-program" type="text" class="mono"
                        placeholder="C:\\…\\Papyrus Compiler\\PapyrusCompiler.exe"
                        prop:value=move || program.get()
                        on:input=move |ev| program.set(event_target_value(&ev)) />
                </label>
                <label>"Arguments, one per line"
                    <textarea id="profile-args" class="mono" rows="3" prop:value=move || args.get()
                        on:input=move |ev| args.set(event_target_value(&ev))></textarea>
                </label>
                <label>"Working folder"
                    <input id="profile-dir" type="text" class="mono" prop:value=move || working_dir.get()
                        on:input=move |ev| working_dir.set(event_target_value(&ev)) />
                </label>
                <label>"Environment, NAME=value per line"
                    <textarea id="profile-env" class="mono" rows="2" prop:value=move || env.get()
                        on:input=move |ev| env.set(event_target_value(&ev))></textarea>
                </label>
                <div class="toolbar-row">
                    <button id="profile-save" type="submit" class="primary">"Save profile"</button>
                    {move || editing_name.get().is_some().then(|| view! {
                        <button type="button" class="danger" on:click=delete>"Delete"</button>
                    })}
                    <span class="form-message" role="status">{move || message.get()}</span>
                </div>
            </div>
        </form>
    }
}
