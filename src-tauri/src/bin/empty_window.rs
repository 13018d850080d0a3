//! The reference "empty Tauri window" for `tests/benches/idle.rs`, and nothing more.
//!
//! It exists only as that benchmark's baseline: the app's own window configuration (same
//! label, title and 1280×800 size, from `tauri.conf.json`) showing a blank page, with no
//! services, commands, streams, plugins or logging. What the app costs at idle beyond this
//! binary is what Mossy Live itself adds to the window and the webview engine.
//!
//! It paints the way the app does on the same machine (`mossy_live_lib::rendering`).
//!
//! The blank page comes from a one-line custom scheme. `about:blank` would be simpler, but
//! WebKitGTK shows it without starting a web process, which the app always has, so the
//! baseline would leave out the engine's largest process; `data:` URLs need a Tauri feature
//! the app does not build with.
//!
//! Built only with the `bench-reference` feature, never shipped:
//!
//! ```text
//! cargo build --release -p mossy-live --features custom-protocol,bench-reference \
//!     --bin empty_window
//! ```

use anyhow::Context;
use tauri::http::{Response, header};
use tauri::{Url, WebviewUrl};

/// The scheme serving the blank page.
const BLANK_SCHEME: &str = "blank";

/// The window's address: the blank scheme in the form WebKitGTK (Linux) loads custom schemes.
const BLANK_URL: &str = "blank://localhost/";

/// An empty HTML document: no script, no style, nothing to lay out.
const BLANK_PAGE: &[u8] = b"<!doctype html><title>Mossy Live</title>";

fn main() {
    if let Err(err) = run() {
        eprintln!("empty_window: {err:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let mut context = tauri::generate_context!();
    let window = context
        .config_mut()
        .app
        .windows
        .first_mut()
        .context("tauri.conf.json declares no window to copy")?;
    window.url = WebviewUrl::CustomProtocol(Url::parse(BLANK_URL)?);
    // The app creates its window itself (to give it a data folder); this one lets Tauri.
    window.create = true;

    tauri::Builder::default()
        .setup(|app| {
            // Painted the way the app paints its own windows on this machine.
            if let Some(window) = tauri::Manager::get_webview_window(app, "main") {
                mossy_live_lib::rendering::apply(&window);
            }
            Ok(())
        })
        .register_uri_scheme_protocol(BLANK_SCHEME, |_, _| {
            let mut response = Response::new(BLANK_PAGE.to_vec());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html"),
            );
            response
        })
        .run(context)
        .context("running the empty window")
}
