//! Desktop notifications, shown from Rust (the page gets no notification permission): a
//! build finished or failed, while no app window has the focus and the user has build
//! notifications on in the settings.
//!
//! A missing notification service (a bare X server in the tests, a desktop without one)
//! is a debug line, not an error: the Build panel shows the same result.

use std::path::PathBuf;

use mossy_core::notices::{EndedBuilds, Notice};
use mossy_core::settings::Settings;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_notification::NotificationExt;
use tracing::{debug, info};

use crate::services::Services;

// TODO(notifications): "a monitored tool exited unexpectedly" needs an exit code, and
// neither the process list nor Mossy's `tool_exited` message carries one, so a crash cannot
// be told from a normal close yet. Add it when the bridge protocol reports exit codes.

/// Adds the notification plugin, used from Rust only.
pub fn register(builder: tauri::Builder<Wry>) -> tauri::Builder<Wry> {
    builder.plugin(tauri_plugin_notification::init())
}

/// Follows the Build panel's updates for the app's lifetime and notifies of every build
/// that ends.
pub fn setup(app: &tauri::App, settings_file: PathBuf) {
    let center = &app.state::<Services>().builds;
    let mut builds = center.subscribe();
    // What runs now; builds that ended before the app started are not announced.
    let mut ended = EndedBuilds::default();
    ended.update(&center.update().history);
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        while let Some(update) = builds.next_update().await {
            for notice in ended.update(&update.history) {
                notify(&app, &settings_file, &notice);
            }
        }
    });
}

fn notify(app: &AppHandle, settings_file: &std::path::Path, notice: &Notice) {
    // Read each time, so a change on the Settings page applies at once.
    let wanted = Settings::load(settings_file)
        .map(|settings| settings.notifications.builds)
        .unwrap_or(true);
    if !wanted {
        return;
    }
    let focused = app
        .webview_windows()
        .values()
        .any(|window| window.is_focused().unwrap_or(false));
    if focused {
        debug!(
            title = notice.title,
            "no notification: an app window has the focus"
        );
        return;
    }
    match app
        .notification()
        .builder()
        .title(&notice.title)
        .body(&notice.body)
        .show()
    {
        Ok(()) => info!(
            title = notice.title,
            body = notice.body,
            "notification shown"
        ),
        Err(err) => debug!(error = %err, "notification not shown"),
    }
}
