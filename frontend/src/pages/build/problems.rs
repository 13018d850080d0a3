//! The Build panel's Problems list: errors and warnings grouped by file, each a link to
//! its line in the log.

use leptos::prelude::*;
use mossy_protocol::build::{BuildView, Diagnostic, FileDiagnostics, Severity};

use crate::ipc;

/// Files listed in the Problems panel; the log's errors-only view shows every one.
const PROBLEM_FILES_SHOWN: usize = 200;

/// Adds diagnostics in the order found: to their file's group, or as a new group at the end.
pub(super) fn add_diagnostics(files: &mut Vec<FileDiagnostics>, items: Vec<Diagnostic>) {
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
pub(super) fn Problems(
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
