//! The Assets panel: the modder's textures, meshes, plugins and archives, live.

use leptos::prelude::*;

use crate::pages::not_built::NotBuiltPage;

/// The Assets page.
#[component]
pub fn AssetsPage() -> impl IntoView {
    view! { <NotBuiltPage title="Assets" /> }
}
