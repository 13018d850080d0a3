//! The app's windows: the main window, one window per panel, and the launches that ask
//! for them.
//!
//! Mossy opens a panel by starting `mossy-live --panel build` or the link
//! `mossy-live://panel/build` (which the system turns into a launch with the link as its
//! argument). Only one app runs per home folder: the single-instance plugin hands a later
//! launch's arguments to the running app and ends that launch, so every request, the first
//! included, goes through [`handle_launch`] and [`show`]. Windows are only ever created on
//! the main thread, one request at a time, so asking twice focuses the window the first
//! request made instead of racing to make two.
//!
//! Each window's size and position are kept per label (`mossy_core::placements`) in the
//! config folder, so `MOSSY_LIVE_HOME` moves them too, and written shortly after every move
//! or resize: a crash or a killed process keeps the last layout. A window opens at its
//! remembered size directly, with no resize after it shows. (The window-state plugin was
//! not used: it keeps its file in a folder named after the bundle identifier, outside the
//! home folder tests and portable installs point elsewhere.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use clap::Parser;
use mossy_core::placements::{PLACEMENTS_FILE, Placement, Placements};
use mossy_core::settings::AppDirs;
use mossy_protocol::panel::{Panel, PanelRequest};
use tauri::webview::WebviewWindowBuilder;
use tauri::{AppHandle, Manager, WebviewUrl, WindowEvent, Wry};
use tracing::{debug, info, instrument, warn};

use crate::cli::Args;

/// The main window's label (its entry in `tauri.conf.json` has the same).
pub const MAIN_LABEL: &str = "main";

/// The webview's own storage (cache, local storage) inside the app's data folder, so that
/// `MOSSY_LIVE_HOME` moves it too and two homes never share one.
const WEBVIEW_DATA_DIR: &str = "webview";

/// Wait after the last move or resize before writing the placements: a drag sends dozens
/// of events a second, and half a second after it ends the file holds where it stopped.
const PLACEMENT_SAVE_DELAY: Duration = Duration::from_millis(500);

/// A panel window's first size, in logical pixels: one panel needs less room than the
/// main window with its navigation.
const PANEL_SIZE: (f64, f64) = (960.0, 720.0);

/// The smallest panel window in which a panel's toolbar still fits on one line.
const PANEL_MIN_SIZE: (f64, f64) = (480.0, 360.0);

/// Where windows keep their webview storage, where they were, and the pending save.
pub struct WindowPlaces {
    /// The webview's own storage folder, shared by every window of one home.
    webview_data: PathBuf,
    /// Size and position of each window, by label.
    placements: Mutex<Placements>,
    /// Bumped on every move or resize; a scheduled save runs only if it is still current.
    save_generation: AtomicU64,
}

impl WindowPlaces {
    fn placements(&self) -> std::sync::MutexGuard<'_, Placements> {
        self.placements
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The id that makes one app per home folder: the bundle identifier, plus a hash of the
/// folder when `MOSSY_LIVE_HOME` points elsewhere (tests run several apps side by side, and
/// a portable install must not hand its requests to the installed one).
pub fn instance_id(identifier: &str, home: Option<&Path>) -> String {
    match home {
        None => identifier.to_owned(),
        Some(home) => format!(
            "{identifier}.home{:016x}",
            fnv1a(home.as_os_str().as_encoded_bytes())
        ),
    }
}

/// FNV-1a, 64 bits: stable across Rust versions and builds, unlike `DefaultHasher`, so two
/// different builds of the app agree on the id of one home folder.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

/// Makes the app's identifier unique to its home folder when `MOSSY_LIVE_HOME` is set. The
/// single-instance plugin names its D-Bus service (Linux), mutex (Windows) or socket (macOS)
/// after the identifier, so this is what keeps two homes from finding each other.
pub fn set_instance_id(context: &mut tauri::Context<Wry>) {
    let home = std::env::var_os(mossy_core::settings::HOME_ENV)
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
        .map(|home| home.canonicalize().unwrap_or(home));
    let config = context.config_mut();
    config.identifier = instance_id(&config.identifier, home.as_deref());
}

/// Hands this launch's command line to the app already running for this home folder, if
/// there is one, and exits; returns when there is none (or on Windows and macOS, where the
/// plugin's own hand-over is the only one).
///
/// The single-instance plugin hands over too, but from its setup, when GTK and Tauri's
/// threads are already up, and its `exit` among them crashed one hand-over in CI (SIGSEGV
/// after the request had been delivered). Here nothing is started yet: no GTK, no runtime,
/// no log writer. It calls the plugin's own D-Bus name, path and method, so the running
/// app's plugin answers it as usual; when anything fails, the plugin's path still runs.
#[cfg(target_os = "linux")]
pub fn hand_over_early(context: &tauri::Context<Wry>) {
    let name = format!("{}.SingleInstance", context.config().identifier);
    let path = format!("/{}", name.replace('.', "/").replace('-', "_"));
    let Ok(connection) = zbus::blocking::Connection::session() else {
        return;
    };
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let cwd = std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let handed = connection.call_method(
        Some(name.as_str()),
        path.as_str(),
        Some("org.SingleInstance.DBus"),
        "ExecuteCallback",
        &(argv, cwd.as_str()),
    );
    if handed.is_ok() {
        std::process::exit(0);
    }
}

/// See the Linux version: elsewhere the plugin's own hand-over is the only one.
#[cfg(not(target_os = "linux"))]
pub fn hand_over_early(_context: &tauri::Context<Wry>) {}

/// Adds the window plugins to the builder: single instance first (a second launch must be
/// handed over before anything else starts), then deep links.
pub fn register(builder: tauri::Builder<Wry>) -> tauri::Builder<Wry> {
    builder
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            info!(?argv, "a later launch handed over its request");
            handle_launch(app, argv);
        }))
        .plugin(tauri_plugin_deep_link::init())
}

/// Puts what windows need in the app state and shows what this launch asked for.
pub fn setup(app: &tauri::App, args: &Args, dirs: &AppDirs) -> anyhow::Result<()> {
    app.manage(WindowPlaces {
        webview_data: dirs.data.join(WEBVIEW_DATA_DIR),
        placements: Mutex::new(Placements::load(&dirs.config.join(PLACEMENTS_FILE))),
        save_generation: AtomicU64::new(0),
    });
    register_scheme_in_dev(app);
    // Setup runs on the main thread: the first window opens before the event loop starts.
    open_or_focus(app.handle(), request_of(args))?;
    Ok(())
}

/// Applies one launch's command line (the program name first) to the running app.
pub fn handle_launch(app: &AppHandle, argv: Vec<String>) {
    let request = match Args::try_parse_from(argv) {
        Ok(args) => request_of(&args),
        Err(err) => {
            warn!(error = %err, "could not read a later launch's command line; showing the main window");
            PanelRequest::Main
        }
    };
    show(app, request);
}

fn request_of(args: &Args) -> PanelRequest {
    PanelRequest::from_args(args.panel.as_deref(), args.link.as_deref()).unwrap_or_else(|err| {
        warn!(error = %err, "unknown panel request; showing the main window");
        PanelRequest::Main
    })
}

/// Opens the window `request` asks for, or brings it to the front when it is open.
pub fn show(app: &AppHandle, request: PanelRequest) {
    let handle = app.clone();
    let shown = app.run_on_main_thread(move || {
        if let Err(err) = open_or_focus(&handle, request) {
            warn!(?request, error = %err, "could not open the window");
        }
    });
    if let Err(err) = shown {
        warn!(?request, error = %err, "the app is closing; no window opened");
    }
}

#[instrument(skip(app))]
fn open_or_focus(app: &AppHandle, request: PanelRequest) -> tauri::Result<()> {
    let label = match request {
        PanelRequest::Main => MAIN_LABEL.to_owned(),
        PanelRequest::Panel(panel) => panel.window_label(),
    };
    if let Some(window) = app.get_webview_window(&label) {
        info!(label, "window already open; focusing it");
        window.unminimize()?;
        window.show()?;
        return window.set_focus();
    }
    let places = app.state::<WindowPlaces>();
    let placement = places.placements().get(&label);
    let data = places.webview_data.clone();
    let builder = match request {
        PanelRequest::Main => main_builder(app)?,
        PanelRequest::Panel(panel) => panel_builder(app, panel),
    };
    // Its placement is recorded from the resize and move events it gets when it shows.
    let window = place(app, builder, placement)
        .data_directory(data)
        .build()?;
    crate::rendering::apply(&window);
    info!(label, restored = placement.is_some(), "window opened");
    Ok(())
}

type Builder<'a> = WebviewWindowBuilder<'a, Wry, AppHandle>;

/// The main window from its entry in `tauri.conf.json` (marked `create: false` there so it
/// can be given a data folder and its remembered place here).
fn main_builder(app: &AppHandle) -> tauri::Result<Builder<'_>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN_LABEL)
        .cloned()
        .unwrap_or_default();
    WebviewWindowBuilder::from_config(app, &config)
}

fn panel_builder(app: &AppHandle, panel: Panel) -> Builder<'_> {
    WebviewWindowBuilder::new(
        app,
        panel.window_label(),
        WebviewUrl::App(panel.route().into()),
    )
    .title(format!("Mossy Live — {}", panel.title()))
    .inner_size(PANEL_SIZE.0, PANEL_SIZE.1)
    .min_inner_size(PANEL_MIN_SIZE.0, PANEL_MIN_SIZE.1)
}

/// Gives the builder the remembered size, and the remembered position when it is still on
/// a screen. Placements are kept in logical pixels, as the builder takes them.
fn place<'a>(app: &AppHandle, builder: Builder<'a>, placement: Option<Placement>) -> Builder<'a> {
    let Some(placement) = placement else {
        return builder;
    };
    let builder = builder
        .inner_size(f64::from(placement.width), f64::from(placement.height))
        .maximized(placement.maximized);
    let screens: Vec<(i32, i32, u32, u32)> = app
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .map(|monitor| {
            let scale = monitor.scale_factor();
            let position = monitor.position().to_logical::<i32>(scale);
            let size = monitor.size().to_logical::<u32>(scale);
            (position.x, position.y, size.width, size.height)
        })
        .collect();
    if placement.is_on_a_screen(&screens) {
        builder.position(f64::from(placement.x), f64::from(placement.y))
    } else {
        builder
    }
}

/// Records where `window` is now, unless it is minimised (its size is then not the one to
/// come back to). A maximised window keeps its last normal size and position.
fn remember(window: &tauri::Window) {
    let Some(places) = window.try_state::<WindowPlaces>() else {
        return;
    };
    if window.is_minimized().unwrap_or(false) {
        return;
    }
    let maximized = window.is_maximized().unwrap_or(false);
    let mut placements = places.placements();
    let placement = match placements.get(window.label()) {
        Some(before) if maximized => Placement {
            maximized,
            ..before
        },
        _ => {
            let (Ok(scale), Ok(size), Ok(position)) = (
                window.scale_factor(),
                window.inner_size(),
                window.outer_position(),
            ) else {
                return;
            };
            let size = size.to_logical::<u32>(scale);
            let position = position.to_logical::<i32>(scale);
            Placement {
                width: size.width,
                height: size.height,
                x: position.x,
                y: position.y,
                maximized,
            }
        }
    };
    if placements.set(window.label(), placement) {
        drop(placements);
        schedule_save(window.app_handle());
    }
}

/// The builder's window event hook: stops a closed window's streams and schedules a
/// window-state save after a move or resize.
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    match event {
        WindowEvent::Destroyed => {
            if let Some(services) = window.try_state::<crate::services::Services>() {
                services.streams.stop_window(window.label());
            }
            debug!(label = window.label(), "window closed");
        }
        WindowEvent::Moved(_) | WindowEvent::Resized(_) => remember(window),
        _ => {}
    }
}

/// Writes the placements [`PLACEMENT_SAVE_DELAY`] after the last change.
fn schedule_save(app: &AppHandle) {
    let Some(places) = app.try_state::<WindowPlaces>() else {
        return;
    };
    let generation = places.save_generation.fetch_add(1, Ordering::Relaxed) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(PLACEMENT_SAVE_DELAY).await;
        let places = app.state::<WindowPlaces>();
        if places.save_generation.load(Ordering::Relaxed) != generation {
            return;
        }
        let placements = places.placements().clone();
        if let Err(err) = placements.save() {
            warn!(error = %err, "window sizes not saved");
        }
    });
}

/// Labels of the open windows, sorted.
#[tauri::command]
pub fn open_windows(app: AppHandle) -> Vec<String> {
    let mut labels: Vec<String> = app.webview_windows().into_keys().collect();
    labels.sort();
    labels
}

/// In a development build, registers the `mossy-live://` scheme with the system so links
/// work without an installer (the installers register it in release). Skipped with
/// `MOSSY_LIVE_HOME` set: tests and portable copies must not take over the user's links.
fn register_scheme_in_dev(app: &tauri::App) {
    #[cfg(all(debug_assertions, any(target_os = "linux", windows)))]
    if std::env::var_os(mossy_core::settings::HOME_ENV).is_none() {
        use tauri_plugin_deep_link::DeepLinkExt;
        if let Err(err) = app.deep_link().register_all() {
            warn!(error = %err, "could not register the mossy-live:// scheme");
        }
    }
    #[cfg(not(all(debug_assertions, any(target_os = "linux", windows))))]
    let _ = app;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_id_is_the_identifier_without_a_home_and_unique_per_home() {
        assert_eq!(instance_id("live.mossy.app", None), "live.mossy.app");
        let a = instance_id("live.mossy.app", Some(Path::new("/tmp/home a")));
        let b = instance_id("live.mossy.app", Some(Path::new("/tmp/home b")));
        assert_ne!(a, b);
        assert_eq!(
            a,
            instance_id("live.mossy.app", Some(Path::new("/tmp/home a")))
        );
        // A D-Bus name element: letters, digits and `_` only, not starting with a digit.
        let last = a.rsplit('.').next().expect("an element");
        assert!(last.starts_with("home") && last.len() == 20, "{a}");
        assert!(last.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
    }

    #[test]
    fn fnv1a_matches_the_published_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
