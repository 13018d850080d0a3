//! The tray icon: the bridge state at a glance, any panel one click away, and Quit.
//!
//! The menu's first line is the bridge state, kept current from the bridge client's status
//! watch, and so is the icon's tooltip where the desktop shows one. Clicking the icon
//! itself (Windows) brings the main window forward. A desktop without a tray (a bare X
//! server in the tests) is a log line, not an error: every menu entry has a window or a
//! keyboard equivalent.

use mossy_protocol::ipc::BridgeStatus;
use mossy_protocol::panel::{Panel, PanelRequest};
use tauri::menu::{Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};
use tracing::{info, warn};

use crate::services::Services;
use crate::windows;

/// Menu entry ids; a panel's entry is its slug.
const STATUS_ID: &str = "bridge-status";
const MAIN_ID: &str = "open-main";
const QUIT_ID: &str = "quit";

/// Adds the tray icon and keeps its bridge line current for the app's lifetime.
pub fn setup(app: &tauri::App) {
    match build(app) {
        Ok((tray, status_item)) => follow_bridge(app, tray, status_item),
        Err(err) => warn!(error = %err, "no tray icon: the desktop did not accept one"),
    }
}

fn build(app: &tauri::App) -> tauri::Result<(TrayIcon, MenuItem<Wry>)> {
    let status = MenuItem::with_id(app, STATUS_ID, "Bridge: starting", false, None::<&str>)?;
    let main = MenuItem::with_id(app, MAIN_ID, "Open Mossy Live", true, None::<&str>)?;
    let panels = Panel::ALL
        .into_iter()
        .map(|panel| MenuItem::with_id(app, panel.slug(), panel.title(), true, None::<&str>))
        .collect::<tauri::Result<Vec<_>>>()?;
    let quit = MenuItem::with_id(app, QUIT_ID, "Quit Mossy Live", true, None::<&str>)?;
    let first_separator = PredefinedMenuItem::separator(app)?;
    let last_separator = PredefinedMenuItem::separator(app)?;

    let menu = Menu::with_items(app, &[&status, &first_separator, &main])?;
    for panel in &panels {
        menu.append(panel)?;
    }
    menu.append_items(&[&last_separator, &quit])?;

    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("Mossy Live")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(on_menu_event)
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                windows::show(tray.app_handle(), PanelRequest::Main);
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let tray = builder.build(app)?;
    info!("tray icon added");
    Ok((tray, status))
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let id = event.id().as_ref();
    match id {
        QUIT_ID => {
            info!("quit from the tray menu");
            app.exit(0);
        }
        MAIN_ID => windows::show(app, PanelRequest::Main),
        other => match Panel::from_slug(other) {
            Some(panel) => windows::show(app, PanelRequest::Panel(panel)),
            None => warn!(id = other, "unknown tray menu entry"),
        },
    }
}

/// Rewrites the bridge line and the tooltip each time the bridge state changes.
fn follow_bridge(app: &tauri::App, tray: TrayIcon, status_item: MenuItem<Wry>) {
    let mut updates = app.state::<Services>().bridge.watch();
    tauri::async_runtime::spawn(async move {
        let mut shown = String::new();
        loop {
            let line = bridge_line(&updates.borrow_and_update().status);
            if line != shown {
                if let Err(err) = status_item.set_text(&line) {
                    warn!(error = %err, "could not update the tray menu");
                }
                let tooltip = format!("Mossy Live — {line}");
                if let Err(err) = tray.set_tooltip(Some(&tooltip)) {
                    warn!(error = %err, "could not update the tray tooltip");
                }
                shown = line;
            }
            if updates.changed().await.is_err() {
                break;
            }
        }
    });
}

/// The menu's first line for a bridge state. It has no countdown: a menu is not redrawn
/// every second, so a retry says how many attempts failed instead.
fn bridge_line(status: &BridgeStatus) -> String {
    match status {
        BridgeStatus::Connecting { .. } => "Bridge: connecting".to_owned(),
        BridgeStatus::Connected { .. } => "Bridge: connected".to_owned(),
        BridgeStatus::Retrying { attempt, .. } => {
            let tries = if *attempt == 1 { "try" } else { "tries" };
            format!("Bridge: offline, retrying ({attempt} failed {tries})")
        }
        BridgeStatus::Disabled => "Bridge: off".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_line_names_each_state() {
        let url = "ws://127.0.0.1:54321/bridge".to_owned();
        let lines = [
            BridgeStatus::Connecting { url: url.clone() },
            BridgeStatus::Connected { url: url.clone() },
            BridgeStatus::Retrying {
                url: url.clone(),
                retry_at_ms: 0,
                attempt: 1,
                reason: "refused".into(),
            },
            BridgeStatus::Retrying {
                url,
                retry_at_ms: 0,
                attempt: 4,
                reason: "refused".into(),
            },
            BridgeStatus::Disabled,
        ]
        .map(|status| bridge_line(&status));
        assert_eq!(
            lines,
            [
                "Bridge: connecting",
                "Bridge: connected",
                "Bridge: offline, retrying (1 failed try)",
                "Bridge: offline, retrying (4 failed tries)",
                "Bridge: off",
            ]
        );
    }

    #[test]
    fn every_panel_entry_id_routes_back_to_its_panel() {
        for panel in Panel::ALL {
            assert_eq!(Panel::from_slug(panel.slug()), Some(panel));
            assert!(![STATUS_ID, MAIN_ID, QUIT_ID].contains(&panel.slug()));
        }
    }
}
