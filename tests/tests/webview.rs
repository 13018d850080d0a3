//! Webview end-to-end tests of the Tool monitor: the release app in WebKitGTK under Xvfb,
//! driven over WebDriver, with the bridge simulator and real processes as its inputs.
//!
//! Run by `scripts/test.sh`, which builds the app and starts Xvfb first. Without a display,
//! driver or app build these tests fail; they never skip.

use std::path::Path;
use std::process::Command;

use mossy_tests::e2e::{AppSession, GroupChild, free_port, start_simulator};

/// The simulator scenario these tests play.
const SCENARIO: &str = "e2e-tool-monitor.jsonl";

/// A copy of `/bin/sleep` named `name` in `dir`, started for `seconds`; killed on drop.
fn start_renamed_sleep(dir: &Path, name: &str, seconds: u32) -> GroupChild {
    let exe = dir.join(name);
    std::fs::copy("/bin/sleep", &exe).expect("copy /bin/sleep");
    GroupChild::spawn(Command::new(&exe).arg(seconds.to_string())).expect("start renamed sleep")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_monitor_follows_processes_and_the_bridge() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let bin_dir = tempfile::Builder::new()
        .prefix("mods dir #1 ü ")
        .tempdir()?;
    let port = free_port();
    let mut simulator = start_simulator(port, SCENARIO);
    let app = AppSession::launch(home.path(), &format!("ws://127.0.0.1:{port}/bridge")).await?;

    // The badge turns connected and the simulator's report lands in the feed.
    app.wait_for("#bridge-badge[data-state='connected']")
        .await?;
    app.wait_for(".feed-row[data-kind='reported'][data-tool='nifskope']")
        .await?;
    app.wait_for("#tool-card-nifskope .reported").await?;

    // A renamed process turns the Blender card active, with its pid; its exit is in the feed.
    let mut blender = start_renamed_sleep(bin_dir.path(), "blender", 60);
    let pid = blender.id();
    let exe = app
        .wait_for(&format!(
            "#tool-card-blender .instance[data-pid='{pid}'] .exe"
        ))
        .await?;
    let exe_name = exe.prop("textContent").await?;
    assert_eq!(
        exe_name.as_deref(),
        Some("blender"),
        "the instance names its executable"
    );
    app.wait_for("#tool-card-blender[data-running='true']")
        .await?;
    app.wait_for(".feed-row[data-kind='started'][data-tool='blender']")
        .await?;
    let screenshot = app.screenshot("tool-monitor").await?;
    println!("screenshot: {}", screenshot.display());

    blender.terminate();
    app.wait_for(".feed-row[data-kind='exited'][data-tool='blender']")
        .await?;
    app.wait_for("#tool-card-blender[data-running='false']")
        .await?;

    // Stopping the simulator turns the badge to retrying; restarting it reconnects.
    simulator.terminate();
    let badge = app.wait_for("#bridge-badge[data-state='retrying']").await?;
    assert!(
        badge.text().await?.contains("retrying in"),
        "badge counts down to the retry"
    );
    let _simulator = start_simulator(port, SCENARIO);
    app.wait_for("#bridge-badge[data-state='connected']")
        .await?;
    app.screenshot("tool-monitor-reconnected").await?;
    app.close().await;

    // The feed lives in SQLite: a new app on the same home folder shows it again.
    let again = AppSession::launch(home.path(), &format!("ws://127.0.0.1:{port}/bridge")).await?;
    again
        .wait_for(".feed-row[data-kind='exited'][data-tool='blender']")
        .await?;
    again.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panels_are_reachable_from_the_navigation() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    // Nothing listens on this port: the badge must say it is retrying, and the app goes on.
    let port = free_port();
    let app = AppSession::launch(home.path(), &format!("ws://127.0.0.1:{port}/bridge")).await?;
    app.wait_for("#bridge-badge[data-state='retrying']").await?;

    for (link, heading) in [
        ("#nav-build", ".build-panel h1"),
        ("#nav-assets", ".assets-panel h1"),
        ("#nav-editor", ".editor-panel h1"),
    ] {
        app.wait_for(link).await?.click().await?;
        let title = app.wait_for(heading).await?;
        let expected = link.trim_start_matches("#nav-");
        assert_eq!(
            title.text().await?.to_lowercase(),
            expected,
            "{link} opens its panel"
        );
    }
    app.wait_for("#nav-tools").await?.click().await?;
    app.wait_for("#tool-card-creation-kit").await?;
    app.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_activity_history_is_kept_aside_and_said_so() -> anyhow::Result<()> {
    let home = tempfile::Builder::new().prefix("home #1 ü ").tempdir()?;
    let data = home.path().join("data");
    std::fs::create_dir_all(&data)?;
    std::fs::write(
        data.join("activity.sqlite3"),
        b"not a database, a half-written file",
    )?;

    let app = AppSession::launch(
        home.path(),
        &format!("ws://127.0.0.1:{}/bridge", free_port()),
    )
    .await?;
    let notice = app.wait_for("#feed-notice").await?.text().await?;
    assert!(
        notice.starts_with("The activity history could not be read, so it was kept aside as "),
        "{notice}"
    );
    // The file named is the one kept aside, not the new history beside it.
    let kept = std::fs::read_dir(&data)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && notice.contains(&*path.to_string_lossy()))
        .max_by_key(|path| path.as_os_str().len())
        .ok_or_else(|| {
            anyhow::anyhow!("the notice names no file in {}: {notice}", data.display())
        })?;
    assert_ne!(kept, data.join("activity.sqlite3"));
    assert_eq!(
        std::fs::read(&kept)?,
        b"not a database, a half-written file",
        "the damaged file is kept as it was"
    );
    app.screenshot("feed-notice").await?;
    app.close().await;
    Ok(())
}
