//! Webview end-to-end test of the Assets panel: the release app in WebKitGTK under Xvfb,
//! driven over WebDriver, pointed at a temporary folder of real Fallout 4 files (from
//! `tests/fixtures/assets/`) through `MOSSY_ASSETS_DIRS`.
//!
//! Run by `scripts/test.sh`, which builds the app and starts Xvfb first. Without a display,
//! driver or app build this test fails; it never skips.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mossy_protocol::assets::thumb_url;
use mossy_tests::e2e::{
    AppSession, UI_TIMEOUT, free_port, start_simulator, start_simulator_with, workspace_root,
};

/// Textures copied from the shared BC fixtures, all of which decode.
const TEXTURES: [&str; 4] = [
    "DX9 BC1_UNORM.dds",
    "DX10 BC7_UNORM.dds",
    "DX10 BC5_UNORM.dds",
    "dxt5-simple.dds",
];

/// A `.dds` holding noise, which must get an error badge and never stop the gallery.
const CORRUPT: &str = "Broken #1 50%.dds";

/// A real texture cut in half: its header reads, its pixels are not all there.
const CUT_SHORT: &str = "Cut short #2 ü.dds";

/// The folder name carries a space, `#` and a non-ASCII letter, as modders' folders do.
const FOLDER: &str = "Mod #1 ü Textures";

/// Held for the whole of each test, so the two app sessions here never overlap. Without a
/// session bus, the first app to start autolaunches a D-Bus daemon inside its driver's
/// process group; closing that session ends the daemon, and the other session's
/// WebKitWebDriver then drops its connection ("webdriver could not be reached").
/// `scripts/test.sh` now runs the tests inside one `dbus-run-session`; the lock stays so a
/// run by hand without a session bus is not flaky either.
static ONE_SESSION_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn shared_fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/assets")
}

/// Reads a value from the page with a script.
/// Loads `url` as an image in the page; its natural width, or 0 when it failed to load.
async fn image_width(app: &AppSession, url: &str) -> anyhow::Result<u64> {
    let width = app
        .client
        .execute_async(
            "const [url, done] = arguments; const img = new Image(); \
             img.onload = () => done(img.naturalWidth); img.onerror = () => done(0); \
             img.src = url;",
            vec![serde_json::Value::String(url.to_owned())],
        )
        .await?;
    Ok(width.as_u64().unwrap_or(0))
}

/// Width and height from a legacy DDS header (little-endian at bytes 16 and 12).
fn dds_size(path: &Path) -> anyhow::Result<(u32, u32)> {
    let bytes = std::fs::read(path)?;
    let field = |at: usize| -> anyhow::Result<u32> {
        let slice = bytes
            .get(at..at + 4)
            .ok_or_else(|| anyhow::anyhow!("{} is too short", path.display()))?;
        Ok(u32::from_le_bytes(slice.try_into()?))
    };
    Ok((field(16)?, field(12)?))
}

/// Deterministic noise (xorshift), so a failure can be reproduced byte for byte.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_panel_shows_thumbnails_details_errors_and_new_files() -> anyhow::Result<()> {
    let _alone = ONE_SESSION_AT_A_TIME.lock().await;
    let home = tempfile::Builder::new().prefix("home assets ").tempdir()?;
    let outer = tempfile::tempdir()?;
    let folder = outer.path().join(FOLDER);
    std::fs::create_dir_all(&folder)?;
    let bc = shared_fixtures().join("textures/bc");
    for name in TEXTURES {
        std::fs::copy(bc.join(name), folder.join(name))?;
    }
    let data = shared_fixtures().join("fo4/Data");
    let mut names: Vec<String> = TEXTURES.iter().map(|n| (*n).to_owned()).collect();
    for entry in std::fs::read_dir(&data)? {
        let entry = entry?;
        std::fs::copy(entry.path(), folder.join(entry.file_name()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    std::fs::write(folder.join(CORRUPT), noise(4096))?;
    names.push(CORRUPT.to_owned());
    let whole = std::fs::read(bc.join(TEXTURES[0]))?;
    std::fs::write(folder.join(CUT_SHORT), &whole[..whole.len() / 2])?;
    names.push(CUT_SHORT.to_owned());
    // A texture outside the chosen folder, which the thumbnail scheme must refuse.
    let outside = outer.path().join("outside.dds");
    std::fs::copy(bc.join(TEXTURES[0]), &outside)?;

    let port = free_port();
    let _simulator = start_simulator(port, "bare.jsonl");
    let app = AppSession::launch_with_env(
        home.path(),
        &format!("ws://127.0.0.1:{port}/bridge"),
        &[("MOSSY_ASSETS_DIRS", folder.as_os_str())],
    )
    .await?;
    app.wait_for("#nav-assets").await?.click().await?;
    app.wait_for("#asset-roots .root[data-state='ready']")
        .await?;

    // Every file gets a card, the count says so, and the textures' thumbnails load.
    app.wait_until(
        &format!(
            "return document.querySelectorAll('.asset-card[data-name]').length === {};",
            names.len()
        ),
        "every file has a card",
    )
    .await?;
    let count = app.wait_for("#asset-count").await?;
    assert_eq!(
        count.prop("textContent").await?,
        Some(format!("{} files", names.len()))
    );
    let decodable = TEXTURES.len() + 1; // plus Blank.dds from the game fixtures
    app.wait_until(
        &format!(
            "return [...document.querySelectorAll('.asset-card img')] \
               .filter(img => img.complete && img.naturalWidth > 0).length === {decodable};"
        ),
        "the texture thumbnails have loaded",
    )
    .await?;
    app.wait_for(&format!(
        ".asset-card[data-name='{CORRUPT}'].has-error .badge.error"
    ))
    .await?;
    app.wait_for(".asset-card[data-name='DX10 BC5_UNORM.dds'] .badge.normal")
        .await?;
    let shot = app.screenshot("assets-grid").await?;
    println!("screenshot: {}", shot.display());

    // Selecting a texture shows its header in the details pane, and a larger preview.
    let picked = TEXTURES[0];
    app.wait_for(&format!(".asset-card[data-name='{picked}']"))
        .await?
        .click()
        .await?;
    let format = app.wait_for("#asset-details .detail-format").await?;
    assert_eq!(format.prop("textContent").await?.as_deref(), Some("BC1"));
    let (width, height) = dds_size(&folder.join(picked))?;
    let dimensions = app.wait_for("#asset-details .detail-dimensions").await?;
    assert_eq!(
        dimensions.prop("textContent").await?,
        Some(format!("{width} × {height}"))
    );
    let path = app.wait_for("#asset-details .detail-path").await?;
    assert_eq!(
        path.prop("textContent").await?,
        Some(folder.join(picked).to_string_lossy().into_owned())
    );
    app.wait_until(
        "const img = document.querySelector('#asset-details .detail-preview img'); \
         return !!img && img.complete && img.naturalWidth > 0;",
        "the large preview has loaded",
    )
    .await?;
    let shot = app.screenshot("assets-details").await?;
    println!("screenshot: {}", shot.display());

    // The corrupt file's details say why it cannot be read.
    app.wait_for(&format!(".asset-card[data-name='{CORRUPT}']"))
        .await?
        .click()
        .await?;
    let reason = app.wait_for("#asset-details .detail-error").await?;
    let reason = reason.prop("textContent").await?.unwrap_or_default();
    assert!(
        reason.contains("DDS"),
        "the error names the format: {reason}"
    );
    app.wait_for("#asset-details .detail-preview img.failed")
        .await?;
    app.wait_for("#asset-details .detail-preview .badge.error")
        .await?;

    // A texture whose header reads but whose data is cut short: its details show the header
    // and say why there is no preview; its card's badge says it too.
    app.wait_for(&format!(".asset-card[data-name='{CUT_SHORT}']"))
        .await?
        .click()
        .await?;
    let format = app.wait_for("#asset-details .detail-format").await?;
    assert_eq!(format.prop("textContent").await?.as_deref(), Some("BC1"));
    let reason = app.wait_for("#asset-details .detail-error").await?;
    let reason = reason.prop("textContent").await?.unwrap_or_default();
    assert!(
        reason.starts_with("No preview: "),
        "the details say why there is no preview: {reason}"
    );
    app.wait_until(
        &format!(
            "const badge = document.querySelector(\
               \".asset-card[data-name='{CUT_SHORT}'].has-error .badge.error\"); \
             return !!badge && badge.title === {};",
            serde_json::Value::String(reason.clone())
        ),
        "the card's error badge says why too",
    )
    .await?;

    // The scheme serves files inside the folder, and refuses the same picture outside it,
    // directly or through `..`.
    let origin = "thumb://localhost";
    let inside = folder.join(picked).to_string_lossy().into_owned();
    assert!(image_width(&app, &thumb_url(origin, &inside, 1, false)).await? > 0);
    let direct = outside.to_string_lossy().into_owned();
    assert_eq!(
        image_width(&app, &thumb_url(origin, &direct, 1, false)).await?,
        0
    );
    let sneaky = folder.join("../outside.dds").to_string_lossy().into_owned();
    assert_eq!(
        image_width(&app, &thumb_url(origin, &sneaky, 1, false)).await?,
        0
    );

    // A file written into the folder shows up, first (newest first), with its thumbnail.
    let late = "Late arrival ü #2.dds";
    let written = Instant::now();
    std::fs::copy(bc.join("dxt1-simple.dds"), folder.join(late))?;
    app.wait_for(&format!(".asset-card[data-name='{late}']"))
        .await?;
    println!("new file showed after {} ms", written.elapsed().as_millis());
    let first = app
        .script("return document.querySelector('.asset-card[data-name]').dataset.name;")
        .await?;
    assert_eq!(first.as_str(), Some(late), "the newest file comes first");
    app.wait_until(
        &format!(
            "const img = document.querySelector(\".asset-card[data-name='{late}'] img\"); \
             return !!img && img.complete && img.naturalWidth > 0;"
        ),
        "the new file's thumbnail has loaded",
    )
    .await?;
    let shot = app.screenshot("assets-new-file").await?;
    println!("screenshot: {}", shot.display());

    app.close().await;
    Ok(())
}

/// Images the simulator writes per request (`mossy_core::sim::previews::PREVIEW_COUNT`).
const PREVIEWS_PER_REQUEST: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_panel_generates_previews_through_the_simulator() -> anyhow::Result<()> {
    let _alone = ONE_SESSION_AT_A_TIME.lock().await;
    let home = tempfile::Builder::new()
        .prefix("home previews ")
        .tempdir()?;
    let outer = tempfile::tempdir()?;
    let folder = outer.path().join(FOLDER);
    std::fs::create_dir_all(&folder)?;
    let bc = shared_fixtures().join("textures/bc");
    for name in TEXTURES {
        std::fs::copy(bc.join(name), folder.join(name))?;
    }
    let sim_out = outer.path().join("Mossy output #1 ü");

    let port = free_port();
    let _simulator = start_simulator_with(
        port,
        "bare.jsonl",
        &["--previews-dir".as_ref(), sim_out.as_os_str()],
    );
    let app = AppSession::launch_with_env(
        home.path(),
        &format!("ws://127.0.0.1:{port}/bridge"),
        &[("MOSSY_ASSETS_DIRS", folder.as_os_str())],
    )
    .await?;
    app.wait_for("#bridge-badge[data-state='connected']")
        .await?;
    app.wait_for("#nav-assets").await?.click().await?;
    let picked = TEXTURES[1];
    app.wait_for(&format!(".asset-card[data-name='{picked}']"))
        .await?
        .click()
        .await?;
    app.wait_for("#asset-details .detail-format").await?;

    // An empty prompt is refused with a sentence, and nothing is sent.
    app.wait_for("#preview-generate").await?.click().await?;
    let refusal = app.wait_for("#asset-previews .preview-refusal").await?;
    let refusal = refusal.prop("textContent").await?.unwrap_or_default();
    assert!(refusal.starts_with("Type what"), "{refusal}");

    // A prompt sends the request; the bar moves, then the images come and load.
    app.wait_for("#preview-prompt")
        .await?
        .send_keys("rusty, snow-covered")
        .await?;
    app.wait_for("#preview-generate").await?.click().await?;
    let mut seen_percents = Vec::new();
    let deadline = Instant::now() + UI_TIMEOUT;
    loop {
        let state = app
            .script(
                "const r = document.querySelector('#asset-previews .preview-request'); \
             if (!r) return null; \
             const p = r.querySelector('.preview-percent'); \
             return [r.dataset.status, p ? p.textContent : null, \
                     r.querySelector('progress') ? r.querySelector('progress').value : null];",
            )
            .await?;
        if let Some([status, percent, bar]) = state.as_array().map(Vec::as_slice) {
            if status == "running" {
                seen_percents.push((percent.clone(), bar.clone()));
            }
            if status == "complete" || status == "failed" {
                break;
            }
        }
        anyhow::ensure!(Instant::now() < deadline, "the request never finished");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        !seen_percents.is_empty(),
        "the progress bar was never seen while running"
    );
    println!("progress seen: {seen_percents:?}");
    let prompt = app.wait_for("#asset-previews .preview-prompt").await?;
    assert_eq!(
        prompt.prop("textContent").await?.as_deref(),
        Some("rusty, snow-covered")
    );
    app.wait_for("#asset-previews .preview-request[data-status='complete']")
        .await?;
    app.wait_until(
        &format!(
            "const imgs = [...document.querySelectorAll('#asset-previews .preview-gallery img')]; \
             return imgs.length === {PREVIEWS_PER_REQUEST} \
               && imgs.every(img => img.complete && img.naturalWidth > 0);"
        ),
        "every preview image has loaded",
    )
    .await?;
    // The page loads the app's own copies, never the paths the simulator wrote.
    let sources = app
        .script(
            "return [...document.querySelectorAll('#asset-previews .preview-gallery img')] \
           .map(img => img.src);",
        )
        .await?;
    let sources: Vec<String> = serde_json::from_value(sources)?;
    for source in &sources {
        assert!(
            source.starts_with("thumb://localhost/previews/"),
            "{source}"
        );
    }
    let written = std::fs::read_dir(&sim_out)?.count();
    assert_eq!(written, 1, "the simulator wrote one request folder");
    let shot = app.screenshot("assets-previews").await?;
    println!("screenshot: {}", shot.display());

    // A click enlarges an image; another closes it.
    app.wait_for("#asset-previews .preview-thumb")
        .await?
        .click()
        .await?;
    app.wait_until(
        "const img = document.querySelector('#preview-enlarged img'); \
         return !!img && img.complete && img.naturalWidth > 0;",
        "the enlarged preview has loaded",
    )
    .await?;
    let shot = app.screenshot("assets-previews-enlarged").await?;
    println!("screenshot: {}", shot.display());
    app.wait_for("#preview-enlarged").await?.click().await?;

    // The request survives a trip to another panel.
    app.wait_for("#nav-tools").await?.click().await?;
    app.wait_for("#nav-assets").await?.click().await?;
    app.wait_for(&format!(".asset-card[data-name='{picked}']"))
        .await?
        .click()
        .await?;
    app.wait_until(
        &format!(
            "return document.querySelectorAll( \
               '#asset-previews .preview-request[data-status=\"complete\"] .preview-gallery img' \
             ).length === {PREVIEWS_PER_REQUEST};"
        ),
        "the request is still listed after switching panels",
    )
    .await?;

    app.close().await;
    Ok(())
}

/// Files in the big-folder test: enough that rendering every card would be slow and
/// obvious, few enough to copy in a second.
const MANY: usize = 3000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_grid_stays_virtual_filters_and_empties_with_thousands_of_files()
-> anyhow::Result<()> {
    let _alone = ONE_SESSION_AT_A_TIME.lock().await;
    let home = tempfile::Builder::new()
        .prefix("home assets big ")
        .tempdir()?;
    let outer = tempfile::tempdir()?;
    let folder = outer.path().join("Big #2 ü");
    std::fs::create_dir_all(&folder)?;
    let texture = std::fs::read(shared_fixtures().join("textures/bc/dxt1-simple.dds"))?;
    // Modification times one second apart, so "newest first" has one right answer.
    let base = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for number in 0..MANY {
        let path = folder.join(format!("tex {number:04}.dds"));
        std::fs::write(&path, &texture)?;
        std::fs::File::options()
            .write(true)
            .open(&path)?
            .set_modified(base + Duration::from_secs(number as u64))?;
    }

    let port = free_port();
    let _simulator = start_simulator(port, "bare.jsonl");
    let app = AppSession::launch_with_env(
        home.path(),
        &format!("ws://127.0.0.1:{port}/bridge"),
        &[("MOSSY_ASSETS_DIRS", folder.as_os_str())],
    )
    .await?;
    app.wait_for("#nav-assets").await?.click().await?;
    app.wait_until(
        &format!("return document.querySelector('#asset-count')?.textContent === '{MANY} files';"),
        "every file is counted",
    )
    .await?;

    // Newest first, and only the rows near the view exist.
    app.wait_until(
        "const card = document.querySelector('.asset-card[data-name]'); \
         return !!card && card.dataset.name === 'tex 2999.dds';",
        "the newest file comes first",
    )
    .await?;
    let cards = app
        .script("return document.querySelectorAll('.asset-card').length;")
        .await?;
    let cards = cards.as_u64().unwrap_or(0);
    assert!(
        cards > 0 && cards < 300,
        "{cards} cards in the DOM for {MANY} files"
    );

    // The bottom of the grid holds the oldest file, with its thumbnail.
    app.script(
        "const list = document.querySelector('#assets-grid .vlist'); \
         list.scrollTop = list.scrollHeight; return true;",
    )
    .await?;
    app.wait_until(
        "const img = document.querySelector(\".asset-card[data-name='tex 0000.dds'] img\"); \
         return !!img && img.complete && img.naturalWidth > 0;",
        "the oldest file's thumbnail has loaded at the bottom",
    )
    .await?;
    let shot = app.screenshot("assets-bottom").await?;
    println!("screenshot: {}", shot.display());

    // Regression: every index update rebuilt the grid, whose rows then no longer matched
    // its scroll position (the oldest files vanished from a grid scrolled to the bottom).
    std::fs::write(folder.join("tex new.dds"), &texture)?;
    app.wait_until(
        &format!(
            "return document.querySelector('#asset-count')?.textContent === '{} files';",
            MANY + 1
        ),
        "the new file is counted",
    )
    .await?;
    // Two more updates (the new file's header) may follow; let them land.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let in_view = app
        .script(
            "const list = document.querySelector('#assets-grid .vlist').getBoundingClientRect(); \
         const card = document.querySelector(\".asset-card[data-name='tex 0000.dds']\"); \
         if (!card) return false; const box = card.getBoundingClientRect(); \
         return box.bottom > list.top && box.top < list.bottom;",
        )
        .await?;
    assert_eq!(
        in_view,
        serde_json::Value::Bool(true),
        "the oldest file stays in view at the bottom after an update"
    );

    // The text filter narrows the count and the grid.
    app.wait_for("#asset-search")
        .await?
        .send_keys("tex 01")
        .await?;
    app.wait_until(
        "return document.querySelector('#asset-count')?.textContent === '100 files';",
        "the filter leaves tex 0100 to tex 0199",
    )
    .await?;
    app.wait_until(
        "const names = [...document.querySelectorAll('.asset-card[data-name]')] \
           .map(card => card.dataset.name); \
         return names.length > 0 && names[0] === 'tex 0199.dds' \
           && names.every(name => name.startsWith('tex 01'));",
        "the grid shows only matching files, newest first",
    )
    .await?;

    // Removing the folder empties the gallery and says what to do.
    app.wait_for("#asset-roots .root-remove")
        .await?
        .click()
        .await?;
    app.wait_for("#assets-empty").await?;
    let shot = app.screenshot("assets-empty").await?;
    println!("screenshot: {}", shot.display());

    // Adding a folder by typing its path: a relative one is refused with a reason, the
    // real one brings the files back.
    let input = app.wait_for("#folder-path").await?;
    input.send_keys("Big #2 ü").await?;
    app.wait_for("#folder-add").await?.click().await?;
    let message = app.wait_for(".error-box p").await?;
    let message = message.prop("textContent").await?.unwrap_or_default();
    assert!(message.contains("not a full path"), "{message}");
    input.clear().await?;
    input.send_keys(&folder.to_string_lossy()).await?;
    app.wait_for("#folder-add").await?.click().await?;
    app.wait_for("#asset-roots .root").await?;
    // WebDriver's clear fires no `input` event; empty the filter the way typing does.
    app.script(
        "const box = document.querySelector('#asset-search'); box.value = ''; \
         box.dispatchEvent(new Event('input')); return true;",
    )
    .await?;
    app.wait_until(
        &format!(
            "return document.querySelector('#asset-count')?.textContent === '{} files';",
            MANY + 1
        ),
        "the folder added by path is indexed again",
    )
    .await?;

    app.close().await;
    Ok(())
}
