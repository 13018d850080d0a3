//! The Mossy Live app shell.
//!
//! This crate adapts: it reads the command line, starts logging, starts the core services
//! ([`services`]) and wires the Tauri builder with the commands the frontend calls
//! ([`commands`]). Every stream to the frontend is a `tauri::ipc::Channel` fed by
//! [`streams`], coalesced to one update per panel per animation frame.

// Asset gallery: commands, the thumbnail URI scheme and the index service.
mod assets;
mod cli;
mod commands;
// Editor panel: the hub inside the app, its settings and local files.
mod editor;
// Panels embedded in Mossy's window: loopback HTTP + a WebSocket standing in for IPC.
mod embed;
// Native folder and file pickers, called from Rust so the page needs no dialog permission.
mod dialogs;
mod logging;
// Desktop notifications when a build ends, shown from Rust.
mod notify;
pub mod rendering;
mod services;
// The Settings page: settings, logs folder and diagnostics.
mod settings_page;
mod streams;
// The tray icon: bridge state, open any panel, quit.
mod tray;
// Signed self-update: check on start and on demand, download, verify, install, restart.
mod updates;
// Panel windows, single instance, deep links and remembered window sizes.
mod windows;

use clap::Parser;
use tracing::error;

/// When `run` began, for the "first paint" figure; the moments before `main` (loading the
/// binary and its libraries) are not counted.
struct ProcessStart(std::time::Instant);

/// Starts the app and blocks until the last window closes.
pub fn run() {
    let started = ProcessStart(std::time::Instant::now());
    let args = cli::Args::parse();
    let dirs = match services::app_dirs() {
        Ok(dirs) => dirs,
        Err(err) => {
            eprintln!("mossy-live: {err:#}");
            std::process::exit(1);
        }
    };
    let mut context = tauri::generate_context!();
    windows::set_instance_id(&mut context);
    // Before anything starts: a later launch only passes its request on and exits.
    windows::hand_over_early(&context);

    // Held until the app exits so the log file receives every line.
    let _log_guard = logging::init(&dirs.logs);
    editor::allow_team_hub(&mut context, &dirs);

    let builder = windows::register(assets::register(tauri::Builder::default()));
    let result = notify::register(settings_page::register(builder))
        .plugin(tauri_plugin_dialog::init())
        .plugin(updates::plugin())
        .setup(move |app| {
            let services = services::start(&args, &dirs)?;
            let settings_files = settings_page::SettingsFiles::new(
                dirs.settings_file(),
                dirs.logs.clone(),
                services.settings_kept_as.clone(),
            );
            tauri::Manager::manage(app, services);
            tauri::Manager::manage(app, settings_files);
            tauri::Manager::manage(app, started);
            assets::setup(app, &dirs)?;
            editor::setup(app, &dirs);
            notify::setup(app, dirs.settings_file());
            windows::setup(app, &args, &dirs)?;
            updates::setup(app);
            let embed_address = mossy_core::settings::Settings::load(&dirs.settings_file())
                .unwrap_or_default()
                .embedded_panels
                .address;
            embed::setup(app, &dirs, &embed_address);
            tray::setup(app);
            Ok(())
        })
        .on_window_event(windows::on_window_event)
        .on_page_load(|webview, payload| {
            // A reloaded page has forgotten its streams; stop feeding the old ones.
            if payload.event() == tauri::webview::PageLoadEvent::Started
                && let Some(services) = tauri::Manager::try_state::<services::Services>(webview)
            {
                services.streams.stop_window(webview.label());
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::subscribe_tool_monitor,
            commands::subscribe_bridge,
            commands::unsubscribe,
            commands::clear_feed,
            commands::feed_notice,
            commands::report_first_paint,
            commands::subscribe_build,
            commands::build_start,
            commands::build_cancel,
            commands::build_follow_log,
            commands::build_view,
            commands::build_log_range,
            commands::build_search,
            commands::build_save_profile,
            commands::build_delete_profile,
            commands::open_source_file,
            // assets panel: begin (commands in assets/)
            assets::commands::subscribe_assets,
            assets::commands::assets_add_folder,
            assets::commands::assets_remove_folder,
            assets::commands::assets_roots,
            assets::commands::assets_page,
            assets::commands::assets_count,
            assets::commands::assets_focus,
            assets::commands::asset_details,
            assets::commands::open_asset_folder,
            assets::previews::subscribe_previews,
            assets::previews::generate_previews,
            dialogs::pick_folder,
            dialogs::pick_file,
            // assets panel: end
            editor::editor_config,
            editor::editor_open_file,
            editor::editor_save_file,
            windows::open_windows,
            settings_page::settings_get,
            settings_page::settings_save,
            settings_page::open_logs_folder,
            settings_page::copy_diagnostics,
            updates::update_check,
            updates::update_install,
        ])
        .run(context);
    if let Err(err) = result {
        error!(error = %err, "the app stopped with an error");
        std::process::exit(1);
    }
}
