//! Turning one text frame from the bridge into a message, or into a reason to drop it.
//!
//! The happy path costs two passes over the text: a borrowing pass that reads only `type`
//! (so a number or a missing tag is refused, and an unknown type keeps its name), then the
//! full decode of [`BridgeMessage`]. Only a failed frame pays for a closer look at why it
//! failed, so a bad sender slows nothing but its own frames.
//!
//! The result is normalised for readers: `at` always comes back as
//! [`EventTime::UnixMs`], whatever form it had on the wire, so nobody downstream parses
//! time again, and [`BridgeMessage::Unknown`] never appears inside [`Frame::Message`].

use std::borrow::Cow;

use mossy_protocol::bridge::{BridgeMessage, EventTime};
use serde::Deserialize;

use crate::clock;

/// Largest text frame the app decodes, in bytes (256 KiB).
///
/// The biggest real message is one build log line or a `generation_complete` with a few
/// dozen paths, a few KiB at most. A quarter MiB leaves room for a very long compiler line
/// while bounding what one broken or hostile frame can make us allocate while decoding.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;

/// A frame that decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A message this version knows; never [`BridgeMessage::Unknown`].
    Message(BridgeMessage),
    /// A well-formed object whose `type` this version does not know; kept and counted.
    Unknown {
        /// The `type` it carried, such as `metric_update`.
        kind: String,
    },
}

/// Why a frame was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame is longer than [`MAX_FRAME_BYTES`].
    #[error("frame too large: {length} bytes, limit {limit}")]
    TooLarge {
        /// The frame's length in bytes.
        length: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// A binary frame; the bridge speaks text.
    #[error("binary frame")]
    Binary {
        /// The frame's length in bytes.
        length: usize,
    },
    /// The text is not JSON.
    #[error("malformed json: {detail}")]
    Malformed {
        /// What the JSON reader said, with line and column.
        detail: String,
    },
    /// Valid JSON, but not an object.
    #[error("not a json object")]
    NotAnObject,
    /// An object without a `type`, or whose `type` is not a string.
    #[error("missing type")]
    MissingType,
    /// A known type without a field it means nothing without.
    #[error("{kind} without {field}")]
    MissingField {
        /// The message type.
        kind: String,
        /// The missing field.
        field: String,
    },
    /// A field of the wrong type, or a value out of range (a percent of 150).
    #[error("bad value in {kind}: {detail}")]
    WrongValue {
        /// The message type.
        kind: String,
        /// What the decoder said.
        detail: String,
    },
    /// An `at` that is text but not an RFC 3339 time.
    #[error("invalid time in {kind}: {at:?}")]
    InvalidTime {
        /// The message type.
        kind: String,
        /// The text it carried.
        at: String,
    },
}

/// The first pass: only the tag, borrowed when it has no escapes.
#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
}

/// Decodes one text frame.
///
/// Unknown types are not an error: they come back as [`Frame::Unknown`] so the caller can
/// count them. Every other problem is a [`FrameError`] value; nothing here panics on input.
pub fn parse_frame(text: &str) -> Result<Frame, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            length: text.len(),
            limit: MAX_FRAME_BYTES,
        });
    }

    let kind = match serde_json::from_str::<Tag<'_>>(text) {
        Ok(Tag { kind: Some(kind) }) => kind,
        Ok(Tag { kind: None }) => return Err(FrameError::MissingType),
        Err(err) => return Err(classify_tag_error(text, &err)),
    };

    let mut message = match serde_json::from_str::<BridgeMessage>(text) {
        Ok(BridgeMessage::Unknown) => {
            return Ok(Frame::Unknown {
                kind: kind.into_owned(),
            });
        }
        Ok(message) => message,
        Err(err) => return Err(classify_body_error(&kind, &err)),
    };

    if let Some(at) = at_mut(&mut message) {
        resolve_time(at).map_err(|text| FrameError::InvalidTime {
            kind: kind.to_string(),
            at: text,
        })?;
    }
    if let Some(detail) = tool_name_problem(&message) {
        return Err(FrameError::WrongValue {
            kind: kind.into_owned(),
            detail,
        });
    }
    Ok(Frame::Message(message))
}

/// The earliest `at` accepted: 2000-01-01T00:00:00Z. Nothing a modder ran happened before;
/// an older stamp is a sender bug (seconds sent as milliseconds, a zero default).
pub const EARLIEST_EVENT_MS: i64 = 946_684_800_000;

/// How far past now an `at` may lie: an hour covers a sender's clock drifting, while a
/// far-future stamp would pin its entry to the top of the feed forever.
pub const FUTURE_TOLERANCE_MS: i64 = 3_600_000;

/// Longest tool name accepted. Real names are under 30 characters; the cap keeps one frame
/// from filling cards, the feed and its database with a quarter megabyte of name.
pub const MAX_TOOL_NAME_CHARS: usize = 128;

/// Sorts a failure of the tag pass into syntax, shape or tag problems.
fn classify_tag_error(text: &str, err: &serde_json::Error) -> FrameError {
    if !matches!(err.classify(), serde_json::error::Category::Data) {
        return FrameError::Malformed {
            detail: err.to_string(),
        };
    }
    // The pass only fails on data when the value is not an object, or `type` is not a
    // string (or appears twice); a JSON value's first character says which.
    if text.trim_start().starts_with('{') {
        FrameError::MissingType
    } else {
        FrameError::NotAnObject
    }
}

/// Sorts a failure of the full decode of a known type.
fn classify_body_error(kind: &str, err: &serde_json::Error) -> FrameError {
    let detail = bare_message(err);
    // serde reports a missing field as "missing field `name`" for every format.
    let missing = detail
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    match missing {
        Some(field) => FrameError::MissingField {
            kind: kind.to_owned(),
            field: field.to_owned(),
        },
        None => FrameError::WrongValue {
            kind: kind.to_owned(),
            detail,
        },
    }
}

/// The decoder's message without the " at line L column C" that serde_json appends; a
/// frame is one line, so the position adds nothing but noise to a log.
fn bare_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&position) {
        Some(bare) => bare.to_owned(),
        None => text,
    }
}

/// The `at` field of the messages that have one.
fn at_mut(message: &mut BridgeMessage) -> Option<&mut Option<EventTime>> {
    match message {
        BridgeMessage::ToolDetected { at, .. }
        | BridgeMessage::ToolExited { at, .. }
        | BridgeMessage::BuildStarted { at, .. }
        | BridgeMessage::BuildComplete { at, .. }
        | BridgeMessage::AssetChanged { at, .. } => Some(at),
        _ => None,
    }
}

/// Rewrites an RFC 3339 `at` as Unix ms; returns the text when it does not parse or lies
/// outside [`EARLIEST_EVENT_MS`] to now plus [`FUTURE_TOLERANCE_MS`].
fn resolve_time(at: &mut Option<EventTime>) -> Result<(), String> {
    let Some(time) = at.as_mut() else {
        return Ok(());
    };
    let ms = match (clock::event_time_ms(time), &mut *time) {
        (Some(ms), _) => ms,
        (None, EventTime::Rfc3339(text)) => return Err(std::mem::take(text)),
        // Unix ms always resolves; this arm only keeps the match total.
        (None, EventTime::UnixMs(ms)) => *ms,
    };
    let latest = clock::now_ms().saturating_add(FUTURE_TOLERANCE_MS);
    if !(EARLIEST_EVENT_MS..=latest).contains(&ms) {
        return Err(ms.to_string());
    }
    *time = EventTime::UnixMs(ms);
    Ok(())
}

/// Why a tool name cannot be shown, if it cannot.
fn tool_name_problem(message: &BridgeMessage) -> Option<String> {
    let (BridgeMessage::ToolDetected { tool, .. } | BridgeMessage::ToolExited { tool, .. }) =
        message
    else {
        return None;
    };
    if tool.trim().is_empty() {
        return Some("the tool name is empty".to_owned());
    }
    let length = tool.chars().count();
    (length > MAX_TOOL_NAME_CHARS)
        .then(|| format!("the tool name has {length} characters, over {MAX_TOOL_NAME_CHARS}"))
}

#[cfg(test)]
mod tests {
    use mossy_protocol::bridge::{LogStream, Percent};

    use super::*;

    fn message(text: &str) -> BridgeMessage {
        match parse_frame(text) {
            Ok(Frame::Message(message)) => message,
            other => panic!("{text} gave {other:?}"),
        }
    }

    #[test]
    fn parses_the_two_bare_messages_mossy_sends_today() {
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected","tool":"Blender"}"#),
            Ok(Frame::Message(BridgeMessage::ToolDetected {
                tool: "Blender".into(),
                pid: None,
                at: None,
            }))
        );
        assert_eq!(
            parse_frame(r#"{"type":"build_progress","percent":42}"#),
            Ok(Frame::Message(BridgeMessage::BuildProgress {
                build_id: None,
                percent: Percent::new(42.0),
                message: None,
            }))
        );
    }

    #[test]
    fn resolves_rfc3339_at_to_unix_ms() {
        assert_eq!(
            message(r#"{"type":"tool_exited","tool":"xEdit","pid":9,"at":"2026-12-04T10:00:00Z"}"#),
            BridgeMessage::ToolExited {
                tool: "xEdit".into(),
                pid: Some(9),
                at: Some(EventTime::UnixMs(1_796_378_400_000)),
            }
        );
        assert_eq!(
            message(r#"{"type":"asset_changed","path":"a b#ü.dds","at":1700000000000}"#),
            BridgeMessage::AssetChanged {
                path: "a b#ü.dds".into(),
                at: Some(EventTime::UnixMs(1_700_000_000_000)),
            }
        );
    }

    #[test]
    fn ignores_unknown_fields_of_known_types() {
        assert_eq!(
            message(r#"{"type":"build_log","stream":"stderr","line":"x","colour":"red"}"#),
            BridgeMessage::BuildLog {
                build_id: None,
                stream: Some(LogStream::Stderr),
                line: "x".into(),
            }
        );
    }

    #[test]
    fn keeps_the_name_of_an_unknown_type() {
        assert_eq!(
            parse_frame(r#"{"type":"metric_update","data":{"name":"cpu","value":3}}"#),
            Ok(Frame::Unknown {
                kind: "metric_update".into()
            })
        );
        assert_eq!(
            parse_frame(r#"{"type":"sys\u0074em_health"}"#),
            Ok(Frame::Unknown {
                kind: "system_health".into()
            })
        );
    }

    #[test]
    fn refuses_a_frame_over_the_limit_before_decoding() {
        let text = format!(
            r#"{{"type":"build_log","line":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(
            parse_frame(&text),
            Err(FrameError::TooLarge {
                length: text.len(),
                limit: MAX_FRAME_BYTES
            })
        );
    }

    #[test]
    fn accepts_a_frame_exactly_at_the_limit() {
        let head = r#"{"type":"build_log","line":""#;
        let fill = MAX_FRAME_BYTES - head.len() - 2;
        let text = format!("{head}{}\"}}", "x".repeat(fill));
        assert_eq!(text.len(), MAX_FRAME_BYTES);
        assert_eq!(
            parse_frame(&text),
            Ok(Frame::Message(BridgeMessage::BuildLog {
                build_id: None,
                stream: None,
                line: "x".repeat(fill),
            }))
        );
    }

    #[test]
    fn refuses_malformed_json() {
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected","tool":"#),
            Err(FrameError::Malformed {
                detail: "EOF while parsing a value at line 1 column 31".into()
            })
        );
        assert_eq!(
            parse_frame("not json"),
            Err(FrameError::Malformed {
                detail: "expected ident at line 1 column 2".into()
            })
        );
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected","tool":"Blender"} {}"#),
            Err(FrameError::Malformed {
                detail: "trailing characters at line 1 column 43".into()
            })
        );
    }

    #[test]
    fn refuses_json_that_is_not_an_object() {
        for text in ["[1,2,3]", r#""tool_detected""#, "42", "null"] {
            assert_eq!(parse_frame(text), Err(FrameError::NotAnObject), "{text}");
        }
    }

    #[test]
    fn refuses_an_object_without_a_string_type() {
        for text in [
            r#"{"tool":"Blender"}"#,
            r#"{"type":0,"tool":"Blender"}"#,
            r#"{"type":null}"#,
        ] {
            assert_eq!(parse_frame(text), Err(FrameError::MissingType), "{text}");
        }
    }

    #[test]
    fn refuses_a_known_type_without_its_required_field() {
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected"}"#),
            Err(FrameError::MissingField {
                kind: "tool_detected".into(),
                field: "tool".into()
            })
        );
        assert_eq!(
            parse_frame(r#"{"type":"build_log","stream":"stdout"}"#),
            Err(FrameError::MissingField {
                kind: "build_log".into(),
                field: "line".into()
            })
        );
    }

    #[test]
    fn refuses_a_percent_that_is_not_a_number() {
        assert_eq!(
            parse_frame(r#"{"type":"build_progress","percent":"abc"}"#),
            Err(FrameError::WrongValue {
                kind: "build_progress".into(),
                detail: r#"invalid type: string "abc", expected f64"#.into(),
            })
        );
    }

    #[test]
    fn refuses_a_percent_out_of_range() {
        for (percent, shown) in [("-5", "-5.0"), ("150", "150.0")] {
            let text = format!(r#"{{"type":"build_progress","percent":{percent}}}"#);
            assert_eq!(
                parse_frame(&text),
                Err(FrameError::WrongValue {
                    kind: "build_progress".into(),
                    detail: format!(
                        "invalid value: floating point `{shown}`, expected a percent from 0 to 100"
                    ),
                })
            );
        }
    }

    #[test]
    fn refuses_a_field_of_the_wrong_type() {
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected","tool":"Blender","pid":"seven"}"#),
            Err(FrameError::WrongValue {
                kind: "tool_detected".into(),
                detail: r#"invalid type: string "seven", expected u32"#.into(),
            })
        );
    }

    // Regression: an `at` beyond 2^53 reached the webview as a float, every later update
    // failed to decode there, and the Tool monitor stayed blank even after a restart.
    #[test]
    fn refuses_an_at_outside_the_plausible_range() {
        for at in ["9007199254740993", "-1", "0", "1", "253402300800000"] {
            let text = format!(r#"{{"type":"tool_detected","tool":"Blender","at":{at}}}"#);
            assert_eq!(
                parse_frame(&text),
                Err(FrameError::InvalidTime {
                    kind: "tool_detected".into(),
                    at: at.into(),
                }),
                "at = {at}"
            );
        }
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected","tool":"Blender","at":"1999-12-31T23:59:59Z"}"#),
            Err(FrameError::InvalidTime {
                kind: "tool_detected".into(),
                at: "946684799000".into(),
            })
        );
    }

    #[test]
    fn refuses_an_empty_or_overlong_tool_name() {
        assert_eq!(
            parse_frame(r#"{"type":"tool_detected","tool":"  "}"#),
            Err(FrameError::WrongValue {
                kind: "tool_detected".into(),
                detail: "the tool name is empty".into(),
            })
        );
        let long = "x".repeat(MAX_TOOL_NAME_CHARS + 1);
        assert_eq!(
            parse_frame(&format!(r#"{{"type":"tool_exited","tool":"{long}"}}"#)),
            Err(FrameError::WrongValue {
                kind: "tool_exited".into(),
                detail: format!("the tool name has 129 characters, over {MAX_TOOL_NAME_CHARS}"),
            })
        );
    }

    #[test]
    fn refuses_an_at_that_is_not_rfc3339() {
        assert_eq!(
            parse_frame(r#"{"type":"tool_exited","tool":"xEdit","at":"yesterday"}"#),
            Err(FrameError::InvalidTime {
                kind: "tool_exited".into(),
                at: "yesterday".into()
            })
        );
        assert_eq!(
            parse_frame(r#"{"type":"build_started","at":"2026-13-40T99:00:00Z"}"#),
            Err(FrameError::InvalidTime {
                kind: "build_started".into(),
                at: "2026-13-40T99:00:00Z".into(),
            })
        );
    }

    #[test]
    fn error_messages_are_short_and_lowercase() {
        let shown = [
            FrameError::TooLarge {
                length: 300_000,
                limit: MAX_FRAME_BYTES,
            }
            .to_string(),
            FrameError::Binary { length: 3 }.to_string(),
            FrameError::NotAnObject.to_string(),
            FrameError::MissingType.to_string(),
            FrameError::MissingField {
                kind: "build_log".into(),
                field: "line".into(),
            }
            .to_string(),
            FrameError::InvalidTime {
                kind: "tool_exited".into(),
                at: "yesterday".into(),
            }
            .to_string(),
        ];
        assert_eq!(
            shown,
            [
                "frame too large: 300000 bytes, limit 262144",
                "binary frame",
                "not a json object",
                "missing type",
                "build_log without line",
                "invalid time in tool_exited: \"yesterday\"",
            ]
        );
    }
}
