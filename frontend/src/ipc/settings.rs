//! The Settings page's calls to the backend, and the list of open windows.

use mossy_protocol::ipc::IpcError;
use mossy_protocol::panel;
use mossy_protocol::settings::{Diagnostics, SaveOutcome, SettingsForm, SettingsPage, commands};
use serde::Serialize;

use super::call;

/// The settings as saved, with where they live and what happened to them at start.
pub async fn settings_get() -> Result<SettingsPage, IpcError> {
    call(commands::SETTINGS_GET, &()).await
}

/// Checks and saves `form`; invalid fields come back in [`SaveOutcome::Invalid`].
pub async fn settings_save(form: &SettingsForm) -> Result<SaveOutcome, IpcError> {
    #[derive(Serialize)]
    struct Args<'a> {
        form: &'a SettingsForm,
    }
    call(commands::SETTINGS_SAVE, &Args { form }).await
}

/// Opens the logs folder in the system's file manager.
pub async fn open_logs_folder() -> Result<(), IpcError> {
    call(commands::OPEN_LOGS_FOLDER, &()).await
}

/// Puts the diagnostics text on the clipboard and returns it.
pub async fn copy_diagnostics() -> Result<Diagnostics, IpcError> {
    call(commands::COPY_DIAGNOSTICS, &()).await
}

/// Labels of the app's open windows, sorted.
pub async fn open_windows() -> Result<Vec<String>, IpcError> {
    call(panel::commands::OPEN_WINDOWS, &()).await
}
