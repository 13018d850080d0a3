//! Scenario files: what the simulator sends, step by step.
//!
//! The format is documented on [`Scenario`], where `cargo doc` shows it.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("could not read the scenario: {0}")]
    Read(#[from] std::io::Error),
    /// A line is not a valid step.
    #[error("line {line}: {reason}")]
    Line {
        /// The line number, counted from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The file has no steps at all.
    #[error("the scenario has no steps")]
    Empty,
}

/// What one step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Sends a JSON object as a text frame.
    Send {
        /// The object; a top-level `"at":"now"` is filled in at send time.
        message: Map<String, Value>,
        /// Grow the frame to this many bytes with a `padding` field, to test size limits.
        pad_to_bytes: Option<usize>,
    },
    /// Sends text as it is.
    Raw(String),
    /// Sends bytes as a binary frame.
    Binary(Vec<u8>),
    /// Sends a close frame and ends the session.
    Close,
    /// Writes part of a frame, then drops the TCP connection without a close.
    DieMidFrame,
}

/// One step: wait, then act.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Wait before acting.
    pub delay: Duration,
    /// What to do.
    pub action: Action,
}

/// A parsed scenario file.
///
/// A scenario is JSON lines. Blank lines and lines starting with `#` are skipped; every
/// other line is one step, an object with an optional `delay_ms` (wait before the step,
/// default 0) and exactly one action:
///
/// - `"send": {...}` sends the object as a text frame. A top-level `"at":"now"` becomes the
///   Unix ms at send time; `"pad_to_bytes": N` beside `send` grows the frame to exactly N
///   bytes with a `padding` field, for size-limit tests.
/// - `"raw": "..."` sends the text as it is, for frames that are not JSON.
/// - `"binary": "..."` sends the text's UTF-8 bytes as a binary frame.
/// - `"close": true` sends a close frame and ends the session.
/// - `"die_mid_frame": true` writes the head of a text frame, then drops the TCP connection.
///
/// `send` is not checked against the bridge protocol on purpose: scenarios also carry
/// wrong types and unknown messages, to show what the client does with them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    steps: Vec<Step>,
}

/// One line as written; checked into a [`Step`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    delay_ms: u64,
    send: Option<Value>,
    pad_to_bytes: Option<usize>,
    raw: Option<String>,
    binary: Option<String>,
    #[serde(default)]
    close: bool,
    #[serde(default)]
    die_mid_frame: bool,
}

impl Scenario {
    /// Reads and parses a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        Self::parse(&std::fs::read_to_string(path)?)
    }

    /// Parses scenario text; the first bad line is the error.
    pub fn parse(text: &str) -> Result<Self, ScenarioError> {
        let mut steps = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let step = parse_step(line).map_err(|reason| ScenarioError::Line {
                line: index + 1,
                reason,
            })?;
            steps.push(step);
        }
        if steps.is_empty() {
            return Err(ScenarioError::Empty);
        }
        Ok(Self { steps })
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

fn parse_step(text: &str) -> Result<Step, String> {
    let line: Line = serde_json::from_str(text).map_err(|err| {
        // The line number is already in the error; keep only the column of serde's position.
        let position = format!(" at line {} column {}", err.line(), err.column());
        let message = err.to_string();
        let bare = message.strip_suffix(&position).unwrap_or(&message);
        format!("{bare} (column {})", err.column())
    })?;
    let delay = Duration::from_millis(line.delay_ms);

    let mut actions = Vec::new();
    if let Some(send) = line.send {
        let Value::Object(message) = send else {
            return Err("send must be a JSON object".to_owned());
        };
        actions.push(Action::Send {
            message,
            pad_to_bytes: line.pad_to_bytes,
        });
    } else if line.pad_to_bytes.is_some() {
        return Err("pad_to_bytes only goes with send".to_owned());
    }
    if let Some(raw) = line.raw {
        actions.push(Action::Raw(raw));
    }
    if let Some(binary) = line.binary {
        actions.push(Action::Binary(binary.into_bytes()));
    }
    if line.close {
        actions.push(Action::Close);
    }
    if line.die_mid_frame {
        actions.push(Action::DieMidFrame);
    }

    match (actions.pop(), actions.is_empty()) {
        (Some(action), true) => Ok(Step { delay, action }),
        (None, _) => Err("no action: give one of send, raw, binary, close, die_mid_frame".into()),
        (Some(_), false) => Err("more than one action in one step".to_owned()),
    }
}

/// The text of a `send` step at the moment it goes out.
pub(crate) fn render(
    message: &Map<String, Value>,
    pad_to_bytes: Option<usize>,
    now_ms: i64,
) -> String {
    let mut message = message.clone();
    if message.get("at").and_then(Value::as_str) == Some("now") {
        message.insert("at".to_owned(), Value::from(now_ms));
    }
    let Some(target) = pad_to_bytes else {
        return Value::Object(message).to_string();
    };

    message.insert("padding".to_owned(), Value::from(""));
    let bare = Value::Object(message.clone()).to_string().len();
    let fill = target.saturating_sub(bare);
    message.insert("padding".to_owned(), Value::from("x".repeat(fill)));
    Value::Object(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn parses_every_kind_of_step_and_skips_comments() {
        let text = r#"
# a comment
{"delay_ms":200,"send":{"type":"tool_detected","tool":"Blender"}}

{"raw":"not json"}
{"binary":"ab"}
{"send":{"type":"build_log","line":"x"},"pad_to_bytes":100}
{"delay_ms":5,"close":true}
{"die_mid_frame":true}
"#;
        let scenario = Scenario::parse(text).expect("parses");
        assert_eq!(
            scenario.steps(),
            [
                Step {
                    delay: Duration::from_millis(200),
                    action: Action::Send {
                        message: object(
                            serde_json::json!({"type":"tool_detected","tool":"Blender"})
                        ),
                        pad_to_bytes: None,
                    },
                },
                Step {
                    delay: Duration::ZERO,
                    action: Action::Raw("not json".into())
                },
                Step {
                    delay: Duration::ZERO,
                    action: Action::Binary(b"ab".to_vec())
                },
                Step {
                    delay: Duration::ZERO,
                    action: Action::Send {
                        message: object(serde_json::json!({"type":"build_log","line":"x"})),
                        pad_to_bytes: Some(100),
                    },
                },
                Step {
                    delay: Duration::from_millis(5),
                    action: Action::Close
                },
                Step {
                    delay: Duration::ZERO,
                    action: Action::DieMidFrame
                },
            ]
        );
    }

    #[test]
    fn a_bad_line_is_an_error_with_its_number() {
        let cases = [
            (
                "{\"raw\":\"ok\"}\n{nope",
                2,
                "key must be a string (column 2)",
            ),
            (
                "# c\n\n{\"delay_ms\":3}",
                3,
                "no action: give one of send, raw, binary, close, die_mid_frame",
            ),
            (
                "{\"raw\":\"a\",\"close\":true}",
                1,
                "more than one action in one step",
            ),
            ("{\"send\":[1]}", 1, "send must be a JSON object"),
            (
                "{\"raw\":\"a\",\"pad_to_bytes\":9}",
                1,
                "pad_to_bytes only goes with send",
            ),
            (
                "{\"raw\":\"a\",\"sned\":{}}",
                1,
                concat!(
                    "unknown field `sned`, expected one of `delay_ms`, `send`, `pad_to_bytes`, ",
                    "`raw`, `binary`, `close`, `die_mid_frame` (column 17)"
                ),
            ),
        ];
        for (text, line, reason) in cases {
            match Scenario::parse(text) {
                Err(ScenarioError::Line {
                    line: got_line,
                    reason: got_reason,
                }) => {
                    assert_eq!((got_line, got_reason.as_str()), (line, reason), "{text}");
                }
                other => panic!("{text} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_file_of_comments_only_is_empty() {
        assert!(matches!(
            Scenario::parse("# nothing\n\n"),
            Err(ScenarioError::Empty)
        ));
    }

    #[test]
    fn render_fills_in_now_and_pads_to_the_exact_size() {
        let message =
            object(serde_json::json!({"type":"tool_detected","tool":"Blender","at":"now"}));
        let rendered: Value =
            serde_json::from_str(&render(&message, None, 1_700_000_000_123)).expect("json");
        assert_eq!(
            rendered,
            serde_json::json!({"type":"tool_detected","tool":"Blender","at":1_700_000_000_123_i64})
        );

        let padded = render(&message, Some(300_000), 5);
        assert_eq!(padded.len(), 300_000);
        let mut rendered = object(serde_json::from_str(&padded).expect("json"));
        let padding = rendered.remove("padding").expect("padding field");
        assert_eq!(
            padding
                .as_str()
                .map(|fill| fill.bytes().all(|byte| byte == b'x')),
            Some(true)
        );
        assert_eq!(
            rendered,
            object(serde_json::json!({"type":"tool_detected","tool":"Blender","at":5}))
        );
    }
}
