//! Latency samples measured in the webview, read by the benchmarks over WebDriver.
//!
//! When a feed entry Mossy reported reaches the page, the next animation frame (after the DOM
//! took the update) records `now - at`, the time from Mossy stamping the message to the user
//! being able to see it. Two functions on `window` expose the figures:
//! `mossyLatencyReport()` returns `{count, p50, p99, max}` in milliseconds as JSON text, and
//! `mossyLatencyReset()` starts over.

use std::cell::RefCell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Samples kept; at 1,000 messages/s this is the last minute and a bit, enough for a
/// percentile, bounded so a ten-minute soak does not grow the page.
const LATENCY_SAMPLE_LIMIT: usize = 65_536;

thread_local! {
    static SAMPLES: RefCell<Samples> = RefCell::new(Samples::default());
}

#[derive(Default)]
struct Samples {
    values: Vec<f64>,
    next: usize,
    installed: bool,
}

/// Records, on the next animation frame, the latency of events stamped at `stamps_ms`.
pub fn record_after_paint(stamps_ms: Vec<i64>) {
    if stamps_ms.is_empty() {
        return;
    }
    install();
    let callback = Closure::once_into_js(move || {
        let now = js_sys::Date::now();
        SAMPLES.with_borrow_mut(|samples| {
            for stamp in stamps_ms {
                samples.push(now - stamp as f64);
            }
        });
    });
    if let Some(window) = web_sys::window() {
        // Without animation frames (a hidden page) there is nothing to measure.
        let _ = window.request_animation_frame(callback.unchecked_ref());
    }
}

/// Reports the first painted frame to the backend, once, on the next animation frame.
pub fn report_first_paint() {
    let callback = Closure::once_into_js(|| {
        wasm_bindgen_futures::spawn_local(async {
            if let Err(err) = crate::ipc::report_first_paint().await {
                web_sys::console::warn_1(&err.message.into());
            }
        });
    });
    if let Some(window) = web_sys::window() {
        let _ = window.request_animation_frame(callback.unchecked_ref());
    }
}

impl Samples {
    fn push(&mut self, value: f64) {
        if self.values.len() < LATENCY_SAMPLE_LIMIT {
            self.values.push(value);
        } else {
            self.values[self.next] = value;
            self.next = (self.next + 1) % LATENCY_SAMPLE_LIMIT;
        }
    }

    fn report(&self) -> String {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if sorted.is_empty() {
                0.0
            } else {
                sorted[((sorted.len() - 1) as f64 * q).round() as usize]
            }
        };
        format!(
            r#"{{"count":{},"p50":{},"p99":{},"max":{}}}"#,
            sorted.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        )
    }
}

fn install() {
    let fresh = SAMPLES.with_borrow_mut(|samples| !std::mem::replace(&mut samples.installed, true));
    let Some(window) = web_sys::window().filter(|_| fresh) else {
        return;
    };
    let report = Closure::<dyn Fn() -> String>::new(|| SAMPLES.with_borrow(Samples::report));
    let reset = Closure::<dyn Fn()>::new(|| {
        SAMPLES.with_borrow_mut(|samples| {
            samples.values.clear();
            samples.next = 0;
        });
    });
    let _ = js_sys::Reflect::set(&window, &"mossyLatencyReport".into(), report.as_ref());
    let _ = js_sys::Reflect::set(&window, &"mossyLatencyReset".into(), reset.as_ref());
    // Both live as long as the page.
    report.forget();
    reset.forget();
}
