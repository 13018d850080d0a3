//! Wall-clock helpers. Every timestamp the app stores or shows is Unix milliseconds.

use std::time::{SystemTime, UNIX_EPOCH};

use mossy_protocol::bridge::EventTime;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

/// Resolves a bridge timestamp to Unix milliseconds; `None` when RFC 3339 text is invalid.
pub fn event_time_ms(at: &EventTime) -> Option<i64> {
    match at {
        EventTime::UnixMs(ms) => Some(*ms),
        EventTime::Rfc3339(text) => {
            let parsed = OffsetDateTime::parse(text, &Rfc3339).ok()?;
            i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_both_timestamp_forms() {
        assert_eq!(event_time_ms(&EventTime::UnixMs(12)), Some(12));
        assert_eq!(
            event_time_ms(&EventTime::Rfc3339("2026-12-04T10:00:00.250+01:00".into())),
            Some(1_796_374_800_250)
        );
        assert_eq!(event_time_ms(&EventTime::Rfc3339("yesterday".into())), None);
    }
}
