//! Builds Mossy runs: its `build_*` messages from the bus become builds in the center,
//! matched by Mossy's build id, or to the newest running one when a message has none.

use std::sync::{Arc, Weak};

use mossy_protocol::bridge::{BridgeMessage, BuildResult, LogStream};
use mossy_protocol::build::{BuildId, BuildSource, BuildStatus, LogLine};
use tokio::sync::broadcast;
use tracing::warn;

use super::{CenterError, Control, LiveBuild, Shared};
use crate::bus::BusEvent;

/// Turns Mossy's `build_*` messages into builds.
pub(super) async fn follow_mossy(shared: Weak<Shared>, mut events: broadcast::Receiver<BusEvent>) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                warn!(missed, "build center fell behind the bus");
                if let Some(shared) = shared.upgrade() {
                    shared.with_running_mossy(None, false, |build| {
                        build.push_notice(&format!("{missed} messages from Mossy were missed"));
                    });
                }
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        let Some(shared) = shared.upgrade() else {
            break;
        };
        if let BusEvent::BridgeMessageReceived {
            message,
            received_at_ms,
        } = event
        {
            shared.on_mossy(message, received_at_ms);
        }
    }
}

impl Shared {
    fn on_mossy(self: &Arc<Self>, message: BridgeMessage, received_at_ms: i64) {
        match message {
            BridgeMessage::BuildStarted {
                build_id, title, ..
            } => {
                let title = title.unwrap_or_else(|| "Build in Mossy".to_owned());
                if let Err(err) = self.open_mossy(build_id, title) {
                    warn!(error = %err, "Mossy's build could not be opened");
                }
            }
            BridgeMessage::BuildProgress {
                build_id,
                percent,
                message,
            } => self.with_running_mossy(build_id, true, |build| {
                if let Some(percent) = percent {
                    build.view.percent = Some(percent.get());
                }
                if message.is_some() {
                    build.view.message = message;
                }
            }),
            BridgeMessage::BuildLog {
                build_id,
                stream,
                line,
            } => self.with_running_mossy(build_id, true, |build| {
                build.push(&LogLine {
                    number: 0,
                    at_ms: received_at_ms,
                    stream: stream.unwrap_or(LogStream::Stdout),
                    byte_len: line.len() as u64,
                    text: line,
                    lossy: false,
                    truncated: false,
                });
            }),
            BridgeMessage::BuildComplete {
                build_id, result, ..
            } => {
                if let Some(id) = self.running_mossy(build_id.as_deref()) {
                    let result = result.unwrap_or(BuildResult::Succeeded);
                    let reason = (result == BuildResult::Failed)
                        .then(|| "Mossy reported the build failed.".to_owned());
                    self.finish(id, result.into(), reason, result == BuildResult::Succeeded);
                }
            }
            BridgeMessage::BuildError { build_id, error } => {
                let error = error.unwrap_or_else(|| "Mossy reported an error.".to_owned());
                let id = match self.running_mossy(build_id.as_deref()) {
                    Some(id) => Some(id),
                    None => self.open_mossy(build_id, "Build in Mossy".into()).ok(),
                };
                if let Some(id) = id {
                    self.with_build(id, |build| build.push_notice(&error));
                    self.finish(id, BuildStatus::Failed, Some(error), false);
                }
            }
            _ => {}
        }
    }

    fn open_mossy(
        self: &Arc<Self>,
        build_id: Option<String>,
        title: String,
    ) -> Result<BuildId, CenterError> {
        // A restarted build with the same id replaces the old one.
        if let Some(old) = build_id
            .as_deref()
            .and_then(|wanted| self.running_mossy(Some(wanted)))
        {
            self.finish(
                old,
                BuildStatus::Cancelled,
                Some("Mossy started it again.".into()),
                false,
            );
        }
        let id = self.open_build(title, BuildSource::Mossy { build_id })?;
        self.with_build(id, |build| build.control = Control::Mossy);
        Ok(id)
    }

    /// The running Mossy build with `build_id`, or without one the newest running Mossy
    /// build.
    fn running_mossy(&self, build_id: Option<&str>) -> Option<BuildId> {
        let state = self.lock();
        state
            .live
            .iter()
            .rev()
            .filter(|build| build.is_running())
            .find(|build| match (&build.view.source, build_id) {
                (BuildSource::Mossy { build_id: known }, Some(wanted)) => {
                    known.as_deref() == Some(wanted)
                }
                (BuildSource::Mossy { .. }, None) => true,
                _ => false,
            })
            .map(|build| build.view.id)
    }

    /// Applies `change` to the running Mossy build the message belongs to; with `open`,
    /// a message for no known build opens one (a bare `build_progress` does).
    fn with_running_mossy(
        self: &Arc<Self>,
        build_id: Option<String>,
        open: bool,
        change: impl FnOnce(&mut LiveBuild),
    ) {
        let id = match self.running_mossy(build_id.as_deref()) {
            Some(id) => Some(id),
            None if open => self.open_mossy(build_id, "Build in Mossy".into()).ok(),
            None => None,
        };
        if let Some(id) = id {
            self.with_build(id, change);
        }
    }
}
