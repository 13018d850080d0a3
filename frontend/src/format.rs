//! Formatting of times and sizes for display, in the user's locale where the browser knows it.

use wasm_bindgen::JsValue;

/// Wall-clock time of a Unix-ms timestamp, such as `14:02:11`.
pub fn clock_time(ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    String::from(date.to_locale_time_string("default"))
}

/// Date and time of a Unix-ms timestamp, for tooltips.
pub fn date_time(ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    String::from(date.to_locale_string("default", &JsValue::UNDEFINED))
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A memory size such as `512 MB` or `1.4 GB`.
pub fn memory(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = bytes as f64 / MIB;
    if mib >= 1024.0 {
        format!("{:.1} GB", mib / 1024.0)
    } else {
        format!("{mib:.0} MB")
    }
}
