//! Preview generation requests: the modder asks Mossy for variations of an asset from a
//! prompt, and the Assets panel follows each request until its images arrive.
//!
//! The app gives each request a [`PreviewRequestId`], sends `generate_preview` over the
//! bridge and tracks what comes back (`generation_progress`, `generation_complete`). The
//! images Mossy wrote are copied into the app's own data folder; the page loads them from
//! the thumbnail scheme's [`PREVIEW_ROUTE`] ([`preview_url`]), never from the paths Mossy
//! gave.

use serde::{Deserialize, Serialize};

use crate::assets::encode_path_segment;

/// Names of the preview commands.
pub mod commands {
    /// Starts the preview requests stream; takes `{ channel }`, returns a
    /// [`crate::ipc::SubscriptionId`]. Each update carries every request of this session.
    pub const SUBSCRIBE_PREVIEWS: &str = "subscribe_previews";
    /// Asks Mossy for previews of an asset; takes `{ assetPath, prompt }`, returns the new
    /// request's [`super::PreviewRequestId`].
    pub const GENERATE_PREVIEWS: &str = "generate_previews";
}

/// Longest prompt, in characters. A prompt is a sentence or two for an image model; a
/// pasted page of text is a mistake, and the bridge frame should stay small.
pub const MAX_PROMPT_CHARS: usize = 500;

/// First path segment of a preview image URL on the thumbnail scheme:
/// `thumb://localhost/previews/<request id>/<file>`. Thumbnail URLs have exactly one
/// segment, so the two never collide.
pub const PREVIEW_ROUTE: &str = "previews";

/// The app's id for one preview request; Mossy echoes it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PreviewRequestId(pub String);

impl PreviewRequestId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviewStatus {
    /// Sent; Mossy has not reported anything yet.
    Sent,
    /// Mossy reported progress.
    Running,
    /// Mossy finished and at least one image arrived.
    Complete,
    /// Mossy finished without usable images, or the request could not be carried out.
    Failed,
    /// Mossy did not answer in time.
    TimedOut,
}

impl PreviewStatus {
    /// True once nothing more will happen to the request.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Complete | Self::Failed | Self::TimedOut)
    }
}

/// One image of a finished request, as the app keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewImage {
    /// File name inside the request's folder; goes into [`preview_url`].
    pub file: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// One request with what is known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewRequest {
    /// The app's id.
    pub id: PreviewRequestId,
    /// Absolute path of the asset, as the index gives it.
    pub asset: String,
    /// What the modder asked for.
    pub prompt: String,
    /// When the request was sent, in Unix ms.
    pub sent_at_ms: i64,
    /// Where it stands.
    pub status: PreviewStatus,
    /// Done so far, 0 to 100, once Mossy said.
    pub percent: Option<f32>,
    /// The images, once complete.
    pub images: Vec<PreviewImage>,
    /// What went wrong, or what was left out, as a sentence for the user.
    pub message: Option<String>,
}

/// One update of the preview requests stream: every request, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewsUpdate {
    /// Every request of this session, newest first.
    pub requests: Vec<PreviewRequest>,
}

/// The URL of one preview image; `origin` as for [`crate::assets::thumb_url`].
pub fn preview_url(origin: &str, request: &PreviewRequestId, file: &str) -> String {
    format!(
        "{origin}/{PREVIEW_ROUTE}/{}/{}",
        encode_path_segment(request.as_str()),
        encode_path_segment(file)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn every_preview_type_round_trips() {
        for status in [
            PreviewStatus::Sent,
            PreviewStatus::Running,
            PreviewStatus::Complete,
            PreviewStatus::Failed,
            PreviewStatus::TimedOut,
        ] {
            round_trip(&PreviewsUpdate {
                requests: vec![PreviewRequest {
                    id: PreviewRequestId("r1".into()),
                    asset: "/m/a b#ü.dds".into(),
                    prompt: "rusty".into(),
                    sent_at_ms: 1_700_000_000_000,
                    status,
                    percent: Some(42.5),
                    images: vec![PreviewImage {
                        file: "1.png".into(),
                        width: 256,
                        height: 128,
                    }],
                    message: None,
                }],
            });
        }
    }

    #[test]
    fn preview_urls_use_their_own_route() {
        let id = PreviewRequestId("19a-1".into());
        assert_eq!(
            preview_url("thumb://localhost", &id, "1.png"),
            "thumb://localhost/previews/19a-1/1.png"
        );
    }

    #[test]
    fn only_complete_failed_and_timed_out_are_final() {
        assert!(!PreviewStatus::Sent.is_final());
        assert!(!PreviewStatus::Running.is_final());
        assert!(PreviewStatus::Complete.is_final());
        assert!(PreviewStatus::Failed.is_final());
        assert!(PreviewStatus::TimedOut.is_final());
    }
}
