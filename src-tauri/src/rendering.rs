//! How the webview paints on Linux.
//!
//! WebKitGTK composites pages with OpenGL. On a machine with no GPU render node (a virtual
//! machine, a remote desktop, Xvfb) that OpenGL is Mesa's software rasteriser, and it costs
//! most of every frame: the Assets grid scrolled at 9 frames a second and a first screen of
//! thumbnails took twice as long as without compositing (BENCHMARKS.md, "Painting without a
//! GPU"). There the app asks WebKit never to composite, which paints the same page on the
//! CPU directly. With a GPU, WebKit's own choice stands, and so does any
//! `WEBKIT_DISABLE_COMPOSITING_MODE` the user set. Windows and macOS are not affected.

use std::path::Path;

use tauri::WebviewWindow;

/// Where Linux lists GPU devices; render nodes are named `renderD128` and up.
const DRI_DIR: &str = "/dev/dri";

/// WebKit's own switch; when the user set it, theirs is the last word.
const WEBKIT_COMPOSITING_ENV: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Applies the painting choice to a newly built window's webview.
pub fn apply(window: &WebviewWindow) {
    if !paint_without_compositing() {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let label = window.label().to_owned();
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = webview.inner().settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        match applied {
            Ok(()) => tracing::info!(label, "no GPU render node: painting without compositing"),
            Err(err) => tracing::warn!(label, error = %err, "painting choice not applied"),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

/// True on Linux when the machine has no GPU render node and the user left WebKit's own
/// switch alone.
fn paint_without_compositing() -> bool {
    cfg!(target_os = "linux")
        && std::env::var_os(WEBKIT_COMPOSITING_ENV).is_none()
        && !has_render_node(Path::new(DRI_DIR))
}

/// True when `dri` lists a GPU render node; a missing or unreadable folder lists none.
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_render_node_counts_as_a_gpu() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dri = dir.path().join("dri");
        assert!(!has_render_node(&dri), "no folder, no GPU");

        std::fs::create_dir(&dri).expect("dri folder");
        std::fs::write(dri.join("card0"), b"").expect("card node");
        assert!(
            !has_render_node(&dri),
            "a display card alone is not a render node"
        );

        std::fs::write(dri.join("renderD128"), b"").expect("render node");
        assert!(has_render_node(&dri));
    }
}
