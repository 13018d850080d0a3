//! The Settings page: the settings file as a form, the folders the Assets panel watches,
//! logs and diagnostics for support, and the list of open windows.
//!
//! The backend checks the form; each refused field comes back by name and its message is
//! shown under that field. Nothing is written until every field is valid.

mod support;

use leptos::prelude::*;
use leptos_router::components::A;
use mossy_protocol::settings::{
    EmbeddedPanels, ExtraToolForm, FieldError, SaveOutcome, SettingsForm, SettingsPage as Loaded,
    fields,
};

use crate::components::update_check::UpdateCheckBox;
use crate::ipc;
use support::{SupportSection, WindowsSection};

/// Separator of executable names in an extra tool's text box.
const EXECUTABLE_SEPARATOR: char = ',';

/// The Settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let loaded = LocalResource::new(ipc::settings_get);
    view! {
        <section class="settings-page">
            <header class="panel-header">
                <h1>"Settings"</h1>
                <p class="panel-sub">"Stored in the settings file; the command line and environment can override the bridge address."</p>
            </header>
            <div class="settings-scroll">
                <Suspense fallback=|| view! { <p class="loading">"Loading the settings…"</p> }>
                    {move || {
                        loaded
                            .get()
                            .map(|result| match result {
                                Ok(loaded) => view! { <SettingsBody loaded /> }.into_any(),
                                Err(err) => {
                                    view! {
                                        <div class="error-box" id="settings-load-error">
                                            <p>{err.message}</p>
                                        </div>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Suspense>
                <UpdateCheckBox />
            </div>
        </section>
    }
}

/// One extra tool row while it is edited; `key` keeps its inputs when rows above go away.
#[derive(Clone, Copy)]
struct ToolRow {
    key: u64,
    id: RwSignal<String>,
    name: RwSignal<String>,
    executables: RwSignal<String>,
}

impl ToolRow {
    fn new(key: u64, tool: &ExtraToolForm) -> Self {
        let separator = format!("{EXECUTABLE_SEPARATOR} ");
        Self {
            key,
            id: RwSignal::new(tool.id.clone()),
            name: RwSignal::new(tool.name.clone()),
            executables: RwSignal::new(tool.executables.join(&separator)),
        }
    }

    fn to_form(self) -> ExtraToolForm {
        ExtraToolForm {
            id: self.id.get_untracked(),
            name: self.name.get_untracked(),
            executables: self
                .executables
                .get_untracked()
                .split(EXECUTABLE_SEPARATOR)
                .map(|exe| exe.trim().to_owned())
                .filter(|exe| !exe.is_empty())
                .collect(),
        }
    }
}

/// Where a save stands, for the line beside the Save button.
#[derive(Clone, PartialEq)]
enum SaveState {
    Idle,
    Saving,
    Saved { restart_needed: bool },
    Invalid,
    Failed(String),
}

#[component]
fn SettingsBody(loaded: Loaded) -> impl IntoView {
    let form = loaded.form;
    let bridge_url = RwSignal::new(form.bridge_url);
    let bridge_enabled = RwSignal::new(form.bridge_enabled);
    let hub_url = RwSignal::new(form.hub_url);
    let hub_token = RwSignal::new(form.hub_token);
    let display_name = RwSignal::new(form.display_name);
    let notify_builds = RwSignal::new(form.notify_builds);
    let notify_tool_exits = RwSignal::new(form.notify_tool_exits);
    let embed_address = RwSignal::new(form.embed_address);
    let next_key = StoredValue::new(form.extra_tools.len() as u64);
    let tools = RwSignal::new(
        form.extra_tools
            .iter()
            .enumerate()
            .map(|(key, tool)| ToolRow::new(key as u64, tool))
            .collect::<Vec<_>>(),
    );
    let errors = RwSignal::new(Vec::<FieldError>::new());
    let state = RwSignal::new(SaveState::Idle);

    let save = move |_| {
        let form = SettingsForm {
            bridge_url: bridge_url.get_untracked(),
            bridge_enabled: bridge_enabled.get_untracked(),
            extra_tools: tools
                .get_untracked()
                .into_iter()
                .map(ToolRow::to_form)
                .collect(),
            hub_url: hub_url.get_untracked(),
            hub_token: hub_token.get_untracked(),
            display_name: display_name.get_untracked(),
            notify_builds: notify_builds.get_untracked(),
            notify_tool_exits: notify_tool_exits.get_untracked(),
            embed_address: embed_address.get_untracked(),
        };
        state.set(SaveState::Saving);
        leptos::task::spawn_local(async move {
            match ipc::settings_save(&form).await {
                Ok(SaveOutcome::Saved { restart_needed }) => {
                    errors.set(Vec::new());
                    state.set(SaveState::Saved { restart_needed });
                }
                Ok(SaveOutcome::Invalid { errors: refused }) => {
                    errors.set(refused);
                    state.set(SaveState::Invalid);
                }
                Err(err) => state.set(SaveState::Failed(err.message)),
            }
        });
    };
    let add_tool = move |_| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        tools.update(|rows| rows.push(ToolRow::new(key, &ExtraToolForm::default())));
    };

    view! {
        {loaded.broken_file_kept_as.map(|kept| view! {
            <div class="settings-banner" id="settings-broken-banner" role="alert">
                <p>"Your settings file could not be read, so Mossy Live started with the defaults."</p>
                <p>"The old file was kept as " <code class="mono" id="settings-broken-path">{kept}</code>
                   ". Saving below writes a new settings file."</p>
            </div>
        })}

        <section class="settings-section">
            <h2>"Mossy bridge" <span class="restart-note">"applies after a restart"</span></h2>
            <label class="field">
                <span>"Address"</span>
                <input id="settings-bridge-url" type="text" class="mono" spellcheck="false"
                    prop:value=move || bridge_url.get()
                    on:input=move |ev| bridge_url.set(event_target_value(&ev)) />
                <FieldMessage errors field=fields::BRIDGE_URL.to_owned() />
            </label>
            <label class="check">
                <input id="settings-bridge-enabled" type="checkbox"
                    prop:checked=move || bridge_enabled.get()
                    on:change=move |ev| bridge_enabled.set(event_target_checked(&ev)) />
                "Connect to Mossy"
            </label>
        </section>

        <section class="settings-section">
            <h2>"Extra tools" <span class="restart-note">"applies after a restart"</span></h2>
            <p class="panel-sub">"Executable names the Tool monitor should also recognise. Reuse a built-in id (such as xedit) to add names to that tool."</p>
            <div class="tool-rows" id="settings-tools">
                <For each=move || tools.get() key=|row| row.key let:row>
                    <ToolRowView row tools errors />
                </For>
            </div>
            <button id="settings-add-tool" on:click=add_tool>"Add a tool"</button>
        </section>

        <section class="settings-section">
            <h2>"Editor hub" <span class="restart-note">"applies after a restart"</span></h2>
            <label class="field">
                <span>"Hub address (empty: the hub inside this app)"</span>
                <input id="settings-hub-url" type="text" class="mono" spellcheck="false"
                    prop:value=move || hub_url.get()
                    on:input=move |ev| hub_url.set(event_target_value(&ev)) />
                <FieldMessage errors field=fields::HUB_URL.to_owned() />
            </label>
            <label class="field">
                <span>"Token"</span>
                <input id="settings-hub-token" type="password" class="mono" autocomplete="off"
                    prop:value=move || hub_token.get()
                    on:input=move |ev| hub_token.set(event_target_value(&ev)) />
                <FieldMessage errors field=fields::HUB_TOKEN.to_owned() />
            </label>
            <label class="field">
                <span>"Display name (empty: your system user name)"</span>
                <input id="settings-display-name" type="text"
                    prop:value=move || display_name.get()
                    on:input=move |ev| display_name.set(event_target_value(&ev)) />
                <FieldMessage errors field=fields::DISPLAY_NAME.to_owned() />
            </label>
        </section>

        <section class="settings-section">
            <h2>"Notifications"</h2>
            <label class="check">
                <input id="settings-notify-builds" type="checkbox"
                    prop:checked=move || notify_builds.get()
                    on:change=move |ev| notify_builds.set(event_target_checked(&ev)) />
                "When a build finishes or fails"
            </label>
            <label class="check">
                <input id="settings-notify-tool-exits" type="checkbox"
                    prop:checked=move || notify_tool_exits.get()
                    on:change=move |ev| notify_tool_exits.set(event_target_checked(&ev)) />
                "When a monitored tool crashes"
            </label>
        </section>

        <section class="settings-section">
            <h2>"Panels in Mossy's window" <span class="restart-note">"applies after a restart"</span></h2>
            <p class="panel-sub">"Mossy can show a panel inside its own window instead of opening one here. It finds the panels at this address on this computer and reads the token from the file below."</p>
            <label class="field">
                <span>"Address (127.0.0.1 and a port, or off)"</span>
                <input id="settings-embed-address" type="text" class="mono" spellcheck="false"
                    prop:value=move || embed_address.get()
                    on:input=move |ev| embed_address.set(event_target_value(&ev)) />
                <FieldMessage errors field=fields::EMBED_ADDRESS.to_owned() />
            </label>
            <EmbedStatusLine panels=loaded.embedded_panels />
        </section>

        <div class="settings-save">
            <button class="primary" id="settings-save" on:click=save
                disabled=move || state.get() == SaveState::Saving>"Save"</button>
            <SaveStatus state />
            <span class="spacer"></span>
            <span class="settings-file mono">{loaded.settings_file}</span>
        </div>

        <section class="settings-section">
            <h2>"Watched asset folders"</h2>
            <ul class="watched-folders" id="settings-watched-folders">
                {if loaded.watched_folders.is_empty() {
                    view! { <li class="empty">"No folders yet."</li> }.into_any()
                } else {
                    loaded.watched_folders.into_iter()
                        .map(|folder| view! { <li class="mono">{folder}</li> })
                        .collect_view()
                        .into_any()
                }}
            </ul>
            <A href="/assets" attr:id="settings-manage-folders">"Manage folders in the Assets panel"</A>
        </section>

        <SupportSection logs_folder=loaded.logs_folder />
        <WindowsSection />
    }
}

/// Where the embedded panels are served since this start, or why they are not.
#[component]
fn EmbedStatusLine(panels: EmbeddedPanels) -> impl IntoView {
    let token_file = panels.token_file;
    match (panels.url, panels.problem) {
        (Some(url), _) => view! {
            <p class="embed-status" id="settings-embed-status">
                "Served now at " <code class="mono">{url}</code> "; token in "
                <code class="mono">{token_file}</code> "."
            </p>
        }
        .into_any(),
        (None, problem) => view! {
            <p class="embed-status off" id="settings-embed-status">
                "Not served now. " {problem}
            </p>
        }
        .into_any(),
    }
}

/// One extra tool's inputs and their messages.
#[component]
fn ToolRowView(
    row: ToolRow,
    tools: RwSignal<Vec<ToolRow>>,
    errors: RwSignal<Vec<FieldError>>,
) -> impl IntoView {
    // Errors name rows by position, which changes when a row above is removed.
    let index = Memo::new(move |_| {
        tools.with(|rows| {
            rows.iter()
                .position(|other| other.key == row.key)
                .unwrap_or(0)
        })
    });
    let message = move |field: &'static str| {
        move || {
            let name = fields::extra_tool(index.get(), field);
            errors.with(|errors| {
                errors
                    .iter()
                    .find(|error| error.field == name)
                    .map(|error| view! { <p class="field-error" data-field=name.clone()>{error.message.clone()}</p> })
            })
        }
    };
    let remove = move |_| tools.update(|rows| rows.retain(|other| other.key != row.key));
    view! {
        <div class="tool-row" data-index=move || index.get().to_string()>
            <label class="field">
                <span>"Id"</span>
                <input class="tool-id mono" type="text" spellcheck="false"
                    prop:value=move || row.id.get()
                    on:input=move |ev| row.id.set(event_target_value(&ev)) />
                {message(fields::TOOL_ID)}
            </label>
            <label class="field">
                <span>"Name"</span>
                <input class="tool-name" type="text"
                    prop:value=move || row.name.get()
                    on:input=move |ev| row.name.set(event_target_value(&ev)) />
                {message(fields::TOOL_NAME)}
            </label>
            <label class="field wide">
                <span>"Executables, separated by commas"</span>
                <input class="tool-executables mono" type="text" spellcheck="false"
                    prop:value=move || row.executables.get()
                    on:input=move |ev| row.executables.set(event_target_value(&ev)) />
                {message(fields::TOOL_EXECUTABLES)}
            </label>
            <button class="quiet tool-remove" on:click=remove>"Remove"</button>
        </div>
    }
}

/// The message under one field, when the last save refused it.
#[component]
fn FieldMessage(errors: RwSignal<Vec<FieldError>>, field: String) -> impl IntoView {
    let id = format!("{}-error", field.replace('_', "-"));
    move || {
        errors.with(|errors| {
            errors
                .iter()
                .find(|error| error.field == field)
                .map(|error| {
                    view! {
                        <p class="field-error" id=id.clone() data-field=field.clone()>
                            {error.message.clone()}
                        </p>
                    }
                })
        })
    }
}

#[component]
fn SaveStatus(state: RwSignal<SaveState>) -> impl IntoView {
    move || {
        let (kind, text) = match state.get() {
            SaveState::Idle => return None,
            SaveState::Saving => ("saving", "Saving…".to_owned()),
            SaveState::Saved {
                restart_needed: false,
            } => ("saved", "Saved.".to_owned()),
            SaveState::Saved {
                restart_needed: true,
            } => (
                "saved",
                "Saved. Restart Mossy Live to use the new bridge, tool, hub or panel settings."
                    .to_owned(),
            ),
            SaveState::Invalid => (
                "invalid",
                "Nothing was saved: fix the fields marked in red.".to_owned(),
            ),
            SaveState::Failed(message) => ("failed", message),
        };
        Some(view! { <span class="save-status" id="settings-status" data-state=kind>{text}</span> })
    }
}
