//! The asset gallery's side of the app shell: its commands, the URI scheme that serves
//! thumbnails to the webview, and the index service.

/// Adds what the asset gallery needs to the builder (its URI scheme).
pub fn register(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    builder
}

/// Starts the asset index and puts its state in the app's managed state.
pub fn setup(app: &tauri::App, dirs: &mossy_core::settings::AppDirs) -> anyhow::Result<()> {
    let _ = (app, dirs);
    Ok(())
}
