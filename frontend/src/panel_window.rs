//! A panel in a window of its own, as Mossy opens it (`mossy-live --panel build` or
//! `mossy-live://panel/build`): the backend loads `/panel/<name>`, and this shell shows that
//! one panel under a slim header, with no navigation to the others.

use leptos::prelude::*;
use leptos_router::components::Router;
use mossy_protocol::panel::Panel;

use crate::components::bridge_badge::BridgeBadge;
use crate::pages::assets::AssetsPage;
use crate::pages::build::BuildPage;
use crate::pages::editor::EditorPage;
use crate::pages::tool_monitor::ToolMonitorPage;

/// The path prefix of a panel window's page.
const PANEL_PATH: &str = "/panel/";

/// The panel this window was opened for, from its address; `None` in the main window (and
/// for an unknown name, which then gets the main shell's "does not exist" page).
pub fn requested_panel() -> Option<Panel> {
    let path = web_sys::window()?.location().pathname().ok()?;
    let name = path.strip_prefix(PANEL_PATH)?;
    Panel::from_slug(name.trim_end_matches('/'))
}

/// One panel and a slim header: its name and the bridge badge.
#[component]
pub fn PanelWindow(panel: Panel) -> impl IntoView {
    let page = match panel {
        Panel::ToolMonitor => view! { <ToolMonitorPage /> }.into_any(),
        Panel::Build => view! { <BuildPage /> }.into_any(),
        Panel::Editor => view! { <EditorPage /> }.into_any(),
        Panel::Assets => view! { <AssetsPage /> }.into_any(),
    };
    view! {
        <Router>
            <div class="shell panel-window" data-panel=panel.slug()>
                <header class="panel-window-header">
                    <span class="brand">"Mossy Live"</span>
                    <span class="panel-window-title">{panel.title()}</span>
                    <div class="nav-spacer"></div>
                    <BridgeBadge />
                </header>
                <main class="panel">{page}</main>
            </div>
        </Router>
    }
}
