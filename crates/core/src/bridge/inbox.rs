//! The per-frame step of the bridge client: decode, count, publish or drop.
//!
//! It is apart from the socket so that unit tests and the `bridge_parse` benchmark drive
//! exactly the code a live connection runs, without a socket in the way.

use mossy_protocol::ipc::BridgeCounters;
use tracing::{debug, warn};

use super::frame::{Frame, FrameError, parse_frame};
use crate::bus::{Bus, BusEvent};
use crate::clock;

/// Decodes frames, publishes good ones on the bus and counts everything.
///
/// Counters live as long as the inbox; the client keeps one inbox across reconnections,
/// so they count since the client started.
#[derive(Debug)]
pub struct Inbox {
    bus: Bus,
    counters: BridgeCounters,
}

/// What became of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Decoded and published on the bus.
    Published,
    /// A type this version does not know; counted, not published.
    Unknown {
        /// The frame's `type`.
        kind: String,
    },
    /// Dropped, with one warning in the log.
    Dropped(FrameError),
}

impl Inbox {
    /// An inbox that publishes on `bus`, with zeroed counters.
    pub fn new(bus: Bus) -> Self {
        Self {
            bus,
            counters: BridgeCounters::default(),
        }
    }

    /// What was received so far.
    pub fn counters(&self) -> BridgeCounters {
        self.counters
    }

    /// Handles one text frame.
    pub fn accept_text(&mut self, text: &str) -> Delivery {
        match parse_frame(text) {
            Ok(Frame::Message(message)) => {
                self.counters.accepted += 1;
                let received_at_ms = clock::now_ms();
                self.bus.publish(BusEvent::BridgeMessageReceived {
                    message,
                    received_at_ms,
                });
                Delivery::Published
            }
            Ok(Frame::Unknown { kind }) => {
                self.counters.unknown += 1;
                debug!(kind = %kind, "unknown bridge message type");
                Delivery::Unknown { kind }
            }
            Err(error) => self.drop_frame(text.len(), error),
        }
    }

    /// Handles one binary frame, which the bridge never sends on purpose: it is dropped.
    pub fn accept_binary(&mut self, length: usize) -> Delivery {
        self.drop_frame(length, FrameError::Binary { length })
    }

    fn drop_frame(&mut self, length: usize, error: FrameError) -> Delivery {
        self.counters.dropped += 1;
        warn!(reason = %error, length, "dropped a bridge frame");
        Delivery::Dropped(error)
    }
}

#[cfg(test)]
mod tests {
    use mossy_protocol::bridge::BridgeMessage;
    use tokio::sync::broadcast::error::TryRecvError;

    use super::*;

    #[test]
    fn publishes_good_frames_and_counts_each_outcome() {
        let bus = Bus::new();
        let mut events = bus.subscribe();
        let mut inbox = Inbox::new(bus);
        let before = clock::now_ms();

        let outcomes = [
            inbox.accept_text(r#"{"type":"tool_detected","tool":"Blender"}"#),
            inbox.accept_text(r#"{"type":"notification","data":{}}"#),
            inbox.accept_text("{oops"),
            inbox.accept_binary(3),
        ];

        assert_eq!(
            outcomes,
            [
                Delivery::Published,
                Delivery::Unknown {
                    kind: "notification".into()
                },
                Delivery::Dropped(FrameError::Malformed {
                    detail: "key must be a string at line 1 column 2".into()
                }),
                Delivery::Dropped(FrameError::Binary { length: 3 }),
            ]
        );
        assert_eq!(
            inbox.counters(),
            BridgeCounters {
                accepted: 1,
                unknown: 1,
                dropped: 2
            }
        );

        match events.try_recv() {
            Ok(BusEvent::BridgeMessageReceived {
                message,
                received_at_ms,
            }) => {
                assert_eq!(
                    message,
                    BridgeMessage::ToolDetected {
                        tool: "Blender".into(),
                        pid: None,
                        at: None
                    }
                );
                assert!((before..=clock::now_ms()).contains(&received_at_ms));
            }
            other => panic!("expected the Blender message, got {other:?}"),
        }
        assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
    }
}
