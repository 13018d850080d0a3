//! The Assets panel with big folders, in the real webview: how long until the first screen of
//! thumbnails shows, and whether 50,000 assets scroll smoothly.
//!
//! 1. **First screen of 10,000 textures.** A folder of 10,000 copies of one fixture texture
//!    ([`DEFAULT_TEXTURE`], or the file named by [`TEXTURE_ENV`]), each with its own
//!    modification time, under a temporary path holding a space, `#` and `ü`. A script in the
//!    page notes `performance.now()`, types the folder's path into the panel's add-folder form
//!    (value, `input` event, then a click on *Add folder*) and follows every animation frame
//!    until the first screen is complete: every `.asset-card` whose box meets the grid's
//!    visible rectangle has an `<img>` that is `complete` with a `naturalWidth`, and at least
//!    one row lies wholly inside it. The figure is the frame after that one, when it has been
//!    painted; the bench reads it back over WebDriver. Three openings per round:
//!    - *cold*: a fresh home folder, so no index, no thumbnail cache and a new webview data
//!      folder (WebKit keeps its caches in the home too);
//!    - *warm, reopened*: the same home in a new app, after the cold session removed the
//!      folder from the panel; the folder is added through the form again. This is what
//!      "opening a folder with a warm cache" means here: the same action as cold, with the
//!      thumbnails already on disk and the folder's index rows kept aside since its removal
//!      (it is still scanned again, behind the first screen). A new app rather than
//!      remove-and-add in one session, because thumbnails are served `immutable` and the
//!      page's memory cache would answer instead of the disk;
//!    - *warm, restarted*: the same home again, the folder still chosen; measured from the
//!      click on *Assets*, the everyday case of starting the app the next day.
//! 2. **50,000 assets scrolled.** A fresh home with a folder of 50,000 small real files
//!    (plugins and archives from `tests/fixtures/assets/fo4`, every tenth file the texture),
//!    given through `MOSSY_ASSETS_DIRS`. Once `#asset-count` shows them all and the app's CPU
//!    has settled (it reads every header after the scan), the page records frame gaps for
//!    [`IDLE_REFERENCE`] untouched, then moves the grid's `scrollTop` from top to bottom in
//!    proportion to the time, on every animation frame, for [`SCROLL_TIME`] (a fling), then
//!    back up at [`STEADY_ROWS_PER_SECOND`] for as long, recording the gap between frames.
//!    Printed for each: frames a second, median, p95, p99 and longest gap, how many of
//!    those frames still had a placeholder card (its row not fetched yet); and the
//!    `.asset-card` elements in the DOM at the end, and the resident memory of the app and
//!    of WebKit's web process.
//!
//! ```text
//! Xvfb :99 -screen 0 1280x800x24 -nolisten tcp &      # keep its pid; kill it by pid afterwards
//! DISPLAY=:99 dbus-run-session -- cargo bench -p mossy-tests --bench assets_screen [-- ROUNDS]
//! ```
//!
//! The release app comes from `target/release/mossy-live` or `MOSSY_LIVE_BIN`; the bridge
//! points at a closed loopback port, so the app retries in the background as it does when
//! Mossy is not running. Xvfb has no GPU: WebKit paints in software, without compositing
//! (the app's choice on a machine with no GPU render node, `src-tauri/src/rendering.rs`). Screenshots of the
//! first screen and of the scrolled grid go to `target/screenshots/`. It prints figures and
//! asserts no timing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use mossy_assets::dds::{DdsHeader, read_dds_header};
use mossy_tests::e2e::{APP_BIN_ENV, AppSession, free_port, release_binary, workspace_root};
use mossy_tests::procfs::{
    clock_ticks, descendants, describe, load_average, mib, process_name, tree_cpu_ticks,
    tree_rss_kib,
};
use serde_json::{Value, json};

/// Textures in the first-screen folder.
const TEXTURES: usize = 10_000;

/// Files in the scrolling folder.
const SCROLL_FILES: usize = 50_000;

/// One file in this many of the scrolling folder is a texture, so thumbnails are still made
/// while it scrolls; the rest are plugins and archives.
const TEXTURE_EVERY: usize = 10;

/// The texture copied unless [`TEXTURE_ENV`] names another, below `tests/fixtures/assets`:
/// BC7 is the format Fallout 4's own textures use most and the dearest to decode.
const DEFAULT_TEXTURE: &str = "textures/bc/DX10 BC7_UNORM.dds";

/// Environment variable naming another `.dds` to copy, such as `fo4/Data/Blank.dds`.
const TEXTURE_ENV: &str = "MOSSY_BENCH_TEXTURE";

/// Small real files the scrolling folder cycles through, below `tests/fixtures/assets`.
const SMALL_FILES: [&str; 4] = [
    "fo4/Data/Blank.esp",
    "fo4/Data/Blank - Main.ba2",
    "fo4/Data/MiscStatMurders - Five.esp",
    "fo4/Data/Blank - Textures.ba2",
];

/// Rounds of the three openings unless the first argument or [`ROUNDS_ENV`] says otherwise:
/// enough for a median on a machine shared with builds.
const DEFAULT_ROUNDS: usize = 3;

/// Environment variable with the number of rounds.
const ROUNDS_ENV: &str = "MOSSY_BENCH_ROUNDS";

/// Longest wait for a first screen; a cold one takes seconds, so this only ends a stuck run.
const FIRST_SCREEN_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest wait for the scrolling folder to be counted: a first scan of 50,000 files.
const INDEX_TIMEOUT: Duration = Duration::from_secs(180);

/// How often the page is asked whether its figure is ready; the figure itself is measured
/// in the page, so this only sets how soon the bench moves on.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Frames recorded before scrolling, with nothing moving: what this display does at all.
const IDLE_REFERENCE: Duration = Duration::from_secs(2);

/// How long the grid takes from top to bottom: about 800 rows a second at six cards a row,
/// a hard fling rather than reading, which is where a grid shows its seams.
const SCROLL_TIME: Duration = Duration::from_secs(10);

/// The app counts as settled after the scan when it uses less than this share of one core
/// over one [`QUIET_SAMPLE`].
const QUIET_CPU_SHARE: f64 = 0.05;

/// The window over which the app's CPU is sampled while waiting for it to settle.
const QUIET_SAMPLE: Duration = Duration::from_secs(1);

/// Longest wait for the app to settle; the scroll starts anyway after it, saying so.
const QUIET_TIMEOUT: Duration = Duration::from_secs(120);

/// The app's process name as the kernel keeps it (`/proc/<pid>/comm`).
const APP_PROCESS_NAME: &str = "mossy-live";

/// The WebKit process that runs the page (the kernel cuts names to 15 bytes).
const WEB_PROCESS_NAME: &str = "WebKitWebProces";

/// Starts an opening and follows it frame by frame into `window.__assetsOpening`.
/// Arguments: the folder to type into the form, or `null` to click *Assets* instead; the
/// text `#asset-count` shows once every file is counted.
const OPENING_PROBE: &str = include_str!("assets_screen/opening.js");

/// Reads what [`OPENING_PROBE`] recorded so far.
const OPENING_READ: &str = "return window.__assetsOpening || null;";

/// A steady scroll back up after the fling, in rows a second: a fast mouse wheel or a
/// dragged scrollbar looking for something, quick but followed by the eye.
const STEADY_ROWS_PER_SECOND: f64 = 60.0;

/// Height of a row of cards in the grid, in pixels (`CARD_ROW_PX` in the frontend).
const CARD_ROW_PX: f64 = 212.0;

/// Records frame gaps, first untouched, then while moving the grid. Arguments: the idle
/// and the scrolling time, in milliseconds, and the speed (see the script).
const SCROLL_PROBE: &str = include_str!("assets_screen/scroll.js");

/// Reads what [`SCROLL_PROBE`] recorded, once it is done.
const SCROLL_READ: &str = "const s = window.__assetsScroll; return s && s.done ? s : null;";

/// The grid after scrolling: cards in the DOM, cards still waiting for their row, and the
/// name of the last card, which is the oldest file once the bottom is reached.
const GRID_STATE: &str = r#"
const cards = [...document.querySelectorAll('.asset-card')];
const named = cards.filter(card => card.dataset.name);
return { cards: cards.length, pending: cards.filter(c => c.classList.contains('pending')).length,
         last: named.length ? named[named.length - 1].dataset.name : null };
"#;

/// How a measured opening starts.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// Type this folder into the add-folder form and submit it.
    AddFolder(&'a Path),
    /// Click *Assets* in the navigation; the folder is already chosen.
    Navigate,
}

/// One opening as the page recorded it, in milliseconds from its start, and the memory
/// afterwards.
#[derive(Debug, Clone, Copy)]
struct Opening {
    /// First card with a file in it.
    grid_ms: Option<f64>,
    /// `#asset-count` shows every file.
    count_ms: Option<f64>,
    /// The frame after the first screen was complete.
    first_screen_ms: f64,
    /// Cards on the first screen.
    cards: u64,
    rss_app_kib: u64,
    rss_web_kib: u64,
}

/// The openings of one round, in the order they run on one home folder.
const OPENINGS: [&str; 3] = ["cold", "warm, reopened", "warm, restarted"];

/// The fixture texture every copy is made from.
struct Texture {
    path: PathBuf,
    bytes: Vec<u8>,
    header: DdsHeader,
}

fn main() -> anyhow::Result<()> {
    anyhow::ensure!(
        std::env::var_os("DISPLAY").is_some(),
        "DISPLAY is not set: start Xvfb first (see the top of this file)"
    );
    let rounds = rounds()?;
    release_binary("mossy-live", APP_BIN_ENV);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async {
        // Zero rounds goes straight to the scrolling.
        if rounds > 0 {
            first_screens(rounds).await?;
        }
        scrolling().await
    })
}

/// Rounds from the first argument that is not a flag (cargo passes `--bench`) or the
/// environment.
fn rounds() -> anyhow::Result<usize> {
    let given = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    match given.or_else(|| std::env::var(ROUNDS_ENV).ok()) {
        Some(text) => text
            .parse()
            .with_context(|| format!("`{text}` is not a number of rounds")),
        None => Ok(DEFAULT_ROUNDS),
    }
}

async fn first_screens(rounds: usize) -> anyhow::Result<()> {
    let texture = texture()?;
    let outer = tempfile::Builder::new()
        .prefix("mossy bench #ü ")
        .tempdir()?;
    let folder = outer.path().join("Textures #1 ü");
    let written = Instant::now();
    fill_folder(&folder, TEXTURES, |number| {
        (format!("tex {number:05}.dds"), texture.bytes.as_slice())
    })?;
    println!(
        "first screen: {TEXTURES} copies of {} ({}) in \"{}\", written in {:.1} s; \
         load average {}",
        texture.path.display(),
        describe_texture(&texture),
        folder.display(),
        written.elapsed().as_secs_f64(),
        load_average()
    );
    println!(
        "{:<18} {:>5} {:>5} {:>8} {:>9} {:>15} {:>11} {:>11}",
        "opening",
        "round",
        "cards",
        "grid_ms",
        "count_ms",
        "first_screen_ms",
        "rss_app_mib",
        "rss_web_mib"
    );

    let count_text = format!("{TEXTURES} files");
    let mut all = Vec::new();
    for round in 1..=rounds {
        let measured = first_screen_round(&folder, &count_text, round == 1).await?;
        for (label, opening) in OPENINGS.iter().zip(&measured) {
            print_opening(label, round, opening);
        }
        all.push(measured);
    }

    println!("first screen over {rounds} rounds (ms from the action to the painted frame):");
    for (which, label) in OPENINGS.iter().enumerate() {
        let mut figures: Vec<f64> = all.iter().map(|r| r[which].first_screen_ms).collect();
        println!("  {label:<16} {}", spread(&mut figures));
    }
    println!("load average after the first screens: {}", load_average());
    Ok(())
}

/// The [`OPENINGS`] of one round, on one fresh home folder.
async fn first_screen_round(
    folder: &Path,
    count_text: &str,
    shoot: bool,
) -> anyhow::Result<[Opening; 3]> {
    let home = tempfile::Builder::new()
        .prefix("mossy bench home ")
        .tempdir()?;

    let app = launch(home.path(), &[]).await?;
    let cold = async {
        open_empty_panel(&app).await?;
        let cold = measure_opening(&app, Start::AddFolder(folder), count_text).await?;
        if shoot {
            screenshot(&app, "assets-first-screen-cold").await?;
        }
        // The next app adds the folder again, so take it out of the index (thumbnails stay).
        app.wait_for("#asset-roots .root-remove")
            .await?
            .click()
            .await?;
        app.wait_for("#assets-empty").await?;
        anyhow::Ok(cold)
    }
    .await;
    app.close().await;
    let cold = cold.context("cold opening")?;

    let app = launch(home.path(), &[]).await?;
    let reopened = async {
        open_empty_panel(&app).await?;
        let reopened = measure_opening(&app, Start::AddFolder(folder), count_text).await?;
        if shoot {
            screenshot(&app, "assets-first-screen-warm").await?;
        }
        anyhow::Ok(reopened)
    }
    .await;
    app.close().await;
    let reopened = reopened.context("warm opening of the folder added again")?;

    let app = launch(home.path(), &[]).await?;
    let restarted = measure_opening(&app, Start::Navigate, count_text).await;
    app.close().await;
    let restarted = restarted.context("warm opening after a restart")?;

    Ok([cold, reopened, restarted])
}

/// Shows the Assets panel of an app with no folder chosen.
async fn open_empty_panel(app: &AppSession) -> anyhow::Result<()> {
    app.wait_for("#nav-assets").await?.click().await?;
    app.wait_for("#assets-empty").await?;
    app.wait_for("#folder-path").await?;
    Ok(())
}

/// Starts an opening in the page and waits for the page's figure.
async fn measure_opening(
    app: &AppSession,
    start: Start<'_>,
    count_text: &str,
) -> anyhow::Result<Opening> {
    let folder = match start {
        Start::AddFolder(path) => Value::String(path.to_string_lossy().into_owned()),
        Start::Navigate => Value::Null,
    };
    app.client
        .execute(OPENING_PROBE, vec![folder, json!(count_text)])
        .await?;
    let state = poll(
        app,
        OPENING_READ,
        FIRST_SCREEN_TIMEOUT,
        |state| state["done"].is_number(),
        "the first screen of thumbnails",
    )
    .await?;

    let rss = app_pid().map(tree_rss_kib).unwrap_or_default();
    Ok(Opening {
        grid_ms: state["grid"].as_f64(),
        count_ms: state["count"].as_f64(),
        first_screen_ms: state["done"].as_f64().unwrap_or_default(),
        cards: state["cards"].as_u64().unwrap_or_default(),
        rss_app_kib: rss.get(APP_PROCESS_NAME).copied().unwrap_or_default(),
        rss_web_kib: rss.get(WEB_PROCESS_NAME).copied().unwrap_or_default(),
    })
}

fn print_opening(label: &str, round: usize, opening: &Opening) {
    let optional = |ms: Option<f64>| ms.map_or("-".to_owned(), |ms| format!("{ms:.0}"));
    println!(
        "{label:<18} {round:>5} {:>5} {:>8} {:>9} {:>15.0} {:>11.1} {:>11.1}",
        opening.cards,
        optional(opening.grid_ms),
        optional(opening.count_ms),
        opening.first_screen_ms,
        mib(opening.rss_app_kib),
        mib(opening.rss_web_kib)
    );
}

async fn scrolling() -> anyhow::Result<()> {
    let fixtures = workspace_root().join("tests/fixtures/assets");
    let texture = texture()?;
    let small = SMALL_FILES
        .iter()
        .map(|name| {
            let path = fixtures.join(name);
            let bytes = std::fs::read(&path).with_context(|| format!("reading {name}"))?;
            let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            anyhow::Ok((file_name.unwrap_or_default(), bytes))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let outer = tempfile::Builder::new()
        .prefix("mossy bench #ü ")
        .tempdir()?;
    let folder = outer.path().join("Data #50k ü");
    fill_folder(&folder, SCROLL_FILES, |number| {
        if number % TEXTURE_EVERY == 0 {
            return (format!("{number:05} tex.dds"), texture.bytes.as_slice());
        }
        let (name, bytes) = &small[number % small.len()];
        (format!("{number:05} {name}"), bytes.as_slice())
    })?;
    println!(
        "scrolling: {SCROLL_FILES} files in \"{}\" (one in {TEXTURE_EVERY} the texture, the rest \
         plugins and archives), load average {}",
        folder.display(),
        load_average()
    );

    let home = tempfile::Builder::new()
        .prefix("mossy bench home ")
        .tempdir()?;
    let app = launch(home.path(), &[("MOSSY_ASSETS_DIRS", folder.as_os_str())]).await?;
    let result = scroll_grid(&app).await;
    app.close().await;
    result
}

async fn scroll_grid(app: &AppSession) -> anyhow::Result<()> {
    let pid = app_pid().context("no mossy-live process below this bench")?;
    let counting = Instant::now();
    app.wait_for("#nav-assets").await?.click().await?;
    let counted = format!(
        "const c = document.querySelector('#asset-count'); \
         return !!c && c.textContent === '{SCROLL_FILES} files';"
    );
    poll(
        app,
        &counted,
        INDEX_TIMEOUT,
        |done| done.as_bool() == Some(true),
        "every file counted",
    )
    .await?;
    let counted_after = counting.elapsed();
    let (settled, quiet) = wait_until_quiet(pid).await;
    println!(
        "  counted {SCROLL_FILES} files {:.1} s after opening the panel; app {} {:.1} s later",
        counted_after.as_secs_f64(),
        if quiet {
            "settled"
        } else {
            "still busy, scrolling anyway,"
        },
        settled.as_secs_f64()
    );

    println!(
        "{:<22} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8}",
        "window", "frames", "fps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "waiting"
    );
    let fling = scroll_once(app, None).await?;
    print_frames(
        "idle, before (ref.)",
        fling.idle,
        IDLE_REFERENCE.as_secs_f64() * 1000.0,
        None,
    );
    print_frames(
        "fling to the bottom",
        fling.gaps,
        fling.elapsed_ms,
        Some(fling.waiting),
    );
    let at_end = app.client.execute(GRID_STATE, Vec::new()).await?;
    let rss = tree_rss_kib(pid);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let settled_end = app.client.execute(GRID_STATE, Vec::new()).await?;
    screenshot(app, "assets-scrolled-bottom").await?;

    let steady = scroll_once(app, Some(-STEADY_ROWS_PER_SECOND * CARD_ROW_PX)).await?;
    print_frames(
        &format!("{STEADY_ROWS_PER_SECOND} rows/s upwards"),
        steady.gaps,
        steady.elapsed_ms,
        Some(steady.waiting),
    );
    println!(
        "  (waiting: frames in which a card still waited for its row; the steady scroll moved \
         {:.0} rows)",
        steady.moved_px / CARD_ROW_PX
    );
    println!(
        "  .asset-card in the DOM: {} at the end ({} pending, last \"{}\"), {} a second later \
         ({} pending, last \"{}\")",
        at_end["cards"],
        at_end["pending"],
        at_end["last"].as_str().unwrap_or("-"),
        settled_end["cards"],
        settled_end["pending"],
        settled_end["last"].as_str().unwrap_or("-")
    );
    let rss_of = |name: &str| mib(rss.get(name).copied().unwrap_or_default());
    println!(
        "  rss at the end: app {:.1} MiB, web process {:.1} MiB; all: {}",
        rss_of(APP_PROCESS_NAME),
        rss_of(WEB_PROCESS_NAME),
        describe(&rss)
    );
    println!("load average after scrolling: {}", load_average());
    Ok(())
}

/// What the scroll probe recorded for one movement.
struct Scrolled {
    idle: Vec<f64>,
    gaps: Vec<f64>,
    waiting: u64,
    elapsed_ms: f64,
    moved_px: f64,
}

/// Records [`IDLE_REFERENCE`] of idle frames, then moves the grid for [`SCROLL_TIME`]: at
/// `speed` pixels a second, or from top to bottom when `None`.
async fn scroll_once(app: &AppSession, speed: Option<f64>) -> anyhow::Result<Scrolled> {
    let idle_ms = IDLE_REFERENCE.as_millis() as u64;
    let scroll_ms = SCROLL_TIME.as_millis() as u64;
    app.client
        .execute(
            SCROLL_PROBE,
            vec![json!(idle_ms), json!(scroll_ms), json!(speed)],
        )
        .await?;
    let recorded = poll(
        app,
        SCROLL_READ,
        IDLE_REFERENCE + SCROLL_TIME + FIRST_SCREEN_TIMEOUT,
        |state| !state.is_null(),
        "the end of the scroll",
    )
    .await?;
    let numbers = |key: &str| -> Vec<f64> {
        let values = recorded[key].as_array().cloned().unwrap_or_default();
        values.iter().filter_map(Value::as_f64).collect()
    };
    Ok(Scrolled {
        idle: numbers("idle"),
        gaps: numbers("gaps"),
        waiting: recorded["waiting"].as_u64().unwrap_or_default(),
        elapsed_ms: recorded["elapsed"].as_f64().unwrap_or_default(),
        moved_px: recorded["moved"].as_f64().unwrap_or_default(),
    })
}

fn print_frames(label: &str, mut gaps: Vec<f64>, elapsed_ms: f64, waiting: Option<u64>) {
    gaps.sort_by(f64::total_cmp);
    let fps = if elapsed_ms > 0.0 {
        gaps.len() as f64 / elapsed_ms * 1000.0
    } else {
        0.0
    };
    let waiting = waiting.map_or_else(|| "-".to_owned(), |w| w.to_string());
    println!(
        "{label:<22} {:>6} {fps:>6.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {waiting:>8}",
        gaps.len(),
        percentile(&gaps, 0.50),
        percentile(&gaps, 0.95),
        percentile(&gaps, 0.99),
        gaps.last().copied().unwrap_or_default()
    );
}

/// Waits until the app uses less than [`QUIET_CPU_SHARE`] of a core over a
/// [`QUIET_SAMPLE`]; how long that took and whether it happened within [`QUIET_TIMEOUT`].
async fn wait_until_quiet(pid: u32) -> (Duration, bool) {
    let ticks = clock_ticks() as f64;
    let started = Instant::now();
    let own = |sample: &HashMap<u32, (String, u64)>| sample.get(&pid).map_or(0, |(_, t)| *t);
    while started.elapsed() < QUIET_TIMEOUT {
        let before = own(&tree_cpu_ticks(pid));
        tokio::time::sleep(QUIET_SAMPLE).await;
        let used = own(&tree_cpu_ticks(pid)).saturating_sub(before) as f64 / ticks;
        if used < QUIET_SAMPLE.as_secs_f64() * QUIET_CPU_SHARE {
            return (started.elapsed(), true);
        }
    }
    (started.elapsed(), false)
}

/// Runs `read` every [`POLL_INTERVAL`] until `done` accepts its value, which it returns;
/// after `limit`, fails with `what` and the last value seen.
async fn poll(
    app: &AppSession,
    read: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
    what: &str,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let value = app.client.execute(read, Vec::new()).await?;
        if done(&value) {
            return Ok(value);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "no {what} within {limit:?}; the page's last state: {value}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Launches the app on `home` with the bridge at a loopback port nothing listens on.
async fn launch(home: &Path, env: &[(&str, &std::ffi::OsStr)]) -> anyhow::Result<AppSession> {
    let closed = format!("ws://127.0.0.1:{}/bridge", free_port());
    AppSession::launch_with_env(home, &closed, env).await
}

/// Saves what the window shows under `target/screenshots/<name>.png`.
async fn screenshot(app: &AppSession, name: &str) -> anyhow::Result<()> {
    let path = app.save_screenshot(name, "target/screenshots").await?;
    println!("  screenshot: {}", path.display());
    Ok(())
}

/// The fixture texture, read and its header parsed by the app's own reader.
fn texture() -> anyhow::Result<Texture> {
    let path = match std::env::var_os(TEXTURE_ENV) {
        Some(path) => PathBuf::from(path),
        None => workspace_root()
            .join("tests/fixtures/assets")
            .join(DEFAULT_TEXTURE),
    };
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let header = read_dds_header(bytes.as_slice())
        .with_context(|| format!("{} is not a texture the app reads", path.display()))?;
    Ok(Texture {
        path,
        bytes,
        header,
    })
}

fn describe_texture(texture: &Texture) -> String {
    let header = &texture.header;
    format!(
        "{}{}, {}×{}, {} mips, {:?} header, {} bytes",
        header.format,
        if header.srgb { " sRGB" } else { "" },
        header.width,
        header.height,
        header.mip_count,
        header.header,
        texture.bytes.len()
    )
}

/// Writes `count` files into `folder`, named and filled by `file`, the file numbered `n`
/// modified `n` seconds after a fixed time, so "newest first" has one right answer.
fn fill_folder<'a>(
    folder: &Path,
    count: usize,
    file: impl Fn(usize) -> (String, &'a [u8]),
) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for number in 0..count {
        let (name, bytes) = file(number);
        let path = folder.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(base + Duration::from_secs(number as u64))?;
    }
    Ok(())
}

/// The app WebKitWebDriver started for this bench: the descendant of this process named
/// [`APP_PROCESS_NAME`]. Only one app runs at a time here.
fn app_pid() -> Option<u32> {
    descendants(std::process::id())
        .into_iter()
        .find(|pid| process_name(*pid).as_deref() == Some(APP_PROCESS_NAME))
}

/// `median M ms (min A, max B, n N)`.
fn spread(values: &mut [f64]) -> String {
    values.sort_by(f64::total_cmp);
    format!(
        "median {:.0} ms (min {:.0}, max {:.0}, n {})",
        percentile(values, 0.5),
        values.first().copied().unwrap_or_default(),
        values.last().copied().unwrap_or_default(),
        values.len()
    )
}

/// The value at `share` of the way through `sorted` (nearest rank).
fn percentile(sorted: &[f64], share: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() - 1) as f64 * share).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}
