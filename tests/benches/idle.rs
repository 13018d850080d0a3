//! What the app costs when nothing happens, next to an empty Tauri window, and how long it
//! takes from start to its first painted frame.
//!
//! Idle: the release app starts on the X display in `DISPLAY` with a fresh home folder and
//! the bridge pointed at a closed loopback port (so it retries, as it does when Mossy is not
//! running). After [`SETTLE`], CPU time (utime + stime from `/proc/<pid>/stat`) and resident
//! memory (`VmRSS`) are summed over the app and every process below it (the WebKit web and
//! network processes) for [`MEASURE`]. The same is done for the `empty_window` reference
//! binary (`src-tauri/src/bin/empty_window.rs`), and both are printed side by side.
//!
//! Cold start: the app is started [`DEFAULT_STARTS`] times with a fresh home folder each
//! time, and `first paint elapsed_ms=N` is read from its log (time from `run()` to the first
//! animation frame of the page), together with the wall time from spawning the process to
//! that line appearing.
//!
//! ```text
//! bash scripts/build.sh
//! cargo build --release -p mossy-live --features custom-protocol,bench-reference \
//!     --bin empty_window
//! DISPLAY=:99 cargo bench -p mossy-tests --bench idle [-- STARTS]
//! ```
//!
//! It prints figures and asserts no timing.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use mossy_tests::e2e::{APP_BIN_ENV, GroupChild, free_port, release_binary};
use mossy_tests::procfs::{all_pids, clock_ticks, mib, stat_fields, tree_cpu_ticks, tree_rss_kib};

/// Time after launch before measuring: the app reads its feed, polls the process list for
/// the first time (the one expensive poll) and paints; idle means after all that.
const SETTLE: Duration = Duration::from_secs(15);

/// How long idle CPU is measured. CPU time moves in 10 ms ticks, so 30 s resolves 0.03 %
/// of a core, well under the 1 % target.
const MEASURE: Duration = Duration::from_secs(30);

/// How often resident memory is sampled while idle CPU is measured.
const RSS_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// Launches for the cold-start figure when no argument gives a count: enough for a median
/// on a machine shared with builds.
const DEFAULT_STARTS: usize = 5;

/// Longest wait for the first-paint log line; the app paints within a second or two here.
const FIRST_PAINT_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the log is read while waiting for first paint; it is the wall figure's
/// resolution.
const LOG_POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Longest wait for a stopped app's WebKit processes to leave, so launches do not overlap.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variable naming the reference binary, for runs outside the workspace layout.
const EMPTY_BIN_ENV: &str = "MOSSY_EMPTY_WINDOW_BIN";

/// The log line the app writes when the page painted its first frame.
const FIRST_PAINT_MESSAGE: &str = "first paint";

/// The field of that line holding milliseconds since `run()` began.
const FIRST_PAINT_FIELD: &str = "elapsed_ms=";

/// Idle figures for one process tree.
#[derive(Debug, Default)]
struct Idle {
    /// CPU time over [`MEASURE`], in percent of one core.
    cpu_percent: f64,
    /// Mean of the RSS samples, in KiB.
    rss_mean_kib: u64,
    /// Per process name: RSS at the last sample (KiB) and CPU percent.
    by_name: HashMap<String, (u64, f64)>,
}

fn main() -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var_os("DISPLAY").is_some(),
        "DISPLAY is not set: start Xvfb first (see ../shared/TOOLCHAIN.md section 4)"
    );
    let starts = match std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
        Some(text) => text
            .parse()
            .with_context(|| format!("`{text}` is not a launch count"))?,
        None => DEFAULT_STARTS,
    };
    let app = release_binary("mossy-live", APP_BIN_ENV);
    let empty = release_binary("empty_window", EMPTY_BIN_ENV);
    let ticks = clock_ticks();

    let app_idle = measure_idle(&app, ticks)?;
    let empty_idle = measure_idle(&empty, ticks)?;
    print_idle(&app_idle, &empty_idle);

    cold_starts(&app, starts)
}

/// Launches `binary`, lets it settle and measures its tree for [`MEASURE`].
fn measure_idle(binary: &Path, ticks: u64) -> anyhow::Result<Idle> {
    let home = tempfile::tempdir()?;
    let mut child = launch(binary, home.path())?;
    let root = child.id();
    std::thread::sleep(SETTLE);

    let before = tree_cpu_ticks(root);
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut last = HashMap::new();
    while started.elapsed() < MEASURE {
        std::thread::sleep(RSS_SAMPLE_INTERVAL.min(MEASURE.saturating_sub(started.elapsed())));
        last = tree_rss_kib(root);
        samples.push(last.values().sum::<u64>());
    }
    let after = tree_cpu_ticks(root);
    let seconds = started.elapsed().as_secs_f64();
    stop(&mut child);

    let percent = |used: u64| used as f64 / ticks as f64 / seconds * 100.0;
    let mut cpu_by_name: HashMap<String, u64> = HashMap::new();
    for (pid, (name, now)) in &after {
        let then = before.get(pid).map_or(0, |(_, then)| *then);
        *cpu_by_name.entry(name.clone()).or_default() += now.saturating_sub(then);
    }
    let by_name = last
        .into_iter()
        .map(|(name, kib)| {
            let cpu = cpu_by_name.get(&name).copied().unwrap_or_default();
            (name, (kib, percent(cpu)))
        })
        .collect();
    Ok(Idle {
        cpu_percent: percent(cpu_by_name.values().sum()),
        rss_mean_kib: samples.iter().sum::<u64>() / samples.len().max(1) as u64,
        by_name,
    })
}

fn print_idle(app: &Idle, empty: &Idle) {
    println!(
        "idle: {} s after launch, measured over {} s; CPU in % of one core (2 cores here); \
         RSS = app + WebKit processes, mean of samples every {} s",
        SETTLE.as_secs(),
        MEASURE.as_secs(),
        RSS_SAMPLE_INTERVAL.as_secs()
    );
    println!("{:<14} {:>7} {:>9}", "", "cpu_%", "rss_mib");
    for (label, idle) in [("mossy-live", app), ("empty window", empty)] {
        println!(
            "{label:<14} {:>7.2} {:>9.1}",
            idle.cpu_percent,
            mib(idle.rss_mean_kib)
        );
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "{:<14} {:>7.2} {:>9.3}",
        "app / empty",
        ratio(app.cpu_percent, empty.cpu_percent),
        ratio(app.rss_mean_kib as f64, empty.rss_mean_kib as f64)
    );
    for (label, idle) in [("mossy-live", app), ("empty window", empty)] {
        let mut names: Vec<_> = idle.by_name.iter().collect();
        names.sort_by_key(|(_, (kib, _))| std::cmp::Reverse(*kib));
        let parts: Vec<String> = names
            .iter()
            .map(|(name, (kib, cpu))| format!("{name} {:.1} MiB {cpu:.2} %", mib(*kib)))
            .collect();
        println!("  {label}: {}", parts.join(", "));
    }
}

/// Starts the app `starts` times and prints the first-paint figures.
fn cold_starts(app: &Path, starts: usize) -> anyhow::Result<()> {
    let mut logged = Vec::new();
    let mut wall = Vec::new();
    for run in 1..=starts {
        let home = tempfile::tempdir()?;
        let spawned = Instant::now();
        let mut child = launch(app, home.path())?;
        let found = wait_for_first_paint(&home.path().join("logs"));
        let seen = spawned.elapsed();
        stop(&mut child);
        let elapsed_ms = found.with_context(|| {
            format!("launch {run}: no `{FIRST_PAINT_MESSAGE}` line within {FIRST_PAINT_TIMEOUT:?}")
        })?;
        println!(
            "  launch {run}: first paint elapsed_ms={elapsed_ms}, spawn to log line {} ms",
            seen.as_millis()
        );
        logged.push(elapsed_ms as f64);
        wall.push(seen.as_secs_f64() * 1000.0);
    }
    println!(
        "cold start to first paint over {starts} launches (fresh home each): \
         elapsed_ms {}; spawn to log line {}",
        spread(&mut logged),
        spread(&mut wall)
    );
    Ok(())
}

/// `median M ms (min A, max B)`.
fn spread(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    let median = values.get(values.len() / 2).copied().unwrap_or_default();
    let min = values.first().copied().unwrap_or_default();
    let max = values.last().copied().unwrap_or_default();
    format!("median {median:.0} ms (min {min:.0}, max {max:.0})")
}

/// Polls the log folder until the first-paint line appears; its `elapsed_ms`.
fn wait_for_first_paint(logs: &Path) -> Option<u64> {
    let deadline = Instant::now() + FIRST_PAINT_TIMEOUT;
    while Instant::now() < deadline {
        if let Some(elapsed) = first_paint_in(logs) {
            return Some(elapsed);
        }
        std::thread::sleep(LOG_POLL_INTERVAL);
    }
    None
}

fn first_paint_in(logs: &Path) -> Option<u64> {
    let files = std::fs::read_dir(logs).ok()?;
    files.flatten().find_map(|file| {
        let text = std::fs::read_to_string(file.path()).ok()?;
        let line = text
            .lines()
            .find(|line| line.contains(FIRST_PAINT_MESSAGE))?;
        let (_, value) = line.split_once(FIRST_PAINT_FIELD)?;
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// Starts `binary` in its own process group, with `home` as its home folder and the bridge
/// at a loopback port nothing listens on.
fn launch(binary: &Path, home: &Path) -> anyhow::Result<GroupChild> {
    let closed = format!("ws://127.0.0.1:{}/bridge", free_port());
    let mut command = Command::new(binary);
    command
        .env("MOSSY_LIVE_HOME", home)
        .env("MOSSY_BRIDGE_URL", closed)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    GroupChild::spawn(&mut command).with_context(|| format!("starting {}", binary.display()))
}

/// Ends the process group and waits until none of its processes is left.
fn stop(child: &mut GroupChild) {
    let group = child.id();
    child.terminate();
    let deadline = Instant::now() + EXIT_TIMEOUT;
    while group_alive(group) && Instant::now() < deadline {
        std::thread::sleep(LOG_POLL_INTERVAL);
    }
}

/// True while any process is in process group `group` (its processes outlive the leader
/// for a moment, and are no longer below it once it is gone).
fn group_alive(group: u32) -> bool {
    let group = group.to_string();
    all_pids().any(|pid| {
        let Some(fields) = stat_fields(pid) else {
            return false;
        };
        // A zombie is gone in all but name; its parent may not reap it soon.
        fields.get(2) == Some(&group) && fields.first().is_some_and(|state| state != "Z")
    })
}
