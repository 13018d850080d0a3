//! Panels embedded in Mossy's own window: the loopback address form and the socket that stands
//! in for Tauri IPC there.
//!
//! Mossy (an Electron app) may show a panel in its own webview instead of asking for a
//! separate window. The app then serves the same frontend build at
//! `http://127.0.0.1:<port>/panel/<name>?token=<token>`, and the page talks to the backend
//! over a WebSocket at [`SOCKET_PATH`] on the same origin. Every text frame holds one JSON
//! object: the page sends [`SocketRequest`]s, the app answers each with a [`SocketFrame::Ok`]
//! or [`SocketFrame::Error`] carrying the request's id, and feeds each stream the page started
//! as [`SocketFrame::Stream`] frames tagged with the id of the request that started it (so a
//! stream's first update can never arrive before the page knows where it goes).

use serde::{Deserialize, Serialize};

use crate::ipc::IpcError;

/// The path of the WebSocket an embedded panel talks to the backend through.
pub const SOCKET_PATH: &str = "/ipc";

/// The query parameter carrying the per-install token, on the panel page and the socket.
pub const TOKEN_PARAM: &str = "token";

/// Identifies one request on an embedded panel's socket; chosen by the page, unique per socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

/// One command call from an embedded panel: the command's name (from the `commands` modules)
/// and its arguments, the same object the Tauri transport passes to `invoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketRequest<A> {
    /// Repeated in the answer.
    pub id: RequestId,
    /// The command, such as `subscribe_tool_monitor`.
    pub command: String,
    /// The command's arguments, keys in camelCase as for Tauri's `invoke`.
    pub args: A,
}

/// One frame from the app to an embedded panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SocketFrame<T> {
    /// Request `id` failed.
    Error {
        /// The request answered.
        id: RequestId,
        /// Why it failed.
        error: IpcError,
    },
    /// Request `id` succeeded with `ok` (`null` for commands that return nothing).
    Ok {
        /// The request answered.
        id: RequestId,
        /// The command's result.
        ok: T,
    },
    /// An update of the stream started by request `stream`.
    Stream {
        /// The subscribe request that started the stream.
        stream: RequestId,
        /// The update, the same payload a Tauri channel carries.
        message: T,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::ErrorCode;
    use crate::tests::round_trip;

    #[test]
    fn socket_frames_round_trip_and_keep_their_wire_shape() {
        let frames: [SocketFrame<Vec<u32>>; 3] = [
            SocketFrame::Error {
                id: RequestId(1),
                error: IpcError {
                    code: ErrorCode::NotAvailable,
                    message: "x".into(),
                },
            },
            SocketFrame::Ok {
                id: RequestId(2),
                ok: vec![7],
            },
            SocketFrame::Stream {
                stream: RequestId(3),
                message: vec![8],
            },
        ];
        for frame in &frames {
            round_trip(frame);
        }
        assert_eq!(
            serde_json::to_string(&frames[2]).expect("serializes"),
            r#"{"stream":3,"message":[8]}"#
        );
        round_trip(&SocketRequest {
            id: RequestId(4),
            command: "build_view".to_owned(),
            args: vec![1_u32],
        });
    }
}
