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
mod logging;
mod services;
mod streams;

use clap::Parser;
use tracing::error;

/// When `run` began, for the "first paint" figure; the moments before `main` (loading the
/// binary and its libraries) are not counted.
struct ProcessStart(std::time::Instant);

/// The webview's own storage (cache, local storage) inside the app's data folder, so that
/// `MOSSY_LIVE_HOME` moves it too and two homes never share one.
const WEBVIEW_DATA_DIR: &str = "webview";

/// Opens the main window from its entry in `tauri.conf.json` (marked `create: false` there
/// so it can be given a data folder here).
fn open_main_window(app: &tauri::App, data_dir: &std::path::Path) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == "main")
        .cloned()
        .unwrap_or_default();
    tauri::WebviewWindowBuilder::from_config(app.handle(), &config)?
        .data_directory(data_dir.to_owned())
        .build()?;
    Ok(())
}

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
    // Held until the app exits so the log file receives every line.
    let _log_guard = logging::init(&dirs.logs);

    let result = assets::register(tauri::Builder::default())
        .setup(move |app| {
            let services = services::start(&args, &dirs)?;
            tauri::Manager::manage(app, services);
            tauri::Manager::manage(app, started);
            assets::setup(app, &dirs)?;
            open_main_window(app, &dirs.data.join(WEBVIEW_DATA_DIR))?;
            Ok(())
        })
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
            // assets panel: begin (commands in assets.rs)
            assets::subscribe_assets,
            assets::assets_add_folder,
            assets::assets_remove_folder,
            assets::assets_roots,
            assets::assets_page,
            assets::assets_count,
            assets::asset_details,
            assets::open_asset_folder,
            // assets panel: end
        ])
        .run(tauri::generate_context!());
    if let Err(err) = result {
        error!(error = %err, "the app stopped with an error");
        std::process::exit(1);
    }
}
