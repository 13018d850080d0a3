//! Builds with huge output.
//!
//! 1. **Ingest and memory.** A profile build whose child (`mossy-fake-compiler lines N`)
//!    prints a million lines as fast as the pipe takes them, through the real
//!    [`BuildCenter`]: every line stamped, parsed, numbered and kept. Printed beside a
//!    reference run in the same process: the same child read by a bare `BufRead::lines`
//!    loop that keeps nothing. Then memory: the log's heap bytes and this process's RSS
//!    growth, and a check that nothing was dropped (a million lines in the center, in the
//!    stored history and in the raw output file).
//! 2. **The panel under load** (needs `DISPLAY`, the release app and the drivers, as the
//!    webview tests): the Build panel open while a child prints 100,000 lines a second for
//!    10 s. The page's frame times are recorded with `requestAnimationFrame`, first for 3 s
//!    with nothing happening (the reference: what this display can do at all), then during
//!    the build. Also the app's memory (app and WebKit processes) before and after.
//!
//! ```text
//! bash scripts/build.sh && cargo build --release -p mossy-fake-compiler
//! DISPLAY=:99 MOSSY_FAKE_COMPILER_BIN=$PWD/target/release/mossy-fake-compiler \
//!     cargo bench -p mossy-tests --bench build_log
//! ```
//! Part 2 is skipped, saying so, when `DISPLAY` is unset. It prints figures and asserts no
//! timing.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use mossy_core::build::{BuildCenter, BuildCenterConfig, BuildHistory};
use mossy_core::bus::Bus;
use mossy_core::settings::Settings;
use mossy_protocol::build::{BuildProfile, BuildStatus};
use mossy_tests::e2e::{AppSession, free_port};
use mossy_tests::fake_compiler;
use mossy_tests::procfs::{descendants, process_name, rss_kib, tree_rss_kib};

/// Lines of the ingest run.
const LINES: u64 = 1_000_000;

/// The webview run: lines a second and seconds.
const FLOOD_RATE: u64 = 100_000;
const FLOOD_SECONDS: u64 = 10;

/// Records the time between animation frames into `window.__frameGaps`.
const FRAME_RECORDER: &str = "
window.__frameGaps = [];
let last = performance.now();
const tick = (now) => { window.__frameGaps.push(now - last); last = now; requestAnimationFrame(tick); };
requestAnimationFrame(tick);
";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(ingest())?;
    if std::env::var_os("DISPLAY").is_some() {
        runtime.block_on(panel_under_load())?;
    } else {
        println!("panel under load: skipped, DISPLAY is not set");
    }
    Ok(())
}

async fn ingest() -> anyhow::Result<()> {
    let compiler = fake_compiler();

    // Reference: the same child, read line by line, nothing kept.
    let started = Instant::now();
    let mut child = Command::new(&compiler)
        .args(["lines", &LINES.to_string()])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("child stdout")?;
    let counted = std::io::BufReader::new(stdout).lines().count();
    child.wait()?;
    let reference = started.elapsed();
    anyhow::ensure!(counted as u64 == LINES, "reference read {counted} lines");

    let home = tempfile::tempdir()?;
    let config = BuildCenterConfig {
        history_file: home.path().join("builds.sqlite3"),
        raw_dir: home.path().join("raw"),
        settings_file: home.path().join("settings.toml"),
    };
    let profile = BuildProfile {
        name: "million".into(),
        program: compiler,
        args: vec!["lines".into(), LINES.to_string()],
        working_dir: None,
        env: BTreeMap::new(),
    };
    let bus = Bus::new();
    let center = BuildCenter::start(config.clone(), vec![profile], &bus);
    let rss_before = rss_kib(std::process::id()).unwrap_or(0);
    let started = Instant::now();
    let id = center.start_profile("million")?;
    let mut updates = center.subscribe();
    let view = loop {
        let update = updates.next_update().await.context("center alive")?;
        if let Some(view) = update
            .current
            .filter(|v| v.id == id && v.status != BuildStatus::Running)
        {
            break view;
        }
    };
    let took = started.elapsed();
    let heap = center.log_heap_bytes();
    let rss_after = rss_kib(std::process::id()).unwrap_or(0);

    // Nothing dropped: in memory, in the stored history and in the raw output.
    anyhow::ensure!(view.lines == LINES, "center holds {} lines", view.lines);
    let stored_lines = loop {
        let (history, _) = BuildHistory::open(&config.history_file)?;
        if let Some(stored) = history.load(id)?.filter(|b| b.view.lines > 0) {
            break stored.log.len();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let raw = std::fs::read(config.raw_dir.join(id.0.to_string()).join("stdout.log"))?;
    let raw_lines = raw.iter().filter(|&&b| b == b'\n').count();

    let per_second = |d: Duration| LINES as f64 / d.as_secs_f64();
    println!("build ingest: {LINES} lines from a child process (2 shared cores)");
    println!("  {:<44} {:>9} {:>14}", "reader", "seconds", "lines/s");
    println!(
        "  {:<44} {:>9.2} {:>14.0}",
        "reference: BufRead::lines, nothing kept",
        reference.as_secs_f64(),
        per_second(reference)
    );
    println!(
        "  {:<44} {:>9.2} {:>14.0}",
        "BuildCenter: stamp, parse, number, keep",
        took.as_secs_f64(),
        per_second(took)
    );
    println!(
        "  ratio (center time / reference time): {:.2}",
        took.as_secs_f64() / reference.as_secs_f64()
    );
    println!(
        "  memory for {LINES} lines: log heap {:.1} MiB, process RSS growth {:.1} MiB",
        heap as f64 / 1048576.0,
        rss_after.saturating_sub(rss_before) as f64 / 1024.0
    );
    println!(
        "  kept: {} lines in memory, {stored_lines} in the history file, {raw_lines} in the raw output",
        view.lines
    );
    Ok(())
}

async fn panel_under_load() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let mut settings = Settings::default();
    settings.builds.profiles.push(BuildProfile {
        name: "flood".into(),
        program: fake_compiler(),
        args: vec![
            "rate".into(),
            FLOOD_RATE.to_string(),
            FLOOD_SECONDS.to_string(),
        ],
        working_dir: None,
        // MOSSY_BENCH_ERROR_EVERY=N makes every Nth line an error (default 1000; 0: none).
        env: std::env::var("MOSSY_BENCH_ERROR_EVERY")
            .map(|every| BTreeMap::from([("MOSSY_FAKE_ERROR_EVERY".to_owned(), every)]))
            .unwrap_or_default(),
    });
    settings.save(&home.path().join("config").join("settings.toml"))?;
    // Nothing listens on this port; the bridge retries quietly in the background.
    let url = format!("ws://127.0.0.1:{}/bridge", free_port());
    let app = AppSession::launch(home.path(), &url).await?;
    let result = measure_panel(&app).await;
    app.close().await;
    result
}

async fn measure_panel(app: &AppSession) -> anyhow::Result<()> {
    app.wait_for("#nav-build").await?.click().await?;
    app.wait_for("#build-start").await?;
    let pid = descendants(std::process::id())
        .into_iter()
        .find(|pid| process_name(*pid).as_deref() == Some("mossy-live"))
        .context("no mossy-live process below this bench")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle: u64 = tree_rss_kib(pid).values().sum();

    // MOSSY_BENCH_HIDE=<css selector> hides part of the page, to find what costs frames.
    if let Ok(selector) = std::env::var("MOSSY_BENCH_HIDE") {
        app.client
            .execute(
                "const s = document.createElement('style'); \
                 s.textContent = arguments[0] + ' { display: none !important; }'; \
                 document.head.appendChild(s);",
                vec![serde_json::Value::String(selector)],
            )
            .await?;
        println!(
            "hidden for this run: {}",
            std::env::var("MOSSY_BENCH_HIDE")?
        );
    }
    app.client.execute(FRAME_RECORDER, Vec::new()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = take_gaps(app).await?;

    app.wait_for("#build-start").await?.click().await?;
    app.wait_for("#build-status[data-status='running']").await?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(FLOOD_SECONDS + 30) {
        let status = app
            .client
            .execute(
                "return document.querySelector('#build-status').dataset.status",
                Vec::new(),
            )
            .await?;
        if status != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let busy = take_gaps(app).await?;
    let took = started.elapsed();
    let counts = app.wait_for("#build-status .build-counts").await?;
    let counts = counts.prop("textContent").await?.unwrap_or_default();
    let rss_loaded: u64 = tree_rss_kib(pid).values().sum();

    println!(
        "build panel under load: child printing {FLOOD_RATE} lines/s for {FLOOD_SECONDS} s, \
         Build panel open and following the tail (Xvfb, software rendering)"
    );
    println!(
        "  {:<34} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "window", "frames", "p50 ms", "p99 ms", "max ms", "fps"
    );
    for (label, gaps) in [
        ("reference: idle page, 3 s", &idle),
        ("during the build", &busy),
    ] {
        print_gaps(label, gaps);
    }
    println!(
        "  build took {:.1} s in the app; panel says: {counts}",
        took.as_secs_f64()
    );
    println!(
        "  app + WebKit RSS: {:.0} MiB before, {:.0} MiB holding the build",
        rss_idle as f64 / 1024.0,
        rss_loaded as f64 / 1024.0
    );
    Ok(())
}

async fn take_gaps(app: &AppSession) -> anyhow::Result<Vec<f64>> {
    let value = app
        .client
        .execute(
            "const g = window.__frameGaps; window.__frameGaps = []; return g;",
            Vec::new(),
        )
        .await?;
    let mut gaps: Vec<f64> = value
        .as_array()
        .context("frame gaps")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    gaps.sort_by(f64::total_cmp);
    Ok(gaps)
}

fn print_gaps(label: &str, sorted: &[f64]) {
    if sorted.is_empty() {
        println!("  {label:<34} no frames");
        return;
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let total: f64 = sorted.iter().sum();
    println!(
        "  {label:<34} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        sorted.len(),
        at(0.5),
        at(0.99),
        sorted[sorted.len() - 1],
        sorted.len() as f64 * 1000.0 / total
    );
}
