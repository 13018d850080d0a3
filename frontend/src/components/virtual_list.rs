//! A virtualised list: only the rows in view (plus a small margin) exist in the DOM, so a
//! list of ten thousand entries scrolls as smoothly as one of ten.
//!
//! Rows have one fixed height. The list keeps a spacer as tall as all rows together, and
//! moves a window holding the visible rows to the scroll position.

use std::hash::Hash;

use leptos::ev;
use leptos::html::Div;
use leptos::prelude::*;

/// Rows rendered above and below the visible ones, so a fast flick shows no gap.
const OVERSCAN_ROWS: usize = 8;

/// Viewport height assumed before the list has been measured.
const FALLBACK_VIEWPORT_PX: f64 = 600.0;

/// A scrolling list of `count` rows of `row_height` pixels. `rows(range)` returns the items
/// at those display positions; `key` identifies an item; `row` renders one.
pub fn virtual_list<T, K, V>(
    count: Signal<usize>,
    row_height: f64,
    rows: impl Fn(std::ops::Range<usize>) -> Vec<T> + Send + Sync + 'static,
    key: impl Fn(&T) -> K + Send + Sync + Clone + 'static,
    row: impl Fn(T) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView
where
    T: Send + Sync + 'static,
    K: Eq + Hash + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let viewport = NodeRef::<Div>::new();
    let (scroll_top, set_scroll_top) = signal(0.0_f64);
    let (viewport_height, set_viewport_height) = signal(FALLBACK_VIEWPORT_PX);

    let measure = move || {
        if let Some(element) = viewport.get_untracked() {
            set_viewport_height.set(f64::from(element.client_height()).max(row_height));
        }
    };
    Effect::new(move |_| {
        if viewport.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let range = Memo::new(move |_| {
        let total = count.get();
        let first = (scroll_top.get() / row_height).floor() as usize;
        let start = first.saturating_sub(OVERSCAN_ROWS).min(total);
        let visible = (viewport_height.get() / row_height).ceil() as usize;
        let end = (first + visible + OVERSCAN_ROWS).min(total);
        start..end
    });
    let spacer_height = move || format!("{}px", count.get() as f64 * row_height);
    let window_offset = move || format!("translateY({}px)", range.get().start as f64 * row_height);

    view! {
        <div
            class="vlist"
            node_ref=viewport
            on:scroll=move |event| {
                let target = event_target::<web_sys::Element>(&event);
                set_scroll_top.set(f64::from(target.scroll_top()));
            }
        >
            <div class="vlist-spacer" style:height=spacer_height>
                <div class="vlist-window" style:transform=window_offset>
                    <For each=move || rows(range.get()) key=key.clone() children=row.clone() />
                </div>
            </div>
        </div>
    }
}
