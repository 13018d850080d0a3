//! The Settings page's support corner: the logs folder, the diagnostics text for a bug
//! report, and the list of open windows.

use leptos::prelude::*;

use crate::ipc;

/// "Open logs folder" and "Copy diagnostics". The diagnostics text is also shown in a
/// read-only box, for when the clipboard is not available.
#[component]
pub fn SupportSection(logs_folder: String) -> impl IntoView {
    let logs_error = RwSignal::new(None::<String>);
    let diagnostics = RwSignal::new(None::<String>);
    let copy_status = RwSignal::new(None::<(&'static str, String)>);

    let open_logs = move |_| {
        leptos::task::spawn_local(async move {
            logs_error.set(ipc::open_logs_folder().await.err().map(|err| err.message));
        });
    };
    let copy = move |_| {
        copy_status.set(Some(("working", "Gathering…".to_owned())));
        leptos::task::spawn_local(async move {
            match ipc::copy_diagnostics().await {
                Ok(result) => {
                    diagnostics.set(Some(result.text));
                    copy_status.set(Some(match result.clipboard_error {
                        None => ("copied", "Copied to the clipboard.".to_owned()),
                        Some(message) => ("not-copied", message),
                    }));
                }
                Err(err) => copy_status.set(Some(("failed", err.message))),
            }
        });
    };

    view! {
        <section class="settings-section">
            <h2>"Logs and support"</h2>
            <div class="support-actions">
                <button id="open-logs" on:click=open_logs>"Open logs folder"</button>
                <span class="mono settings-file">{logs_folder}</span>
            </div>
            {move || logs_error.get().map(|message| view! { <p class="field-error" id="open-logs-error">{message}</p> })}
            <div class="support-actions">
                <button id="copy-diagnostics" on:click=copy>"Copy diagnostics"</button>
                {move || copy_status.get().map(|(state, text)| view! {
                    <span class="save-status" id="diagnostics-status" data-state=state>{text}</span>
                })}
            </div>
            {move || diagnostics.get().map(|text| view! {
                <textarea id="diagnostics-text" class="mono diagnostics" readonly=true rows="14"
                    prop:value=text></textarea>
            })}
        </section>
    }
}

/// The app's open windows (the main window and panel windows Mossy opened).
#[component]
pub fn WindowsSection() -> impl IntoView {
    let windows = RwSignal::new(None::<Result<Vec<String>, String>>);
    let refresh = move || {
        leptos::task::spawn_local(async move {
            windows.set(Some(ipc::open_windows().await.map_err(|err| err.message)));
        });
    };
    refresh();

    view! {
        <section class="settings-section">
            <h2>"Windows"</h2>
            <div class="support-actions">
                <button id="refresh-windows" on:click=move |_| refresh()>"Refresh"</button>
            </div>
            {move || match windows.get() {
                None => view! { <p class="loading">"Listing windows…"</p> }.into_any(),
                Some(Err(message)) => view! { <p class="field-error">{message}</p> }.into_any(),
                Some(Ok(labels)) => view! {
                    <ul class="open-windows" id="open-windows">
                        {labels.into_iter()
                            .map(|label| view! { <li class="mono" data-label=label.clone()>{label.clone()}</li> })
                            .collect_view()}
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}
