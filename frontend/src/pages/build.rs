//! The Build panel: run and cancel builds, watch their progress, read the whole log and
//! find what broke.
//!
//! The page subscribes to the backend's build stream, which carries the current build's
//! view (status, progress, diagnostics grouped by file, line counts), the history and the
//! profiles, at most once per frame. The log itself never crosses in full: the log view
//! asks for the rows on screen (plus a margin) by position, so a million-line build scrolls
//! like a short one.

// TODO(build): at ~1,000 lines this page is past the size the style guide asks for; split
// it into `pages/build/` (toolbar and profiles, status, log view, problems, history).

use std::collections::BTreeMap;

use leptos::prelude::*;
use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::{
    BuildId, BuildProfile, BuildSource, BuildStatus, BuildSummary, BuildUpdate, BuildView,
    Diagnostic, FileDiagnostics, LogLine, Severity,
};

use crate::components::fetched_window::merge_page;
use crate::components::virtual_list::{ListControl, controlled_list};
use crate::{format, ipc};

/// Height of one log row in pixels; `.log-row` in the stylesheet uses the same value.
const LOG_ROW_PX: f64 = 20.0;

/// Files listed in the Problems panel; the log's errors-only view shows every one.
const PROBLEM_FILES_SHOWN: usize = 200;

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

/// The Build panel page.
#[component]
pub fn BuildPage() -> impl IntoView {
    let update = RwSignal::new(None::<BuildUpdate>);
    let error = RwSignal::new(None::<String>);
    // `None` shows the current build; `Some` a build picked from the history.
    let picked = RwSignal::new(None::<BuildView>);
    let subscription = StoredValue::new_local(None::<ipc::Subscription>);
    // The current build's diagnostics, grouped by file, kept up to date from the deltas.
    let live_files = RwSignal::new(Vec::<FileDiagnostics>::new());

    leptos::task::spawn_local(async move {
        let on_update = move |mut next: BuildUpdate| {
            if let Some(delta) = next.diagnostics.take() {
                live_files.update(|files| {
                    if delta.from == 0 {
                        files.clear();
                    }
                    add_diagnostics(files, delta.items);
                });
            } else if next.current.is_none() {
                live_files.set(Vec::new());
            }
            // A picked build that is still running is refreshed from the backend.
            if let Some(view) = picked.get_untracked()
                && view.status == BuildStatus::Running
            {
                refresh_picked(view.id, picked);
            }
            update.set(Some(next));
        };
        match ipc::subscribe_build(on_update).await {
            Ok(sub) => subscription.set_value(Some(sub)),
            Err(err) => error.set(Some(err.message)),
        }
    });
    on_cleanup(move || subscription.set_value(None));

    let shown = Memo::new(move |_| {
        picked
            .get()
            .or_else(|| update.with(|u| u.as_ref().and_then(|u| u.current.clone())))
    });

    // A clock for elapsed times, ticking only while this page is open.
    let now = RwSignal::new(format::now_ms());
    if let Ok(handle) = set_interval_with_handle(
        move || now.set(format::now_ms()),
        std::time::Duration::from_millis(500),
    ) {
        on_cleanup(move || handle.clear());
    }

    let problems_only = RwSignal::new(false);
    let follow = RwSignal::new(true);
    let scroll_to = RwSignal::new(None::<usize>);
    let selected_line = RwSignal::new(None::<u64>);

    // Jump to a line of the log: all lines shown, the line in the middle, marked.
    let go_to_line = move |number: u64| {
        problems_only.set(false);
        selected_line.set(Some(number));
        scroll_to.set(Some(number.saturating_sub(1) as usize));
    };

    view! {
        <section class="build-panel">
            <header class="panel-header build-header">
                <div>
                    <h1>"Build"</h1>
                    <p class="panel-sub">"Run builds, follow Mossy's, and find what broke."</p>
                </div>
                <Toolbar update=update shown=shown picked=picked error=error />
            </header>
            {move || error.get().map(|message| view! {
                <div class="error-box" role="alert">
                    <p>{message}</p>
                    <button on:click=move |_| error.set(None)>"Dismiss"</button>
                </div>
            })}
            {move || update.with(|u| u.as_ref().and_then(|u| u.notice.clone())).map(|notice| view! {
                <p class="notice">{notice}</p>
            })}
            {move || match shown.get() {
                None => view! {
                    <div class="build-empty">
                        <p class="empty">
                            "No build yet. Pick a profile and press Start, follow a log file, \
                             or start a build in Mossy."
                        </p>
                    </div>
                }.into_any(),
                Some(view) => view! {
                    <StatusBar view=view now=now />
                }.into_any(),
            }}
            <div class="build-body">
                <LogView
                    shown=shown
                    problems_only=problems_only
                    follow=follow
                    scroll_to=scroll_to
                    selected_line=selected_line
                    go_to_line=go_to_line
                    error=error
                />
                <aside class="build-side">
                    <Problems shown=shown picked=picked live_files=live_files go_to_line=go_to_line error=error />
                    <History update=update picked=picked error=error />
                </aside>
            </div>
        </section>
    }
}

fn refresh_picked(id: BuildId, picked: RwSignal<Option<BuildView>>) {
    leptos::task::spawn_local(async move {
        if let Ok(view) = ipc::build_view(id).await
            && picked.get_untracked().is_some_and(|p| p.id == id)
        {
            picked.set(Some(view));
        }
    });
}

/// Profile picker, start / re-run / cancel, the profile editor and the log-file follower.
#[component]
fn Toolbar(
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

/// State, title, progress bar, step message, elapsed time and counts.
#[component]
fn StatusBar(view: BuildView, now: RwSignal<f64>) -> impl IntoView {
    let status = view.status;
    let fraction = view
        .snapshot
        .progress
        .fraction()
        .or_else(|| view.percent.map(|p| p / 100.0));
    let progress_text = match (view.snapshot.progress.announced, fraction) {
        (Some(announced), Some(f)) => format!(
            "{:.0}% · {} of {announced} files",
            f * 100.0,
            view.snapshot.progress.finished.min(announced)
        ),
        (None, Some(f)) => format!("{:.0}%", f * 100.0),
        (_, None) if status == BuildStatus::Running => "working…".to_owned(),
        (_, None) => String::new(),
    };
    let width = fraction.map(|f| format!("{:.1}%", f.clamp(0.0, 1.0) * 100.0));
    let indeterminate = fraction.is_none() && status == BuildStatus::Running;
    let started = view.started_at_ms;
    let ended = view.ended_at_ms;
    let elapsed = move || {
        let end = ended.map_or_else(|| now.get(), |e| e as f64);
        duration((end - started as f64).max(0.0) as u64)
    };
    let source = match &view.source {
        BuildSource::Profile { .. } => "profile".to_owned(),
        BuildSource::Mossy { .. } => "from Mossy".to_owned(),
        BuildSource::LogFile { path } => format!("following {path}"),
    };
    let counts = format!(
        "{} errors · {} warnings · {} lines",
        view.snapshot.errors, view.snapshot.warnings, view.lines
    );
    let step = view.message.clone().or_else(|| {
        view.snapshot
            .scripts
            .iter()
            .rev()
            .find(|s| s.status == mossy_protocol::build::ScriptStatus::Compiling)
            .map(|s| format!("Compiling {}", s.name))
    });
    view! {
        <div class="build-status" data-status=status_key(status) id="build-status">
            <div class="status-line">
                <span class="status-pill">{status_label(status)}</span>
                <strong class="build-title" title=view.title.clone()>{view.title.clone()}</strong>
                <span class="build-source" title=source.clone()>{source.clone()}</span>
                <span class="spacer"></span>
                <span class="build-counts">{counts}</span>
                <span class="build-elapsed" title="Elapsed">{elapsed}</span>
            </div>
            <div
                class="progress"
                class:indeterminate=indeterminate
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=fraction.map(|f| format!("{:.0}", f * 100.0))
            >
                <div class="progress-fill" style:width=width></div>
            </div>
            <div class="status-line small">
                <span class="progress-text" id="build-progress-text">{progress_text}</span>
                <span class="build-step">{step}</span>
                {view.reason.clone().map(|r| view! { <span class="build-reason">{r}</span> })}
                {view.log_capped.then(|| view! {
                    <span class="build-reason">"The stored copy of this log stops at the size cap."</span>
                })}
            </div>
        </div>
    }
}

/// The whole log, virtualised, with search, follow-tail and an errors-only filter.
#[component]
fn LogView(
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

/// Adds diagnostics in the order found: to their file's group, or as a new group at the end.
fn add_diagnostics(files: &mut Vec<FileDiagnostics>, items: Vec<Diagnostic>) {
    for diagnostic in items {
        match files.iter_mut().find(|group| group.file == diagnostic.file) {
            Some(group) => group.diagnostics.push(diagnostic),
            None => files.push(FileDiagnostics {
                file: diagnostic.file.clone(),
                diagnostics: vec![diagnostic],
            }),
        }
    }
}

/// A group's first diagnostic's log line: tells apart groups of the same file in two builds.
fn build_key(group: &FileDiagnostics) -> Option<u64> {
    group.diagnostics.first().and_then(|d| d.log_line)
}

/// Errors and warnings grouped by file, the first of each file first.
#[component]
fn Problems(
    shown: Memo<Option<BuildView>>,
    picked: RwSignal<Option<BuildView>>,
    live_files: RwSignal<Vec<FileDiagnostics>>,
    go_to_line: impl Fn(u64) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    // A build picked from the history comes whole; the current one grows by deltas.
    let all_files = Memo::new(move |_| match picked.get() {
        Some(view) => view.snapshot.files,
        None => live_files.get(),
    });
    // Past a few hundred files the list is a wall no one reads, and re-laying it out on
    // every update costs the log its frames; the rest are one click away in the log's
    // errors-only view.
    let files = Memo::new(move |_| {
        all_files.with(|files| {
            files
                .iter()
                .take(PROBLEM_FILES_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let hidden = move || all_files.with(Vec::len).saturating_sub(PROBLEM_FILES_SHOWN);
    view! {
        <section class="problems" id="build-problems">
            <h2>
                "Problems "
                <span class="count">{move || shown.with(|v| v.as_ref().map(|v| format!(
                    "{} errors, {} warnings", v.snapshot.errors, v.snapshot.warnings
                )))}</span>
            </h2>
            {move || files.with(Vec::is_empty).then(|| view! { <p class="empty">"Nothing found."</p> })}
            // Keyed by file and its count: a new error re-renders its own file only, so a
            // build with a thousand broken scripts does not redraw the list on every update.
            <For
                each=move || files.get()
                key=|group| (group.file.clone(), group.diagnostics.len(), build_key(group))
                children=move |group| file_group(group, go_to_line, error)
            />
            {move || (hidden() > 0).then(|| view! {
                <p class="empty more-files">
                    {format!("{} more files with problems: see them with Errors and warnings only.", hidden())}
                </p>
            })}
        </section>
    }
}

fn file_group(
    group: FileDiagnostics,
    go_to_line: impl Fn(u64) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let errors = group
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = group.diagnostics.len() - errors;
    let label = group
        .file
        .as_deref()
        .map_or("(no file)".to_owned(), short_path);
    let full = group.file.clone().unwrap_or_default();
    let open_file = group.file.clone();
    let open = move |_| {
        if let Some(path) = open_file.clone() {
            leptos::task::spawn_local(async move {
                if let Err(err) = ipc::open_source_file(&path).await {
                    error.set(Some(err.message));
                }
            });
        }
    };
    view! {
        <details class="file-group" open=true>
            <summary title=full>
                <span class="file-name">{label}</span>
                <span class="file-counts">{format!("{errors} E · {warnings} W")}</span>
                {group.file.is_some().then(|| view! {
                    <button class="link open-file" title="Open this file in its default program" on:click=open>"Open"</button>
                })}
            </summary>
            <ul>
                {group.diagnostics.into_iter().map(|d| diagnostic_item(d, go_to_line)).collect_view()}
            </ul>
        </details>
    }
}

fn diagnostic_item(
    diagnostic: Diagnostic,
    go_to_line: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let position = match (diagnostic.line, diagnostic.column) {
        (Some(line), Some(column)) => format!("{line}:{column}"),
        (Some(line), None) => line.to_string(),
        _ => "file".to_owned(),
    };
    let class = match diagnostic.severity {
        Severity::Error => "diagnostic error",
        Severity::Warning => "diagnostic warning",
    };
    let log_line = diagnostic.log_line;
    view! {
        <li>
            <button
                class=class
                data-log-line=log_line
                title="Show this line in the log"
                disabled=log_line.is_none()
                on:click=move |_| {
                    if let Some(number) = log_line {
                        go_to_line(number);
                    }
                }
            >
                <span class="pos">{position}</span>
                <span class="msg">{diagnostic.message}</span>
            </button>
        </li>
    }
}

/// Past and running builds; pick one to read it as it was.
#[component]
fn History(
    update: RwSignal<Option<BuildUpdate>>,
    picked: RwSignal<Option<BuildView>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let pick = move |summary: BuildSummary| {
        let newest = update.with_untracked(|u| {
            u.as_ref()
                .and_then(|u| u.current.as_ref())
                .is_some_and(|c| c.id == summary.id)
        });
        if newest {
            picked.set(None);
            return;
        }
        leptos::task::spawn_local(async move {
            match ipc::build_view(summary.id).await {
                Ok(view) => picked.set(Some(view)),
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <section class="history" id="build-history">
            <h2>"History"
                {move || picked.get().is_some().then(|| view! {
                    <button class="link" on:click=move |_| picked.set(None)>"Back to the newest"</button>
                })}
            </h2>
            <ul>
                <For
                    each=move || update.with(|u| u.as_ref().map(|u| u.history.clone()).unwrap_or_default())
                    key=|s| (s.id, s.status, s.errors, s.warnings, s.duration_ms)
                    children=move |summary| {
                        let id = summary.id;
                        let is_picked = move || picked.with(|p| p.as_ref().is_some_and(|p| p.id == id));
                        let when = format::clock_time(summary.started_at_ms);
                        let took = summary.duration_ms.map(duration).unwrap_or_else(|| "running".into());
                        let title = summary.title.clone();
                        let status = summary.status;
                        let detail = format!("{} E · {} W · {when} · {took}", summary.errors, summary.warnings);
                        view! {
                            <li>
                                <button class="history-item" class:active=is_picked data-status=status_key(status)
                                    on:click=move |_| pick(summary.clone())>
                                    <span class="dot"></span>
                                    <span class="title">{title}</span>
                                    <span class="detail">{detail}</span>
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </section>
    }
}

fn status_key(status: BuildStatus) -> &'static str {
    match status {
        BuildStatus::Running => "running",
        BuildStatus::Succeeded => "succeeded",
        BuildStatus::Failed => "failed",
        BuildStatus::Cancelled => "cancelled",
    }
}

fn status_label(status: BuildStatus) -> &'static str {
    match status {
        BuildStatus::Running => "Running",
        BuildStatus::Succeeded => "Succeeded",
        BuildStatus::Failed => "Failed",
        BuildStatus::Cancelled => "Cancelled",
    }
}

/// `12.3 s`, `4 min 05 s`.
fn duration(ms: u64) -> String {
    let seconds = ms / 1000;
    if seconds < 60 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if seconds < 3600 {
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    } else {
        format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60)
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

/// The last two parts of a path, Windows or not: `User\MyQuestScript.psc`.
fn short_path(path: &str) -> String {
    let separator = if path.contains('\\') { '\\' } else { '/' };
    let parts: Vec<&str> = path.split(['\\', '/']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [.., parent, name] => format!("{parent}{separator}{name}"),
        [name] => (*name).to_owned(),
        [] => path.to_owned(),
    }
}
