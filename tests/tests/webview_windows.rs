//! Webview end-to-end tests of panel windows and the Settings page: the release app in
//! WebKitGTK under Xvfb, driven over WebDriver, with later launches of the same binary
//! asking the running app for panels.
//!
//! WebKitWebDriver only drives the window it launched, so the panel windows the app opens
//! itself are observed two ways: the app's own list of open windows (the Settings page's
//! "Windows" section, fed by the `open_windows` command) and the X server, where `xdotool`
//! finds the app's top-level windows by process id and title, reads their size, and resizes
//! them like a user would. Run by `scripts/test.sh` inside one D-Bus session (the
//! single-instance hand-over goes over the session bus).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mossy_core::settings::Settings;
use mossy_tests::e2e::{
    APP_BIN_ENV, AppSession, UI_TIMEOUT, free_port, release_binary, workspace_root,
};

/// How long a later launch may take to hand its request over and exit. It only connects to
/// the session bus and makes one call; the margin covers a loaded 2-core machine.
const HAND_OVER_TIMEOUT: Duration = Duration::from_secs(15);

/// How often the tests look again at something that changes outside the page.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The Build panel window's title.
const BUILD_TITLE: &str = "Mossy Live — Build";

/// The size the test gives the Build panel window; different from the 960×720 it opens at.
const RESIZED: (u32, u32) = (700, 500);

/// Runs the app binary again with `args` and the same home folder, and returns its exit
/// status; fails when it does not exit within [`HAND_OVER_TIMEOUT`] (it would then have
/// started a second app instead of handing over).
async fn launch_again(home: &Path, args: &[&str]) -> anyhow::Result<std::process::ExitStatus> {
    launch_again_without(home, args, &[]).await
}

/// [`launch_again`] with the variables `unset` removed from its environment.
async fn launch_again_without(
    home: &Path,
    args: &[&str],
    unset: &[&str],
) -> anyhow::Result<std::process::ExitStatus> {
    let app = release_binary("mossy-live", APP_BIN_ENV);
    let mut command = Command::new(app);
    for name in unset {
        command.env_remove(name);
    }
    let mut child = command
        .args(args)
        .env("MOSSY_LIVE_HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if started.elapsed() > HAND_OVER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("`mossy-live {}` did not hand over and exit", args.join(" "));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Pids of the app processes (not their WebKit children) running with this home folder.
fn app_pids(home: &Path) -> Vec<u32> {
    let wanted = format!("MOSSY_LIVE_HOME={}", home.display());
    mossy_tests::procfs::all_pids()
        .filter(|pid| mossy_tests::procfs::process_name(*pid).as_deref() == Some("mossy-live"))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|byte| *byte == 0)
                    .any(|entry| entry == wanted.as_bytes())
            })
        })
        .collect()
}

/// X window ids of this home's app titled exactly `title`. (`xdotool search --name` alone
/// also returned the main window for "Build", so each hit's name is read back.)
fn x_windows(home: &Path, title: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for pid in app_pids(home) {
        let Ok(output) = Command::new("xdotool")
            .args([
                "search",
                "--onlyvisible",
                "--pid",
                &pid.to_string(),
                "--name",
                title,
            ])
            .output()
        else {
            continue;
        };
        for id in String::from_utf8_lossy(&output.stdout).split_whitespace() {
            let name = Command::new("xdotool").args(["getwindowname", id]).output();
            if name.is_ok_and(|name| String::from_utf8_lossy(&name.stdout).trim_end() == title) {
                ids.push(id.to_owned());
            }
        }
    }
    ids
}

/// Width and height of an X window, from `xdotool getwindowgeometry`.
fn x_window_size(id: &str) -> anyhow::Result<(u32, u32)> {
    let output = Command::new("xdotool")
        .args(["getwindowgeometry", id])
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let geometry = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Geometry: "))
        .ok_or_else(|| anyhow::anyhow!("no geometry for window {id} in {text:?}"))?;
    let (width, height) = geometry
        .split_once('x')
        .ok_or_else(|| anyhow::anyhow!("odd geometry {geometry:?}"))?;
    Ok((width.trim().parse()?, height.trim().parse()?))
}

/// Waits until exactly one visible window of this home's app has `title` in its title.
async fn one_x_window(home: &Path, title: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let ids = x_windows(home, title);
        if ids.len() == 1 {
            return Ok(ids[0].clone());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "expected one window titled {title:?}, found {}",
            ids.len()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Smallest PNG of a painted panel, in bytes: a window captured before its first paint
/// is one flat colour, which PNG packs into a few hundred bytes.
const MIN_PAINTED_PNG: u64 = 4_000;

/// Saves a picture of one X window under `target/e2e/<name>.png`, raised to the top first
/// (with no window manager, X keeps no pixels of a covered window), once it has painted.
async fn x_screenshot(id: &str, name: &str) -> anyhow::Result<PathBuf> {
    let dir = workspace_root().join("target/e2e");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        Command::new("xdotool").args(["windowraise", id]).status()?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let status = Command::new("import")
            .args(["-window", id])
            .arg(&path)
            .status()?;
        anyhow::ensure!(status.success(), "import could not capture window {id}");
        if std::fs::metadata(&path)?.len() >= MIN_PAINTED_PNG {
            return Ok(path);
        }
        anyhow::ensure!(Instant::now() < deadline, "window {id} never painted");
    }
}

/// Opens the Settings page and waits until the open windows list includes `label`
/// (pressing Refresh, since the list is read when asked).
async fn wait_for_window_label(app: &AppSession, label: &str) -> anyhow::Result<Vec<String>> {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        app.wait_for("#refresh-windows").await?.click().await?;
        tokio::time::sleep(POLL_INTERVAL).await;
        let labels = window_labels(app).await?;
        if labels.iter().any(|l| l == label) {
            return Ok(labels);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{label} never opened; windows: {labels:?}"
        );
    }
}

/// The labels in the open windows list, read in one call: Refresh rebuilds the list, so an
/// item found by one call can be gone by the next.
async fn window_labels(app: &AppSession) -> anyhow::Result<Vec<String>> {
    let js = "return [...document.querySelectorAll('#open-windows li')]
        .map(item => item.getAttribute('data-label'))
        .filter(label => label !== null);";
    Ok(serde_json::from_value(app.script(js).await?)?)
}

async fn wait_until_gone(home: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + UI_TIMEOUT;
    while !app_pids(home).is_empty() {
        anyhow::ensure!(Instant::now() < deadline, "the app did not exit");
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_launches_open_panels_in_the_running_app() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let bridge = format!("ws://127.0.0.1:{}/bridge", free_port());
    let app = AppSession::launch(home.path(), &bridge).await?;
    app.wait_for("#nav-settings").await?.click().await?;
    assert_eq!(wait_for_window_label(&app, "main").await?, ["main"]);

    // `--panel build`: the later launch exits at once, and the running app opens the panel.
    let status = launch_again(home.path(), &["--panel", "build"]).await?;
    assert!(status.success(), "the hand-over exits with 0, not {status}");
    let labels = wait_for_window_label(&app, "panel-build").await?;
    assert_eq!(labels, ["main", "panel-build"]);
    let build = one_x_window(home.path(), BUILD_TITLE).await?;
    assert_eq!(
        x_window_size(&build)?,
        (960, 720),
        "a new panel window opens at its default size"
    );

    // A deep link, as the system hands it over.
    let status = launch_again(home.path(), &["mossy-live://panel/assets"]).await?;
    assert!(status.success(), "the hand-over exits with 0, not {status}");
    let labels = wait_for_window_label(&app, "panel-assets").await?;
    assert_eq!(labels, ["main", "panel-assets", "panel-build"]);
    let assets = one_x_window(home.path(), "Mossy Live — Assets").await?;
    println!(
        "screenshot: {}",
        x_screenshot(&assets, "panel-assets").await?.display()
    );

    // A later launch passes its request on before it starts anything, so it needs no display
    // of its own (the plugin's hand-over ran after GTK started; see windows::hand_over_early).
    let status = launch_again_without(
        home.path(),
        &["--panel", "build"],
        &["DISPLAY", "WAYLAND_DISPLAY"],
    )
    .await?;
    assert!(
        status.success(),
        "a hand-over without a display exits with 0, not {status}"
    );

    // Asking again focuses the open window rather than opening a second one; an unknown
    // name is logged and opens nothing new.
    for args in [
        &["--panel", "BUILD"][..],
        &["mossy-live://panel/build/?from=mossy"],
        &["--panel", "inventory"],
    ] {
        let status = launch_again(home.path(), args).await?;
        assert!(
            status.success(),
            "{args:?}: the hand-over exits with 0, not {status}"
        );
    }
    // The unknown request is the last one handled; once its log line is there, all are.
    let logs = home.path().join("logs");
    let deadline = Instant::now() + UI_TIMEOUT;
    while !logs_contain(&logs, "unknown panel request") {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the unknown panel was not logged"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    app.wait_for("#refresh-windows").await?.click().await?;
    tokio::time::sleep(POLL_INTERVAL).await;
    assert_eq!(
        window_labels(&app).await?,
        ["main", "panel-assets", "panel-build"]
    );
    assert_eq!(
        x_windows(home.path(), BUILD_TITLE).len(),
        1,
        "still one Build window on screen"
    );
    assert!(
        logs_have_line(&logs, &["window already open; focusing it", "panel-build"]),
        "the repeated Build request focused the open window"
    );

    // Resize the Build window like a user would; the size is saved shortly after.
    let build = one_x_window(home.path(), BUILD_TITLE).await?;
    let resized = Command::new("xdotool")
        .args([
            "windowsize",
            &build,
            &RESIZED.0.to_string(),
            &RESIZED.1.to_string(),
        ])
        .status()?;
    assert!(resized.success(), "xdotool resizes the window");
    let state_file = home.path().join("config/windows.json");
    let deadline = Instant::now() + UI_TIMEOUT;
    while !saved_size_is(&state_file, "panel-build", RESIZED) {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the new size never reached {}",
            state_file.display()
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    println!(
        "screenshot: {}",
        x_screenshot(&build, "panel-build").await?.display()
    );
    app.close().await;
    wait_until_gone(home.path()).await?;

    // A new app on the same home: the Build panel reopens at the size it was left at.
    let app = AppSession::launch(home.path(), &bridge).await?;
    let status = launch_again(home.path(), &["--panel", "build"]).await?;
    assert!(status.success(), "the hand-over exits with 0, not {status}");
    let build = one_x_window(home.path(), BUILD_TITLE).await?;
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let size = x_window_size(&build)?;
        if size == RESIZED {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the Build window reopened at {size:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    app.close().await;
    Ok(())
}

fn logs_contain(dir: &Path, needle: &str) -> bool {
    logs_have_line(dir, &[needle])
}

/// True when one line of the log files in `dir` holds every one of `needles`.
fn logs_have_line(dir: &Path, needles: &[&str]) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            std::fs::read_to_string(entry.path()).is_ok_and(|text| {
                text.lines()
                    .any(|line| needles.iter().all(|needle| line.contains(needle)))
            })
        })
    })
}

/// True when the window-state file holds `size` for the window `label`.
fn saved_size_is(file: &Path, label: &str, size: (u32, u32)) -> bool {
    let Ok(text) = std::fs::read_to_string(file) else {
        return false;
    };
    let Ok(state) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    state[label]["width"] == size.0 && state[label]["height"] == size.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_round_trip_through_the_page() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let settings_file = home.path().join("config/settings.toml");
    let app = AppSession::launch(
        home.path(),
        &format!("ws://127.0.0.1:{}/bridge", free_port()),
    )
    .await?;
    app.wait_for("#nav-settings").await?.click().await?;

    // Where the panels for Mossy's window are served now (the tests give a free port).
    let served = app.wait_for("#settings-embed-status").await?.text().await?;
    assert!(
        served.starts_with("Served now at http://127.0.0.1:")
            && served.contains("/panel/<name>; token in ")
            && served.contains("embed-token"),
        "{served}"
    );

    // Valid addresses are saved to the file; the bridge only changes after a restart.
    let url = app.wait_for("#settings-bridge-url").await?;
    url.clear().await?;
    url.send_keys("ws://127.0.0.1:9/bridge").await?;
    let token = app.wait_for("#settings-hub-token").await?;
    token.send_keys("s3cret-token").await?;
    let embed = app.wait_for("#settings-embed-address").await?;
    embed.clear().await?;
    embed.send_keys("127.0.0.1:47999").await?;
    app.wait_for("#settings-save").await?.click().await?;
    let status = app.wait_for("#settings-status[data-state='saved']").await?;
    assert_eq!(
        status.text().await?,
        "Saved. Restart Mossy Live to use the new bridge, tool, hub or panel settings."
    );
    let saved = Settings::load(&settings_file)?;
    assert_eq!(saved.bridge.url, "ws://127.0.0.1:9/bridge");
    assert_eq!(saved.editor.token, "s3cret-token");
    assert_eq!(saved.embedded_panels.address, "127.0.0.1:47999");
    app.screenshot("settings-saved").await?;

    // An out-of-range port: the message shows under the field and the file is untouched.
    let before = std::fs::read(&settings_file)?;
    let url = app.wait_for("#settings-bridge-url").await?;
    url.clear().await?;
    url.send_keys("ws://127.0.0.1:70000/bridge").await?;
    // An address another machine could reach is refused for the embedded panels.
    let embed = app.wait_for("#settings-embed-address").await?;
    embed.clear().await?;
    embed.send_keys("0.0.0.0:47821").await?;
    app.wait_for("#settings-save").await?.click().await?;
    let message = app.wait_for("#bridge-url-error").await?;
    assert_eq!(
        message.text().await?,
        "The port in the bridge address must be a number from 1 to 65535, not \"70000\"."
    );
    let message = app.wait_for("#embed-address-error").await?;
    assert_eq!(
        message.text().await?,
        "Panels are served to this computer only: use 127.0.0.1 (or [::1]) with a port, not \
         0.0.0.0."
    );
    app.wait_for("#settings-status[data-state='invalid']")
        .await?;
    assert_eq!(
        std::fs::read(&settings_file)?,
        before,
        "an invalid form writes nothing"
    );
    app.screenshot("settings-invalid").await?;

    // Diagnostics: shown in the box and put on the clipboard, with the token masked.
    app.wait_for("#copy-diagnostics").await?.click().await?;
    let copied = app
        .wait_for("#diagnostics-status[data-state='copied']")
        .await?;
    assert_eq!(copied.text().await?, "Copied to the clipboard.");
    let text = app
        .wait_for("#diagnostics-text")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert!(text.starts_with("Mossy Live "), "{text}");
    assert!(text.contains("url = \"ws://127.0.0.1:9/bridge\""), "{text}");
    assert!(text.contains("token = \"(set, hidden)\""), "{text}");
    assert!(!text.contains("s3cret-token"), "{text}");
    assert!(text.contains("Windows: main\n"), "{text}");
    app.screenshot("settings-diagnostics").await?;
    app.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_settings_file_is_kept_aside_and_named_in_a_banner() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let config = home.path().join("config");
    std::fs::create_dir_all(&config)?;
    std::fs::write(config.join("settings.toml"), "[bridge\nurl = ")?;
    // An embedded-panel address left by an earlier start; this start serves no panels.
    let address_file = home.path().join("data/embed-address");
    std::fs::create_dir_all(home.path().join("data"))?;
    std::fs::write(&address_file, "127.0.0.1:47821\n")?;

    let app = AppSession::launch_with_env(
        home.path(),
        &format!("ws://127.0.0.1:{}/bridge", free_port()),
        &[("MOSSY_EMBED_ADDR", std::ffi::OsStr::new("off"))],
    )
    .await?;
    app.wait_for("#nav-settings").await?.click().await?;
    app.wait_for("#settings-broken-banner").await?;
    let kept = PathBuf::from(app.wait_for("#settings-broken-path").await?.text().await?);
    assert_eq!(kept.parent(), Some(config.as_path()));
    let name = kept
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    assert!(
        name.as_deref()
            .is_some_and(|name| name.starts_with("settings.broken-") && name.ends_with(".toml")),
        "{name:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&kept)?,
        "[bridge\nurl = ",
        "the backup is the old file"
    );
    assert!(
        !config.join("settings.toml").exists(),
        "the app runs on defaults"
    );
    let url = app.wait_for("#settings-bridge-url").await?;
    assert_eq!(
        url.prop("value").await?.as_deref(),
        Some(mossy_core::settings::DEFAULT_BRIDGE_URL)
    );
    app.screenshot("settings-broken").await?;

    // No panels for Mossy this time: the page says why, and no stale address is left.
    let embed = app.wait_for("#settings-embed-status").await?.text().await?;
    assert_eq!(
        embed,
        "Not served now. It is turned off (MOSSY_EMBED_ADDR)."
    );
    assert!(
        !address_file.exists(),
        "an address nobody serves is removed"
    );
    app.close().await;
    Ok(())
}
