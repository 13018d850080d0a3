//! Messages on the bridge socket between Mossy and Mossy Live.
//!
//! Mossy sends text frames, one JSON object each, discriminated by `"type"`. Every field
//! except `type` is optional on the wire unless a message means nothing without it (a
//! `tool_detected` with no tool, a `build_log` with no line), so that Mossy's current guide,
//! which sends only `{"type":"tool_detected","tool":"Blender"}` and
//! `{"type":"build_progress","percent":42}`, and newer senders both work. Unknown fields are
//! ignored; unknown types decode to [`BridgeMessage::Unknown`] so the reader can count them.

use serde::{Deserialize, Deserializer, Serialize, de};

/// One message from Mossy to Mossy Live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum BridgeMessage {
    /// Mossy saw a modding tool start.
    ToolDetected {
        /// Tool name as Mossy spells it ("Blender", "xEdit", "Creation Kit", ...).
        tool: String,
        /// Process id, when Mossy knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
        /// When it happened; the receive time when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EventTime>,
    },
    /// Mossy saw a modding tool exit.
    ToolExited {
        /// Tool name as Mossy spells it.
        tool: String,
        /// Process id, when Mossy knows it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pid: Option<u32>,
        /// When it happened; the receive time when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EventTime>,
    },
    /// A build began in Mossy.
    BuildStarted {
        /// Mossy's id for the build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_id: Option<String>,
        /// What is being built.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// When it happened; the receive time when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EventTime>,
    },
    /// A build moved on. Without `build_id` it belongs to the current build.
    BuildProgress {
        /// Mossy's id for the build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_id: Option<String>,
        /// Done so far, 0 to 100.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        percent: Option<Percent>,
        /// The current step, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// One line of a build's output.
    BuildLog {
        /// Mossy's id for the build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_id: Option<String>,
        /// The stream the line came from; stdout when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stream: Option<LogStream>,
        /// The line, without its line ending.
        line: String,
    },
    /// A build ended.
    BuildComplete {
        /// Mossy's id for the build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_id: Option<String>,
        /// How it ended; success when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<BuildResult>,
        /// When it happened; the receive time when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EventTime>,
    },
    /// A build failed to run at all, or reported a fatal error.
    BuildError {
        /// Mossy's id for the build.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        build_id: Option<String>,
        /// What went wrong, in words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A file in a folder Mossy watches changed.
    AssetChanged {
        /// The file's path as Mossy sees it.
        path: String,
        /// When it happened; the receive time when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<EventTime>,
    },
    /// A preview generation request moved on.
    GenerationProgress {
        /// The id the app gave in `generate_preview`.
        request_id: String,
        /// Done so far, 0 to 100.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        percent: Option<Percent>,
    },
    /// A preview generation request finished.
    GenerationComplete {
        /// The id the app gave in `generate_preview`.
        request_id: String,
        /// Paths of the images Mossy wrote.
        #[serde(default)]
        paths: Vec<String>,
    },
    /// A type this version does not know. The reader keeps and counts it.
    #[serde(other)]
    Unknown,
}

/// One message from Mossy Live to Mossy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientMessage {
    /// Sent once after connecting, so Mossy knows who joined.
    Hello {
        /// The app's name, `mossy-live`.
        app: String,
        /// The app's version.
        version: String,
    },
    /// Asks Mossy to generate preview variations of an asset.
    GeneratePreview {
        /// An id the app picks; Mossy echoes it in progress messages.
        request_id: String,
        /// The asset's path.
        asset: String,
        /// What the modder asked for.
        prompt: String,
    },
}

/// When something happened: Unix milliseconds or RFC 3339 text, as Mossy sends either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventTime {
    /// Milliseconds since the Unix epoch.
    UnixMs(i64),
    /// An RFC 3339 timestamp; the reader parses it.
    Rfc3339(String),
}

/// A percentage from 0 to 100 inclusive. Anything else is refused while deserializing.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Percent(f32);

impl Percent {
    /// Returns the percentage, or `None` when it is not a finite number from 0 to 100.
    pub fn new(value: f32) -> Option<Self> {
        (value.is_finite() && (0.0..=100.0).contains(&value)).then_some(Self(value))
    }

    /// The percentage as a number from 0 to 100.
    pub fn get(self) -> f32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        // The cast is exact for every in-range value that matters to a progress bar.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "range is checked just below"
        )]
        Percent::new(value as f32).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Float(value), &"a percent from 0 to 100")
        })
    }
}

/// The output stream a build line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// How a build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildResult {
    /// Everything built.
    #[serde(alias = "success", alias = "ok", alias = "passed")]
    Succeeded,
    /// Something did not build.
    #[serde(alias = "failure", alias = "error", alias = "fail")]
    Failed,
    /// Someone stopped it.
    #[serde(alias = "canceled")]
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn every_bridge_message_round_trips() {
        let at = Some(EventTime::UnixMs(1_700_000_000_000));
        let percent = Percent::new(42.5);
        for message in [
            BridgeMessage::ToolDetected {
                tool: "Blender".into(),
                pid: Some(7),
                at: at.clone(),
            },
            BridgeMessage::ToolExited {
                tool: "xEdit".into(),
                pid: None,
                at: Some(EventTime::Rfc3339("2026-12-04T10:00:00Z".into())),
            },
            BridgeMessage::BuildStarted {
                build_id: Some("b1".into()),
                title: Some("Scripts".into()),
                at: at.clone(),
            },
            BridgeMessage::BuildProgress {
                build_id: None,
                percent,
                message: Some("Compiling".into()),
            },
            BridgeMessage::BuildLog {
                build_id: Some("b1".into()),
                stream: Some(LogStream::Stderr),
                line: "x.psc(1,2): bad".into(),
            },
            BridgeMessage::BuildComplete {
                build_id: Some("b1".into()),
                result: Some(BuildResult::Cancelled),
                at,
            },
            BridgeMessage::BuildError {
                build_id: None,
                error: Some("no compiler".into()),
            },
            BridgeMessage::AssetChanged {
                path: "Data/a b#ü.dds".into(),
                at: None,
            },
            BridgeMessage::GenerationProgress {
                request_id: "r1".into(),
                percent,
            },
            BridgeMessage::GenerationComplete {
                request_id: "r1".into(),
                paths: vec!["/tmp/p.png".into()],
            },
            BridgeMessage::Unknown,
        ] {
            round_trip(&message);
        }
    }

    #[test]
    fn every_client_message_round_trips() {
        round_trip(&ClientMessage::Hello {
            app: "mossy-live".into(),
            version: "0.1.0".into(),
        });
        round_trip(&ClientMessage::GeneratePreview {
            request_id: "r1".into(),
            asset: "a.dds".into(),
            prompt: "rusty".into(),
        });
    }

    #[test]
    fn small_enums_round_trip() {
        for stream in [LogStream::Stdout, LogStream::Stderr] {
            round_trip(&stream);
        }
        for result in [
            BuildResult::Succeeded,
            BuildResult::Failed,
            BuildResult::Cancelled,
        ] {
            round_trip(&result);
        }
        round_trip(&EventTime::Rfc3339("2026-12-04T10:00:00+01:00".into()));
    }

    #[test]
    fn parses_the_two_bare_messages_mossy_sends_today() {
        let tool: BridgeMessage =
            serde_json::from_str(r#"{"type":"tool_detected","tool":"Blender"}"#).expect("parses");
        assert_eq!(
            tool,
            BridgeMessage::ToolDetected {
                tool: "Blender".into(),
                pid: None,
                at: None
            }
        );

        let progress: BridgeMessage =
            serde_json::from_str(r#"{"type":"build_progress","percent":42}"#).expect("parses");
        assert_eq!(
            progress,
            BridgeMessage::BuildProgress {
                build_id: None,
                percent: Percent::new(42.0),
                message: None
            }
        );
    }

    #[test]
    fn refuses_percent_out_of_range_or_not_a_number() {
        for frame in [
            r#"{"type":"build_progress","percent":"abc"}"#,
            r#"{"type":"build_progress","percent":-5}"#,
            r#"{"type":"build_progress","percent":150}"#,
        ] {
            assert!(
                serde_json::from_str::<BridgeMessage>(frame).is_err(),
                "accepted {frame}"
            );
        }
    }

    #[test]
    fn unknown_type_decodes_to_unknown() {
        let message: BridgeMessage =
            serde_json::from_str(r#"{"type":"metric_update","data":{"name":"x"}}"#)
                .expect("parses");
        assert_eq!(message, BridgeMessage::Unknown);
    }

    #[test]
    fn build_result_accepts_common_spellings() {
        let parsed: Vec<BuildResult> =
            serde_json::from_str(r#"["success","failure","canceled","ok","error"]"#)
                .expect("parses");
        assert_eq!(
            parsed,
            [
                BuildResult::Succeeded,
                BuildResult::Failed,
                BuildResult::Cancelled,
                BuildResult::Succeeded,
                BuildResult::Failed
            ]
        );
    }
}
