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

/// Optional ways for a page to steer a list and see what it shows.
#[derive(Clone, Copy, Default)]
pub struct ListControl {
    /// Set to a row position to scroll it into the middle of the view; the list sets it
    /// back to `None` once done.
    pub scroll_to: Option<RwSignal<Option<usize>>>,
    /// While true the list keeps its last row in view as rows are added. Scrolling up
    /// turns it off; scrolling back to the bottom turns it on again.
    pub follow_tail: Option<RwSignal<bool>>,
    /// Receives the range of rows rendered, overscan included.
    pub range: Option<RwSignal<std::ops::Range<usize>>>,
}

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
    controlled_list(count, row_height, rows, key, row, ListControl::default())
}

/// [`virtual_list`] steered by a [`ListControl`].
pub fn controlled_list<T, K, V>(
    count: Signal<usize>,
    row_height: f64,
    rows: impl Fn(std::ops::Range<usize>) -> Vec<T> + Send + Sync + 'static,
    key: impl Fn(&T) -> K + Send + Sync + Clone + 'static,
    row: impl Fn(T) -> V + Send + Sync + Clone + 'static,
    control: ListControl,
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
    if let Some(out) = control.range {
        Effect::new(move |_| out.set(range.get()));
    }
    if let Some(follow) = control.follow_tail {
        // After rows are added, and once the spacer has grown, jump to the bottom.
        Effect::new(move |_| {
            let _ = count.get();
            if follow.get() {
                request_animation_frame(move || {
                    if let Some(element) = viewport.get_untracked() {
                        element.set_scroll_top(element.scroll_height());
                    }
                });
            }
        });
    }
    if let Some(target) = control.scroll_to {
        Effect::new(move |_| {
            let Some(position) = target.get() else {
                return;
            };
            target.set(None);
            if let Some(follow) = control.follow_tail {
                follow.set(false);
            }
            request_animation_frame(move || {
                if let Some(element) = viewport.get_untracked() {
                    let middle = position as f64 * row_height
                        - (f64::from(element.client_height()) - row_height) / 2.0;
                    element.set_scroll_top(middle.max(0.0) as i32);
                }
            });
        });
    }

    let spacer_height = move || format!("{}px", count.get() as f64 * row_height);
    let window_offset = move || format!("translateY({}px)", range.get().start as f64 * row_height);

    view! {
        <div
            class="vlist"
            node_ref=viewport
            on:scroll=move |event| {
                let target = event_target::<web_sys::Element>(&event);
                let top = f64::from(target.scroll_top());
                let previous = scroll_top.get_untracked();
                set_scroll_top.set(top);
                if let Some(follow) = control.follow_tail {
                    // Rows arriving never move the view up, so only the user scrolling up
                    // stops following; reaching the bottom again resumes it.
                    let bottom = target.scroll_top() + target.client_height();
                    let at_bottom = f64::from(target.scroll_height() - bottom) < row_height;
                    if top < previous - 1.0 && follow.get_untracked() {
                        follow.set(false);
                    } else if at_bottom && !follow.get_untracked() {
                        follow.set(true);
                    }
                }
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
