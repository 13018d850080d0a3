//! Formatting of times and sizes for display, in the user's locale where the browser knows it.

use wasm_bindgen::JsValue;

thread_local! {
    // Building a locale formatter is the expensive part of formatting a time (ICU loads its
    // patterns); a feed under load formats hundreds of rows a second, so build each once.
    static CLOCK_FORMAT: js_sys::Function = formatter(&[
        ("hour", "numeric"),
        ("minute", "2-digit"),
        ("second", "2-digit"),
    ]);
    static DATE_TIME_FORMAT: js_sys::Function =
        formatter(&[("dateStyle", "medium"), ("timeStyle", "medium")]);
}

/// Wall-clock time of a Unix-ms timestamp, such as `14:02:11`.
pub fn clock_time(ms: i64) -> String {
    CLOCK_FORMAT.with(|format| apply(format, ms))
}

/// Date and time of a Unix-ms timestamp, for tooltips.
pub fn date_time(ms: i64) -> String {
    DATE_TIME_FORMAT.with(|format| apply(format, ms))
}

/// The `format` function of an `Intl.DateTimeFormat` in the user's locale with `options`.
fn formatter(options: &[(&str, &str)]) -> js_sys::Function {
    let object = js_sys::Object::new();
    for (key, value) in options {
        // Setting a property on a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&object, &(*key).into(), &(*value).into());
    }
    js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &object).format()
}

fn apply(format: &js_sys::Function, ms: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format
        .call1(&JsValue::NULL, &date)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
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
