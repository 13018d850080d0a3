//! The Settings page's commands: read and save the settings, open the logs folder, and
//! copy the diagnostics text. Checking the form is the core's job
//! (`mossy_core::settings::apply_form`); this file reads and writes the file and adapts.
//!
//! The clipboard is written from Rust through the clipboard plugin, so the page itself is
//! given no clipboard permission.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use mossy_core::diagnostics::{DiagnosticsReport, os_description};
use mossy_core::settings::{Settings, apply_form, form_from_settings, needs_restart};
use mossy_protocol::ipc::{ErrorCode, IpcError};
use mossy_protocol::settings::{
    Diagnostics, EmbeddedPanels, SaveOutcome, SettingsForm, SettingsPage,
};
use tauri::{AppHandle, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tracing::{info, instrument, warn};

use crate::services::Services;

/// Where the settings live, and what happened to them at start.
pub struct SettingsFiles {
    /// The settings file.
    pub file: PathBuf,
    /// The folder of the log files.
    pub logs: PathBuf,
    /// Where a broken settings file was kept at start.
    pub broken_kept_as: Option<PathBuf>,
    /// Held while a save reads, changes and writes the file, so two saves never interleave.
    saving: Mutex<()>,
}

impl SettingsFiles {
    /// The settings files of one home.
    pub fn new(file: PathBuf, logs: PathBuf, broken_kept_as: Option<PathBuf>) -> Self {
        Self {
            file,
            logs,
            broken_kept_as,
            saving: Mutex::new(()),
        }
    }

    fn load(&self) -> Result<Settings, IpcError> {
        Settings::load(&self.file).map_err(|err| {
            warn!(error = %err, "settings file unreadable");
            IpcError {
                code: ErrorCode::Storage,
                message: format!("The settings file cannot be read ({err}). Fix or remove it, then reopen this page."),
            }
        })
    }
}

/// The settings as the page edits them, with where they live.
#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub async fn settings_get(
    app: AppHandle,
    files: State<'_, SettingsFiles>,
) -> Result<SettingsPage, IpcError> {
    let settings = files.load()?;
    let embedded_panels = embedded_panels(&app);
    // The watched folders are the Assets panel's; a failure there only empties the list.
    let watched_folders = match crate::assets::commands::assets_roots(app).await {
        Ok(roots) => roots.into_iter().map(|root| root.path).collect(),
        Err(err) => {
            warn!(error = %err.message, "watched folders unavailable for the settings page");
            Vec::new()
        }
    };
    Ok(SettingsPage {
        form: form_from_settings(&settings),
        broken_file_kept_as: files
            .broken_kept_as
            .as_ref()
            .map(|path| path.display().to_string()),
        settings_file: files.file.display().to_string(),
        logs_folder: files.logs.display().to_string(),
        watched_folders,
        embedded_panels,
    })
}

/// The embedded-panel server as it runs now.
fn embedded_panels(app: &AppHandle) -> EmbeddedPanels {
    let Some(status) = tauri::Manager::try_state::<crate::embed::EmbedStatus>(app) else {
        return EmbeddedPanels {
            url: None,
            problem: Some("It has not started.".to_owned()),
            token_file: String::new(),
        };
    };
    EmbeddedPanels {
        url: status
            .served
            .as_ref()
            .ok()
            .map(|addr| format!("http://{addr}{}<name>", crate::embed::PANEL_PREFIX)),
        problem: status.served.as_ref().err().cloned(),
        token_file: status.token_file.display().to_string(),
    }
}

/// Checks the form and, when every field is valid, writes it to the settings file.
#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub fn settings_save(
    files: State<'_, SettingsFiles>,
    form: SettingsForm,
) -> Result<SaveOutcome, IpcError> {
    let _saving = files.saving.lock().unwrap_or_else(PoisonError::into_inner);
    let before = files.load()?;
    let after = match apply_form(&before, &form) {
        Ok(after) => after,
        Err(errors) => {
            info!(fields = errors.len(), "settings not saved: invalid fields");
            return Ok(SaveOutcome::Invalid { errors });
        }
    };
    after.save(&files.file).map_err(|err| {
        warn!(error = %err, "settings not saved");
        IpcError {
            code: ErrorCode::Storage,
            message: format!("The settings could not be saved ({err})."),
        }
    })?;
    let restart_needed = needs_restart(&before, &after);
    info!(restart_needed, "settings saved");
    Ok(SaveOutcome::Saved { restart_needed })
}

/// Opens the logs folder in the system's file manager.
#[tauri::command]
#[instrument(skip_all, err(Debug))]
pub fn open_logs_folder(files: State<'_, SettingsFiles>) -> Result<(), IpcError> {
    open::that_detached(&files.logs).map_err(|err| {
        warn!(path = %files.logs.display(), error = %err, "logs folder not opened");
        IpcError {
            code: ErrorCode::Internal,
            message: format!(
                "The logs folder could not be opened ({err}); it is {}.",
                files.logs.display()
            ),
        }
    })
}

/// Builds the diagnostics text and puts it on the clipboard. The text comes back either
/// way, so the page can show it for copying by hand.
#[tauri::command]
#[instrument(skip_all)]
pub fn copy_diagnostics(
    app: AppHandle,
    files: State<'_, SettingsFiles>,
    services: State<'_, Services>,
) -> Diagnostics {
    // The settings in use; a file broken since start is reported by the line about it.
    let settings = Settings::load(&files.file).unwrap_or_default();
    let windows = crate::windows::open_windows(app.clone());
    let recent = crate::logging::recent_problems();
    let broken = files
        .broken_kept_as
        .as_ref()
        .map(|path| path.display().to_string());
    let text = DiagnosticsReport {
        version: &app.package_info().version.to_string(),
        os: os_description(),
        settings: &settings,
        broken_settings_kept_as: broken.as_deref(),
        bridge: &services.bridge.current(),
        windows: &windows,
        recent_problems: &recent,
    }
    .render();
    let clipboard_error = app.clipboard().write_text(text.clone()).err().map(|err| {
        warn!(error = %err, "diagnostics not copied to the clipboard");
        format!("The clipboard did not take the text ({err}); copy it from the box below.")
    });
    Diagnostics {
        text,
        clipboard_error,
    }
}

/// Adds the clipboard plugin, used from Rust only (no page permission names it).
pub fn register(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    builder.plugin(tauri_plugin_clipboard_manager::init())
}
