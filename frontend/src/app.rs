//! The app shell: navigation between the four panels and Settings, the bridge badge, and
//! the router. A panel window (`/panel/<name>`) gets its own slim shell instead
//! ([`crate::panel_window`]).

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::components::bridge_badge::{BridgeBadge, provide_bridge_status};
use crate::pages::assets::AssetsPage;
use crate::pages::build::BuildPage;
use crate::pages::editor::EditorPage;
use crate::pages::settings::SettingsPage;
use crate::pages::tool_monitor::ToolMonitorPage;
use crate::panel_window::PanelWindow;

/// The whole UI.
#[component]
pub fn App() -> impl IntoView {
    provide_bridge_status();
    Effect::new(|_| crate::perf::report_first_paint());
    if let Some(panel) = crate::panel_window::requested_panel() {
        return view! { <PanelWindow panel /> }.into_any();
    }

    view! {
        <Router>
            <div class="shell">
                <nav class="nav">
                    <div class="brand">"Mossy Live"</div>
                    <A href="/" exact=true attr:id="nav-tools">"Tool monitor"</A>
                    <A href="/build" attr:id="nav-build">"Build"</A>
                    <A href="/editor" attr:id="nav-editor">"Editor"</A>
                    <A href="/assets" attr:id="nav-assets">"Assets"</A>
                    <div class="nav-spacer"></div>
                    <BridgeBadge />
                    <A href="/settings" attr:id="nav-settings" attr:class="nav-settings">
                        <span aria-hidden="true">"⚙"</span>
                        " Settings"
                    </A>
                </nav>
                <main class="panel">
                    <Routes fallback=|| view! { <p class="empty">"This panel does not exist."</p> }>
                        <Route path=path!("/") view=ToolMonitorPage />
                        <Route path=path!("/build") view=BuildPage />
                        <Route path=path!("/editor") view=EditorPage />
                        <Route path=path!("/assets") view=AssetsPage />
                        <Route path=path!("/settings") view=SettingsPage />
                    </Routes>
                </main>
            </div>
        </Router>
    }
    .into_any()
}
