//! Socket-to-DOM latency of the Tool monitor feed in the real webview, and the memory and
//! CPU the app uses while a bridge flood goes on.
//!
//! `mossy-bridge-sim --flood` sends messages at a fixed rate (1,000 a second by default):
//! a start and an exit of Blender for one pid after another, each stamped (`at`) with its
//! send time in Unix milliseconds, so every message becomes a feed entry and every other one
//! a report the page measures. The release app runs under WebDriver (tauri-driver and
//! WebKitWebDriver) on the X display in `DISPLAY`, with a fresh home folder. For every feed
//! entry Mossy reported, the page records the time from the stamp to the animation frame
//! after the DOM took the entry (`frontend/src/perf.rs`). After [`WARM_UP`], this bench
//! reads and clears those samples every [`SAMPLE_INTERVAL`] and prints one row per window:
//! latency, the page's frame rate and longest frame gap, CPU of the app and of the WebKit
//! web process, the resident memory of the app and every process below it (so growth over
//! a long run shows as a column), and the page's element count and wasm memory.
//!
//! ```text
//! bash scripts/build.sh
//! DISPLAY=:99 cargo bench -p mossy-tests --bench webview_latency          # 60 s
//! DISPLAY=:99 cargo bench -p mossy-tests --bench webview_latency -- 600   # 10 minutes
//! ```
//!
//! The run length in seconds comes from the first argument or [`RUN_SECONDS_ENV`]; the
//! rate from [`RATE_ENV`]; [`FRAME_PROBE_ENV`]`=0` turns the frame counter off. It prints
//! figures and asserts no timing.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use mossy_tests::e2e::{AppSession, GroupChild, UI_TIMEOUT, free_port, release_binary};
use mossy_tests::procfs::{
    clock_ticks, descendants, describe, load_average, mib, process_name, tree_cpu_ticks,
    tree_rss_kib,
};

/// Messages a second unless [`RATE_ENV`] says otherwise: the burst the bus and the streams
/// are sized for.
const DEFAULT_RATE: u32 = 1_000;

/// Run length unless the arguments or [`RUN_SECONDS_ENV`] give one: six rows and about
/// 30,000 latency samples.
const DEFAULT_RUN: Duration = Duration::from_secs(60);

/// Environment variable with the run length in seconds.
const RUN_SECONDS_ENV: &str = "MOSSY_BENCH_SECONDS";

/// Environment variable with the message rate, per second.
const RATE_ENV: &str = "MOSSY_BENCH_RATE";

/// Environment variable that turns the frame-rate probe off when `0`.
const FRAME_PROBE_ENV: &str = "MOSSY_BENCH_FRAME_PROBE";

/// Time left to the flood before measuring: the first seconds carry the page's first load,
/// the wasm warming up and the feed writer's first transactions, which are start-up, not
/// the steady state this bench is about.
const WARM_UP: Duration = Duration::from_secs(5);

/// How often latency is read (and cleared) and memory sampled. The page keeps 65,536
/// samples, so a window must stay well under a minute at 1,000 a second; 10 s also makes
/// memory growth over a 10-minute run visible as 60 rows.
const SAMPLE_INTERVAL: Duration = Duration::from_secs(10);

/// Flood time beyond warm-up and run, covering the launch and the last read, so the flood
/// never ends before the measurement does.
const FLOOD_MARGIN: Duration = Duration::from_secs(60);

/// How often to look for the first reported entry.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The app's process name as the kernel keeps it (`/proc/<pid>/comm`).
const APP_PROCESS_NAME: &str = "mossy-live";

/// The WebKit process that runs the page (the kernel cuts names to 15 bytes).
const WEB_PROCESS_NAME: &str = "WebKitWebProces";

/// True once the page recorded a reported entry and installed the report functions.
const REPORT_INSTALLED: &str = "return typeof window.mossyLatencyReport === 'function';";

/// Counts animation frames and the longest gap between two, in a page global of its own.
/// It keeps the page producing frames even when nothing changed, which costs a little CPU.
const FRAME_PROBE: &str = "if (!window.mossyBenchFrames) { \
    const frames = { count: 0, last: 0, worst: 0 }; \
    window.mossyBenchFrames = frames; \
    const step = (now) => { \
        if (frames.last) { frames.worst = Math.max(frames.worst, now - frames.last); } \
        frames.last = now; frames.count += 1; requestAnimationFrame(step); \
    }; \
    requestAnimationFrame(step); \
}";

/// Reads latency and frames and clears both in one script, so nothing falls in between;
/// adds the page's element count and the wasm module's linear memory (the frontend's Rust
/// heap), which tell a page that keeps nodes or Rust data from WebKit's own growth. The
/// memory comes from the bindings Trunk's loader leaves on `window`; -1 when they are not
/// there.
const READ_AND_RESET: &str = "return (async () => { \
    const latency = JSON.parse(window.mossyLatencyReport()); \
    window.mossyLatencyReset(); \
    const frames = window.mossyBenchFrames || { count: 0, worst: 0 }; \
    const read = { latency, frames: frames.count, worst: frames.worst }; \
    frames.count = 0; frames.worst = 0; \
    read.nodes = document.getElementsByTagName('*').length; \
    read.wasm = -1; \
    const bindings = window.wasmBindings; \
    if (bindings && typeof bindings.default === 'function') { \
        const exports = await bindings.default(); \
        if (exports && exports.memory) { read.wasm = exports.memory.buffer.byteLength; } \
    } \
    return JSON.stringify(read); \
})();";

/// What to run.
#[derive(Debug, Clone, Copy)]
struct Options {
    run: Duration,
    rate: u32,
    frame_probe: bool,
}

/// One window as the page reports it; times in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Window {
    count: u64,
    p50: f64,
    p99: f64,
    max: f64,
    frames: u64,
    worst_frame: f64,
    nodes: u64,
    wasm_bytes: f64,
}

fn main() -> anyhow::Result<()> {
    let options = options()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(measure(options))
}

/// Settings from the first argument that is not a flag (cargo passes `--bench`) and the
/// environment; 60 s at 1,000 messages a second unless told otherwise.
fn options() -> anyhow::Result<Options> {
    let seconds = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let run = match seconds.or_else(|| std::env::var(RUN_SECONDS_ENV).ok()) {
        Some(text) => Duration::from_secs(
            text.parse()
                .with_context(|| format!("run length `{text}` is not whole seconds"))?,
        ),
        None => DEFAULT_RUN,
    };
    let rate = match std::env::var(RATE_ENV) {
        Ok(text) => text
            .parse()
            .with_context(|| format!("{RATE_ENV}=`{text}` is not a whole number"))?,
        Err(_) => DEFAULT_RATE,
    };
    let frame_probe = std::env::var(FRAME_PROBE_ENV).map_or(true, |value| value != "0");
    Ok(Options {
        run,
        rate,
        frame_probe,
    })
}

async fn measure(options: Options) -> anyhow::Result<()> {
    let port = free_port();
    let length = WARM_UP + options.run + FLOOD_MARGIN;
    let mut simulator = start_flood(port, options.rate, length)?;
    let home = tempfile::tempdir()?;
    let url = format!("ws://127.0.0.1:{port}/bridge");
    let session = AppSession::launch(home.path(), &url).await?;

    let result = follow(&session, options).await;
    session.close().await;
    simulator.terminate();
    result
}

/// Waits for the flood to reach the page, then prints a row per [`SAMPLE_INTERVAL`] and a
/// summary.
async fn follow(session: &AppSession, options: Options) -> anyhow::Result<()> {
    session
        .wait_for("#bridge-badge[data-state='connected']")
        .await?;
    let app = app_pid().context("no mossy-live process below this bench")?;
    wait_for_reports(session).await?;
    if options.frame_probe {
        session.client.execute(FRAME_PROBE, Vec::new()).await?;
    }
    tokio::time::sleep(WARM_UP).await;
    read_and_reset(session).await?;

    println!(
        "webview latency: flood of {} msgs/s for {} s, app pid {app}, rows every {} s, \
         load average {}",
        options.rate,
        options.run.as_secs(),
        SAMPLE_INTERVAL.as_secs(),
        load_average()
    );
    println!("CPU in % of one core (2 cores here); fps and worst frame gap from the page");
    println!(
        "{:>5} {:>7} {:>7} {:>7} {:>7} {:>5} {:>7} {:>7} {:>7} {:>8} {:>6} {:>8}",
        "t_s",
        "entries",
        "p50_ms",
        "p99_ms",
        "max_ms",
        "fps",
        "gap_ms",
        "cpu_app",
        "cpu_web",
        "rss_mib",
        "nodes",
        "wasm_mib"
    );
    let ticks = clock_ticks() as f64;
    let started = Instant::now();
    let mut windows = Vec::new();
    let mut rss = Vec::new();
    let mut first_breakdown = None;
    let mut last_breakdown = HashMap::new();
    let mut cpu_before = tree_cpu_ticks(app);
    let mut window_started = Instant::now();
    let mut next = tokio::time::Instant::now();
    while started.elapsed() + SAMPLE_INTERVAL / 2 < options.run {
        next += SAMPLE_INTERVAL;
        tokio::time::sleep_until(next).await;
        let window = read_and_reset(session).await?;
        let cpu_after = tree_cpu_ticks(app);
        let seconds = window_started.elapsed().as_secs_f64();
        window_started = Instant::now();
        let cpu =
            |name: &str| cpu_used(&cpu_before, &cpu_after, name) as f64 / ticks / seconds * 100.0;
        let breakdown = tree_rss_kib(app);
        let total_kib: u64 = breakdown.values().sum();
        println!(
            "{:>5} {:>7} {:>7.1} {:>7.1} {:>7.1} {:>5.1} {:>7.1} {:>7.1} {:>7.1} {:>8.1} {:>6} {:>8.1}",
            started.elapsed().as_secs(),
            window.count,
            window.p50,
            window.p99,
            window.max,
            window.frames as f64 / seconds,
            window.worst_frame,
            cpu(APP_PROCESS_NAME),
            cpu(WEB_PROCESS_NAME),
            mib(total_kib),
            window.nodes,
            window.wasm_bytes / 1024.0 / 1024.0
        );
        cpu_before = cpu_after;
        windows.push(window);
        rss.push(total_kib);
        first_breakdown.get_or_insert_with(|| breakdown.clone());
        last_breakdown = breakdown;
    }

    print_summary(&windows, &rss);
    let first_breakdown = first_breakdown.unwrap_or_default();
    println!("rss by process, first row: {}", describe(&first_breakdown));
    println!("rss by process, last row:  {}", describe(&last_breakdown));
    println!("load average at the end: {}", load_average());
    Ok(())
}

fn print_summary(windows: &[Window], rss: &[u64]) {
    let entries: u64 = windows.iter().map(|window| window.count).sum();
    let mut p50s: Vec<f64> = windows.iter().map(|window| window.p50).collect();
    let mut p99s: Vec<f64> = windows.iter().map(|window| window.p99).collect();
    p50s.sort_by(f64::total_cmp);
    p99s.sort_by(f64::total_cmp);
    let max = windows.iter().map(|window| window.max).fold(0.0, f64::max);
    println!(
        "latency: {entries} entries; p50 (median of rows) {:.1} ms; p99 median of rows \
         {:.1} ms, worst row {:.1} ms; max {max:.1} ms",
        median(&p50s),
        median(&p99s),
        p99s.last().copied().unwrap_or_default()
    );
    let first = rss.first().copied().unwrap_or_default();
    let last = rss.last().copied().unwrap_or_default();
    let peak = rss.iter().copied().max().unwrap_or_default();
    println!(
        "rss (app + webkit): first {:.1} MiB, last {:.1} MiB, max {:.1} MiB, last - first \
         {:+.1} MiB",
        mib(first),
        mib(last),
        mib(peak),
        mib(last) - mib(first)
    );
}

/// Starts the simulator flooding on `port`; returns once it listens.
fn start_flood(port: u16, rate: u32, length: Duration) -> anyhow::Result<GroupChild> {
    let sim = release_binary("mossy-bridge-sim", "MOSSY_BRIDGE_SIM_BIN");
    let mut command = Command::new(sim);
    command
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--flood", &rate.to_string()])
        .args(["--seconds", &length.as_secs().to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = GroupChild::spawn(&mut command).context("starting mossy-bridge-sim")?;
    child.wait_for_line("listening on");
    Ok(child)
}

/// Waits until the page recorded its first reported entry.
async fn wait_for_reports(session: &AppSession) -> anyhow::Result<()> {
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let installed = session.client.execute(REPORT_INSTALLED, Vec::new()).await?;
        if installed.as_bool() == Some(true) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no reported entry reached the page within {UI_TIMEOUT:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn read_and_reset(session: &AppSession) -> anyhow::Result<Window> {
    let value = session.client.execute(READ_AND_RESET, Vec::new()).await?;
    let text = value.as_str().context("the page returned no text")?;
    let read: serde_json::Value =
        serde_json::from_str(text).context("the page returned bad JSON")?;
    let number = |value: &serde_json::Value, key: &str| {
        value[key]
            .as_f64()
            .with_context(|| format!("the page's figures have no number `{key}`"))
    };
    let latency = &read["latency"];
    Ok(Window {
        count: number(latency, "count")? as u64,
        p50: number(latency, "p50")?,
        p99: number(latency, "p99")?,
        max: number(latency, "max")?,
        frames: number(&read, "frames")? as u64,
        worst_frame: number(&read, "worst")?,
        nodes: number(&read, "nodes")? as u64,
        wasm_bytes: number(&read, "wasm")?,
    })
}

fn median(sorted: &[f64]) -> f64 {
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// CPU ticks used between two snapshots by the processes named `name`.
fn cpu_used(
    before: &HashMap<u32, (String, u64)>,
    after: &HashMap<u32, (String, u64)>,
    name: &str,
) -> u64 {
    after
        .iter()
        .filter(|(_, (process, _))| process == name)
        .map(|(pid, (_, now))| now.saturating_sub(before.get(pid).map_or(0, |(_, then)| *then)))
        .sum()
}

// Process-tree sampling from /proc. idle.rs has the same few functions: a bench target
// cannot share a module without a library file, and these stay small.

/// The app WebKitWebDriver started for this bench: the descendant of this process named
/// [`APP_PROCESS_NAME`].
fn app_pid() -> Option<u32> {
    descendants(std::process::id())
        .into_iter()
        .find(|pid| process_name(*pid).as_deref() == Some(APP_PROCESS_NAME))
}
