//! The core services the app runs for its whole life: the event bus, the bridge client, the
//! process poller and the tool monitor, started once in Tauri's `setup`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use mossy_core::bridge::{BridgeConfig, BridgeHandle, spawn_bridge_client};
use mossy_core::build::{BuildCenter, BuildCenterConfig};
use mossy_core::bus::Bus;
use mossy_core::feed::{self, FeedStore};
use mossy_core::settings::{AppDirs, Settings};
use mossy_core::tool_monitor::{ToolMonitor, ToolMonitorHandle};
use mossy_core::tools::{PollerHandle, ToolTable, spawn_process_poller};
use tracing::{error, info, warn};

use crate::cli::Args;
use crate::streams::Streams;

/// The feed database's file name inside the data folder.
const FEED_FILE: &str = "activity.sqlite3";

/// The build history's file name inside the data folder.
const BUILD_HISTORY_FILE: &str = "builds.sqlite3";

/// Folder inside the data folder for the raw output of builds the app runs.
const BUILD_OUTPUT_DIR: &str = "build-output";

/// Everything the commands reach through `State`.
pub struct Services {
    /// The event bus, for states that start after the services (preview requests).
    pub bus: Bus,
    /// The tool table (built-in tools and the user's extras), for display names.
    pub tools: Arc<ToolTable>,
    /// The bridge client.
    pub bridge: BridgeHandle,
    /// The tool monitor's state.
    pub tool_monitor: ToolMonitorHandle,
    /// The Build panel's state.
    pub builds: BuildCenter,
    /// Streams to the frontend.
    pub streams: Streams,
    /// Where a broken settings file was kept aside at start, if it was.
    pub settings_kept_as: Option<PathBuf>,
    /// What the Tool monitor says about its history when the stored feed could not be
    /// used as it was (see [`open_feed`]).
    pub feed_notice: Option<String>,
    // Polls until dropped with the app; `None` when the process list cannot be read.
    _poller: Option<PollerHandle>,
}

/// The app's folders, created if missing.
pub fn app_dirs() -> anyhow::Result<AppDirs> {
    let dirs = AppDirs::locate().context("no home folder to keep settings and data in")?;
    for dir in [&dirs.config, &dirs.data, &dirs.logs] {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create {}", dir.display()))?;
    }
    Ok(dirs)
}

/// Starts every service. Fails only when the activity feed cannot be stored at all.
pub fn start(args: &Args, dirs: &AppDirs) -> anyhow::Result<Services> {
    let (settings, settings_kept_as) = load_settings(dirs);
    let bus = Bus::new();
    let table = Arc::new(ToolTable::with_extras(&settings.tools.extra));

    let mut bridge = BridgeConfig::from(&settings.bridge);
    if let Some(url) = &args.bridge_url {
        bridge.url.clone_from(url);
    }
    if args.no_bridge {
        bridge.enabled = false;
    }
    info!(url = %bridge.url, enabled = bridge.enabled, "bridge configured");
    if bridge.enabled
        && let Err(problem) = mossy_core::settings::check_ws_url(&bridge.url, "bridge address")
    {
        error!(url = %bridge.url, problem, "bridge address is not valid; fix it on the Settings page");
    }

    let (store, feed_notice) = open_feed(&dirs.data.join(FEED_FILE))?;

    // The services spawn tokio tasks; run them on Tauri's runtime.
    let runtime = tauri::async_runtime::handle();
    let _entered = runtime.inner().enter();
    let tool_monitor = ToolMonitor::spawn(Arc::clone(&table), store, &bus)
        .context("could not start the tool monitor")?;
    let poller = match spawn_process_poller(Arc::clone(&table), bus.clone()) {
        Ok(poller) => Some(poller),
        Err(err) => {
            error!(error = %err, "cannot read the process list; only Mossy's reports will show");
            None
        }
    };
    let builds = BuildCenter::start(
        BuildCenterConfig {
            history_file: dirs.data.join(BUILD_HISTORY_FILE),
            raw_dir: dirs.data.join(BUILD_OUTPUT_DIR),
            settings_file: dirs.settings_file(),
        },
        settings.builds.profiles.clone(),
        &bus,
    );
    let bridge = spawn_bridge_client(bridge, bus.clone());

    Ok(Services {
        bus,
        tools: table,
        bridge,
        tool_monitor,
        builds,
        streams: Streams::default(),
        settings_kept_as,
        feed_notice,
        _poller: poller,
    })
}

/// Opens the stored activity feed, with what the panel should tell the user about it.
/// A damaged file is kept aside and a new one started; when the file cannot be used at all
/// (a folder in its place, a read-only disk), the feed lives in memory for this session so
/// the app still runs.
fn open_feed(path: &Path) -> anyhow::Result<(FeedStore, Option<String>)> {
    match FeedStore::open_or_move_aside(path) {
        Ok((store, None)) => Ok((store, None)),
        Ok((store, Some(moved))) => {
            warn!(moved_to = %moved.display(), "activity feed was damaged; kept aside, starting fresh");
            let notice = format!(
                "The activity history could not be read, so it was kept aside as {} and a new \
                 one started.",
                moved.display()
            );
            Ok((store, Some(notice)))
        }
        Err(err) => {
            error!(path = %path.display(), error = %err, "activity feed unusable; keeping it in memory only");
            let notice = format!(
                "The activity history cannot be stored ({err}). This session's activity shows \
                 here but is gone when the app closes."
            );
            let store = FeedStore::open(Path::new(feed::IN_MEMORY))
                .context("could not open an in-memory feed")?;
            Ok((store, Some(notice)))
        }
    }
}

/// Reads the settings file. A broken one is kept aside under a dated name (returned, so the
/// Settings page can name it) and the defaults are used.
fn load_settings(dirs: &AppDirs) -> (Settings, Option<PathBuf>) {
    match Settings::load_or_move_aside(&dirs.settings_file()) {
        Ok(loaded) => loaded,
        Err(err) => {
            error!(error = %err, "settings file unusable; using defaults");
            (Settings::default(), None)
        }
    }
}
