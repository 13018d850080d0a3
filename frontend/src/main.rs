//! Mossy Live's frontend: Leptos pages rendered in the app's webview.
//!
//! [`app`] holds the shell (navigation, the bridge badge, the router); each panel is a page
//! in [`pages`]; shared widgets live in [`components`]. Everything the backend says arrives
//! through [`ipc`].

mod app;
mod components;
mod format;
mod ipc;
mod pages;
mod panel_window;
mod perf;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
