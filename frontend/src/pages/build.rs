//! The Build panel: run and cancel builds, watch their progress, read the whole log and
//! find what broke.
//!
//! The page subscribes to the backend's build stream, which carries the current build's
//! view (status, progress, diagnostics grouped by file, line counts), the history and the
//! profiles, at most once per frame. The log itself never crosses in full: the log view
//! asks for the rows on screen (plus a margin) by position, so a million-line build scrolls
//! like a short one.
//!
//! The toolbar and profile editor ([`toolbar`]), the log view ([`log`]) and the Problems
//! list ([`problems`]) live beside this file; the page, the status bar and the history are
//! here.

mod log;
mod problems;
mod toolbar;

use leptos::prelude::*;
use mossy_protocol::build::{
    BuildId, BuildSource, BuildStatus, BuildSummary, BuildUpdate, BuildView, FileDiagnostics,
};

use crate::{format, ipc};
use log::LogView;
use problems::{Problems, add_diagnostics};
use toolbar::Toolbar;

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
