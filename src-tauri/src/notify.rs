//! Desktop notifications, shown from Rust (the page gets no notification permission): a
//! build finished or failed, or a monitored tool crashed, while no app window has the focus
//! and the user has that kind of notification on in the settings.
//!
//! A missing notification service (a bare X server in the tests, a desktop without one)
//! is a debug line, not an error: the Build panel and the activity feed show the same.
//!
//! "Exited unexpectedly" means crashed as the operating system reports it (see
//! `mossy_core::tools` and its crash reporter module): a plain exit looks the same whether
//! the user closed the tool or it died, so it is not announced.

use std::path::PathBuf;

use mossy_core::bus::BusEvent;
use mossy_core::notices::{EndedBuilds, Notice, crash_notice};
use mossy_core::settings::{NotificationSettings, Settings};
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::error::RecvError;
use tracing::{debug, info, warn};

use crate::services::Services;

/// Adds the notification plugin, used from Rust only.
pub fn register(builder: tauri::Builder<Wry>) -> tauri::Builder<Wry> {
    builder.plugin(tauri_plugin_notification::init())
}

/// Follows the Build panel's updates and the bus for the app's lifetime, and notifies of
/// every build that ends and every tool crash.
pub fn setup(app: &tauri::App, settings_file: PathBuf) {
    follow_crashes(app, settings_file.clone());
    let center = &app.state::<Services>().builds;
    let mut builds = center.subscribe();
    // What runs now; builds that ended before the app started are not announced.
    let mut ended = EndedBuilds::default();
    ended.update(&center.update().history);
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        while let Some(update) = builds.next_update().await {
            for notice in ended.update(&update.history) {
                notify(&app, &settings_file, &notice, |wanted| wanted.builds);
            }
        }
    });
}

fn follow_crashes(app: &tauri::App, settings_file: PathBuf) {
    let services = app.state::<Services>();
    let mut events = services.bus.subscribe();
    let tools = std::sync::Arc::clone(&services.tools);
    let app = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let process = match events.recv().await {
                Ok(BusEvent::ToolCrashed { process, .. }) => process,
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    warn!(
                        missed,
                        "crash notifications fell behind the bus; some may be missed"
                    );
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            let name = tools
                .get(&process.tool)
                .map_or(process.tool.as_str(), |tool| tool.name.as_str());
            let notice = crash_notice(name, &process.exe, process.pid);
            notify(&app, &settings_file, &notice, |wanted| wanted.tool_exits);
        }
    });
}

fn notify(
    app: &AppHandle,
    settings_file: &std::path::Path,
    notice: &Notice,
    kind: impl Fn(&NotificationSettings) -> bool,
) {
    // Read each time, so a change on the Settings page applies at once.
    let wanted = Settings::load(settings_file)
        .map(|settings| kind(&settings.notifications))
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
