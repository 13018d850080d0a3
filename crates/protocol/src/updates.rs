//! The Updates box's payloads: what a check found and how an install is going.
//!
//! The backend checks for a newer signed release once at start and again whenever the user
//! asks. A check that fails (offline, server down) is not an error the user must act on: it
//! arrives as [`UpdateOutcome::CouldNotCheck`], shown quietly. Installing streams
//! [`UpdateProgress`] over a channel: bytes while downloading, then installing, then the
//! restart into the new version.

use serde::{Deserialize, Serialize};

/// Names of the backend commands of the Updates box.
pub mod commands {
    /// The result of the last update check, or of a new one; takes `{ fresh }` (true to ask
    /// the update server again, false to take the last check's answer, waiting for the
    /// start-up check when it is still running; never asks the server), returns an
    /// [`super::UpdateCheck`].
    pub const UPDATE_CHECK: &str = "update_check";
    /// Downloads, verifies and installs the update the last check found, then restarts the
    /// app; takes `{ channel }` for [`super::UpdateProgress`] messages. Fails with one
    /// sentence when there is nothing to install or a step fails.
    pub const UPDATE_INSTALL: &str = "update_install";
}

/// What an update check found, with the running version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateCheck {
    /// The running app's version, such as `0.1.0`.
    pub current: String,
    /// What the check found.
    pub outcome: UpdateOutcome,
}

/// The answer of one update check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateOutcome {
    /// No check ran yet: a copy not installed from a package does not check at start.
    NotChecked,
    /// The running version is the newest one.
    UpToDate,
    /// A newer release can be installed.
    Available(AvailableUpdate),
    /// The update server could not be asked or gave no usable answer; nothing to do but try
    /// again later.
    CouldNotCheck,
}

/// A newer release, as the update server describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableUpdate {
    /// Its version, such as `0.2.0`.
    pub version: String,
    /// Release notes, as written by the release; may be empty.
    pub notes: String,
    /// When it was published, as RFC 3339 text, when the server says.
    pub date: Option<String>,
}

/// One step of an install, streamed while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum UpdateProgress {
    /// Downloading the package.
    Downloading {
        /// Bytes received so far.
        received: u64,
        /// The package's size, when the server sent it.
        total: Option<u64>,
    },
    /// The download is complete and its signature checks out; the package is being
    /// installed.
    Installing,
    /// Installed; the app is about to close and start the new version.
    Restarting,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn every_update_enum_round_trips() {
        for outcome in [
            UpdateOutcome::NotChecked,
            UpdateOutcome::UpToDate,
            UpdateOutcome::CouldNotCheck,
            UpdateOutcome::Available(AvailableUpdate {
                version: "0.2.0".into(),
                notes: "Faster thumbnails.".into(),
                date: Some("2026-12-04T10:00:00Z".into()),
            }),
        ] {
            round_trip(&UpdateCheck {
                current: "0.1.0".into(),
                outcome,
            });
        }
        for progress in [
            UpdateProgress::Downloading {
                received: 10,
                total: Some(20),
            },
            UpdateProgress::Downloading {
                received: 10,
                total: None,
            },
            UpdateProgress::Installing,
            UpdateProgress::Restarting,
        ] {
            round_trip(&progress);
        }
    }

    #[test]
    fn outcome_is_tagged_by_state() {
        let text = serde_json::to_string(&UpdateOutcome::CouldNotCheck).expect("serializes");
        assert_eq!(text, r#"{"state":"could_not_check"}"#);
        let text = serde_json::to_string(&UpdateProgress::Installing).expect("serializes");
        assert_eq!(text, r#"{"step":"installing"}"#);
    }
}
