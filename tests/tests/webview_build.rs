//! Webview end-to-end test of the Build panel: the release app in WebKitGTK under Xvfb,
//! driven over WebDriver. Builds run the real `mossy-fake-compiler` through profiles, and
//! the bridge simulator reports a build of Mossy's own.
//!
//! Run by `scripts/test.sh`, which builds the app and starts Xvfb first. Without a display,
//! driver or app build this test fails; it never skips.

use std::collections::BTreeSet;
use std::time::Duration;

use mossy_core::settings::Settings;
use mossy_protocol::build::BuildProfile;
use mossy_tests::e2e::{AppSession, free_port, start_simulator};
use mossy_tests::{fake_compiler, log_fixture};

/// Milliseconds between replayed compiler lines: slow enough that the bar is seen between
/// 0 and 100 %, fast enough that the build takes about four seconds.
const REPLAY_DELAY_MS: &str = "180";

const PAPYRUS_PROFILE: &str = "Settlers scripts #2 — ü";

/// Reads a value from the page with a script.
/// Picks a profile in the drop-down the way a user's choice does: value, then `change`.
async fn choose_profile(app: &AppSession, name: &str) -> anyhow::Result<()> {
    app.client
        .execute(
            "const s = document.querySelector('#profile-select'); \
             s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
            vec![serde_json::Value::String(name.to_owned())],
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_panel_runs_cancels_and_shows_mossys_builds() -> anyhow::Result<()> {
    let home = tempfile::Builder::new().prefix("home #1 ü ").tempdir()?;
    // One profile comes from the settings file; the second is made in the panel below.
    let mut settings = Settings::default();
    settings.builds.profiles.push(BuildProfile {
        name: PAPYRUS_PROFILE.into(),
        program: fake_compiler(),
        args: vec![
            "replay".into(),
            log_fixture("cascading-errors.log"),
            REPLAY_DELAY_MS.into(),
        ],
        working_dir: None,
        env: Default::default(),
    });
    settings.save(&home.path().join("config").join("settings.toml"))?;

    let port = free_port();
    let _simulator = start_simulator(port, "e2e-build.jsonl");
    let app = AppSession::launch(home.path(), &format!("ws://127.0.0.1:{port}/bridge")).await?;
    app.wait_for("#nav-build").await?.click().await?;

    // The simulator's build shows with its title, its error and its end.
    app.wait_for("#build-status[data-status='failed']").await?;
    let title = app.wait_for("#build-status .build-title").await?;
    assert_eq!(
        title.prop("textContent").await?.as_deref(),
        Some("Mossy: compile Rusty Plate scripts")
    );
    let mossy_error = app
        .wait_for("#build-problems .diagnostic.error .msg")
        .await?;
    assert_eq!(
        mossy_error.prop("textContent").await?.as_deref(),
        Some("variable Plate is undefined")
    );
    app.screenshot("build-mossy").await?;

    // A profile build: the bar advances, then the errors are grouped by file.
    choose_profile(&app, PAPYRUS_PROFILE).await?;
    app.wait_for("#build-start").await?.click().await?;
    app.wait_for("#build-status[data-status='running']").await?;
    let mut seen = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let state = app
            .script(
                "const s = document.querySelector('#build-status'); \
             const bar = s && s.querySelector('.progress'); \
             return [s ? s.dataset.status : '', bar ? bar.getAttribute('aria-valuenow') : null];",
            )
            .await?;
        if let Some(value) = state[1].as_str() {
            seen.insert(value.to_owned());
        }
        if state[0] == "failed" {
            break;
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "build did not end: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        seen.iter().any(|v| v != "0" && v != "100"),
        "the bar showed a value between 0 and 100: {seen:?}"
    );
    assert!(seen.contains("100"), "the bar ended full: {seen:?}");

    let groups = app
        .client
        .find_all(fantoccini::Locator::Css(
            "#build-problems .file-group .file-name",
        ))
        .await?;
    let mut names = Vec::new();
    for group in &groups {
        names.push(group.prop("textContent").await?.unwrap_or_default());
    }
    assert_eq!(
        names,
        [
            "User\\SettlementWorkshopScript.psc",
            "User\\SettlementVendorScript.psc"
        ],
        "files in the order of their first error"
    );
    let counts = app
        .wait_for("#build-problems .file-group .file-counts")
        .await?;
    assert_eq!(
        counts.prop("textContent").await?.as_deref(),
        Some("4 E · 0 W")
    );

    // Clicking an error scrolls the log to its line and marks it.
    let second = app
        .client
        .find_all(fantoccini::Locator::Css("#build-problems .diagnostic"))
        .await?
        .into_iter()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("a second diagnostic"))?;
    let line = second
        .attr("data-log-line")
        .await?
        .ok_or_else(|| anyhow::anyhow!("diagnostic without a log line"))?;
    let message = second
        .find(fantoccini::Locator::Css(".msg"))
        .await?
        .prop("textContent")
        .await?;
    second.click().await?;
    let row = app
        .wait_for(&format!("#build-log .log-row.selected[data-line='{line}']"))
        .await?;
    let text = row
        .find(fantoccini::Locator::Css(".text"))
        .await?
        .prop("textContent")
        .await?;
    assert!(
        text.unwrap_or_default()
            .contains(&message.unwrap_or_default()),
        "the marked line holds the error"
    );
    let screenshot = app.screenshot("build-failed").await?;
    println!("screenshot: {}", screenshot.display());

    // Search finds a line and marks it too.
    app.wait_for("#log-search")
        .await?
        .send_keys("batch compile")
        .await?;
    app.wait_for("#search-next").await?.click().await?;
    let summary = app
        .wait_for("#build-log .log-row[data-line='23'] .text")
        .await?;
    assert!(
        summary
            .prop("textContent")
            .await?
            .unwrap_or_default()
            .starts_with("Batch compile of 4 files finished"),
        "line 23 is the summary line"
    );
    app.wait_for("#build-log .log-row.selected[data-line='23']")
        .await?;
    let state = app.wait_for("#search-state").await?;
    assert_eq!(state.prop("textContent").await?.as_deref(), Some("line 23"));

    // A second profile, made in the panel, is started and cancelled.
    app.wait_for("#profiles-edit").await?.click().await?;
    app.wait_for("#profile-new").await?.click().await?;
    app.wait_for("#profile-name")
        .await?
        .send_keys("Long build")
        .await?;
    app.wait_for("#profile-program")
        .await?
        .send_keys(&fake_compiler())
        .await?;
    // One argument per line: the Enter key between them, as a user types it.
    let enter = char::from(fantoccini::key::Key::Enter);
    app.wait_for("#profile-args")
        .await?
        .send_keys(&format!("sleep{enter}30"))
        .await?;
    app.wait_for("#profile-save").await?.click().await?;
    app.wait_for("#profile-select option[value='Long build']")
        .await?;
    app.wait_for("#profiles-edit").await?.click().await?;
    choose_profile(&app, "Long build").await?;
    app.wait_for("#build-start").await?.click().await?;
    app.wait_for("#build-status[data-status='running'] .progress.indeterminate")
        .await?;
    app.screenshot("build-running").await?;
    app.wait_for("#build-cancel").await?.click().await?;
    app.wait_for("#build-status[data-status='cancelled']")
        .await?;

    // Every build is in the history, newest first; the saved profile is in settings.
    let history = app
        .client
        .find_all(fantoccini::Locator::Css("#build-history .history-item"))
        .await?;
    assert_eq!(history.len(), 3);
    let saved = Settings::load(&home.path().join("config").join("settings.toml"))?;
    let long = saved
        .builds
        .profiles
        .iter()
        .find(|p| p.name == "Long build")
        .ok_or_else(|| anyhow::anyhow!("profile saved"))?;
    assert_eq!(long.args, ["sleep", "30"]);

    // An old build opens from the history as it was.
    history[1].click().await?;
    app.wait_for("#build-status[data-status='failed']").await?;
    let title = app.wait_for("#build-status .build-title").await?;
    assert_eq!(
        title.prop("textContent").await?.as_deref(),
        Some(PAPYRUS_PROFILE)
    );
    app.screenshot("build-history").await?;
    app.close().await;
    Ok(())
}
