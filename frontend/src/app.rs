//! The app shell: navigation between the four panels, the bridge badge, and the router.

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::components::bridge_badge::{BridgeBadge, provide_bridge_status};
use crate::pages::assets::AssetsPage;
use crate::pages::build::BuildPage;
use crate::pages::not_built::NotBuiltPage;
use crate::pages::tool_monitor::ToolMonitorPage;

/// The whole UI.
#[component]
pub fn App() -> impl IntoView {
    provide_bridge_status();
    Effect::new(|_| crate::perf::report_first_paint());

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
                </nav>
                <main class="panel">
                    <Routes fallback=|| view! { <p class="empty">"This panel does not exist."</p> }>
                        <Route path=path!("/") view=ToolMonitorPage />
                        <Route path=path!("/build") view=BuildPage />
                        <Route
                            path=path!("/editor")
                            view=|| view! { <NotBuiltPage title="Editor" /> }
                        />
                        <Route path=path!("/assets") view=AssetsPage />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}
