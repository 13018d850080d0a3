//! The Updates box: the running version, what the update server offers, and an install with
//! a progress bar.
//!
//! On mount it asks for the last check's answer (an installed copy checks once at start), so
//! opening the box never asks the server; "Check for updates" does. A check that
//! fails is shown as a quiet line, not an error: being offline is normal. Errors of an
//! install are one sentence from the backend.

use leptos::prelude::*;
use mossy_protocol::updates::{AvailableUpdate, UpdateCheck, UpdateOutcome, UpdateProgress};

use crate::ipc;

/// Where the box is; `data-state` on the box says the same for tests and styles.
#[derive(Debug, Clone, PartialEq)]
enum BoxState {
    /// Waiting for a check's answer.
    Checking,
    /// The last check's answer.
    Checked(UpdateCheck),
    /// An install is running; the last step it reported.
    Installing(UpdateCheck, UpdateProgress),
}

impl BoxState {
    fn name(&self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Checked(check) => match check.outcome {
                UpdateOutcome::NotChecked => "not-checked",
                UpdateOutcome::UpToDate => "up-to-date",
                UpdateOutcome::Available(_) => "available",
                UpdateOutcome::CouldNotCheck => "could-not-check",
            },
            Self::Installing(_, UpdateProgress::Downloading { .. }) => "downloading",
            Self::Installing(_, UpdateProgress::Installing) => "installing",
            Self::Installing(_, UpdateProgress::Restarting) => "restarting",
        }
    }

    fn check(&self) -> Option<&UpdateCheck> {
        match self {
            Self::Checking => None,
            Self::Checked(check) | Self::Installing(check, _) => Some(check),
        }
    }
}

/// The Updates box.
#[component]
pub fn UpdateCheckBox() -> impl IntoView {
    let state = RwSignal::new(BoxState::Checking);
    let error = RwSignal::new(None::<String>);

    let run_check = move |fresh: bool| {
        state.set(BoxState::Checking);
        error.set(None);
        leptos::task::spawn_local(async move {
            match ipc::update_check(fresh).await {
                Ok(check) => state.set(BoxState::Checked(check)),
                Err(err) => {
                    error.set(Some(err.message));
                    state.set(BoxState::Checked(UpdateCheck {
                        current: String::new(),
                        outcome: UpdateOutcome::CouldNotCheck,
                    }));
                }
            }
        });
    };
    run_check(false);

    let install = move |_: leptos::ev::MouseEvent| {
        let Some(check) = state.with_untracked(|s| s.check().cloned()) else {
            return;
        };
        error.set(None);
        let start = UpdateProgress::Downloading {
            received: 0,
            total: None,
        };
        state.set(BoxState::Installing(check.clone(), start));
        leptos::task::spawn_local(async move {
            let on_progress = {
                let check = check.clone();
                move |step| state.set(BoxState::Installing(check.clone(), step))
            };
            if let Err(err) = ipc::update_install(on_progress).await {
                error.set(Some(err.message));
                state.set(BoxState::Checked(check));
            }
        });
    };

    let busy = move || state.with(|s| !matches!(s, BoxState::Checked(_)));
    let current = move || {
        state.with(|s| match s.check() {
            Some(check) if !check.current.is_empty() => check.current.clone(),
            _ => "…".to_owned(),
        })
    };

    view! {
        <section id="update-box" class="update-box" data-state=move || state.with(BoxState::name)>
            <h2>"Updates"</h2>
            <p class="update-current">
                "Installed version: " <span id="update-current" class="mono">{current}</span>
            </p>
            {move || state.with(|s| match s {
                BoxState::Checking => view! {
                    <p class="update-status">"Checking for updates…"</p>
                }.into_any(),
                BoxState::Checked(check) => outcome_view(&check.outcome, install).into_any(),
                BoxState::Installing(_, step) => progress_view(*step).into_any(),
            })}
            {move || error.get().map(|message| view! {
                <p id="update-error" class="update-error" role="alert">{message}</p>
            })}
            <div class="update-actions">
                <button id="update-check" disabled=busy on:click=move |_| run_check(true)>
                    "Check for updates"
                </button>
            </div>
        </section>
    }
}

fn outcome_view(
    outcome: &UpdateOutcome,
    install: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    match outcome {
        UpdateOutcome::NotChecked => view! {
            <p class="update-status quiet">"Not checked yet."</p>
        }
        .into_any(),
        UpdateOutcome::UpToDate => view! {
            <p class="update-status">"Mossy Live is up to date."</p>
        }
        .into_any(),
        UpdateOutcome::CouldNotCheck => view! {
            <p class="update-status quiet">
                "Could not check for updates. Mossy Live tries again on its next start."
            </p>
        }
        .into_any(),
        UpdateOutcome::Available(available) => available_view(available, install).into_any(),
    }
}

fn available_view(
    available: &AvailableUpdate,
    install: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let date = available
        .date
        .as_deref()
        .and_then(|text| text.get(..10))
        .map(|day| format!(" (published {day})"));
    let notes = (!available.notes.trim().is_empty()).then(|| {
        view! { <pre id="update-notes" class="update-notes">{available.notes.clone()}</pre> }
    });
    view! {
        <div class="update-available">
            <p class="update-status">
                "Version " <span id="update-available-version" class="mono">{available.version.clone()}</span>
                " is available" {date} "."
            </p>
            {notes}
            <button id="update-install" class="primary" on:click=install>
                "Download and install"
            </button>
        </div>
    }
}

fn progress_view(step: UpdateProgress) -> impl IntoView {
    match step {
        UpdateProgress::Downloading { received, total } => {
            let label = match total {
                Some(total) => format!(
                    "Downloading: {} of {}",
                    data_size(received),
                    data_size(total)
                ),
                None => format!("Downloading: {}", data_size(received)),
            };
            // Without a size the bar is left without a value, which shows it as busy.
            let value = total.map(|_| received.to_string());
            view! {
                <div class="update-progress">
                    <progress
                        id="update-progress"
                        max=total.unwrap_or(1).to_string()
                        value=value
                        data-received=received.to_string()
                        data-total=total.map(|t| t.to_string())
                    ></progress>
                    <span class="update-status">{label}</span>
                </div>
            }
            .into_any()
        }
        UpdateProgress::Installing => view! {
            <p class="update-status">"Signature verified. Installing…"</p>
        }
        .into_any(),
        UpdateProgress::Restarting => view! {
            <p class="update-status">"Installed. Restarting Mossy Live…"</p>
        }
        .into_any(),
    }
}

/// A download size such as `850 KB` or `2.9 MB`.
fn data_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let kib = bytes as f64 / KIB;
    if kib >= KIB {
        format!("{:.1} MB", kib / KIB)
    } else {
        format!("{kib:.0} KB")
    }
}
