//! Placeholder for panels that are not built yet.

use leptos::prelude::*;

/// Says plainly that a panel is not built yet, so nobody mistakes it for a broken one.
#[component]
pub fn NotBuiltPage(title: &'static str) -> impl IntoView {
    view! {
        <section class="not-built">
            <h1>{title}</h1>
            <p>"This panel is not built yet. The Tool monitor is live today; this one comes next."</p>
        </section>
    }
}
