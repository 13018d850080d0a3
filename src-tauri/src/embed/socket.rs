//! The socket an embedded panel uses instead of Tauri IPC: requests in, answers and stream
//! updates out, as `mossy_protocol::embed` describes.
//!
//! Each request is dispatched to the same functions the Tauri commands call
//! ([`crate::commands`]); a stream the panel starts goes to a [`SocketSink`] instead of a
//! `tauri::ipc::Channel`. What the embedded panels offer is the Tool monitor and the Build
//! panel; commands that need the desktop window or reach outside the app's own data (native
//! dialogs, opening files and folders, the clipboard, the updater, window lists, following an
//! arbitrary log file, editing build profiles, the asset gallery and the editor's local files)
//! answer [`ErrorCode::NotAvailable`]. Nothing received here starts a program other than a
//! build profile the user saved in the app; see the README's "Embedded in Mossy" section.

use futures_util::{SinkExt, StreamExt};
use mossy_protocol::build::BuildId;
use mossy_protocol::embed::{RequestId, SocketFrame, SocketRequest};
use mossy_protocol::ipc::{ErrorCode, IpcError, SubscriptionId, commands};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tauri::{AppHandle, Manager};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tracing::{debug, info, warn};

use crate::commands as shared;
use crate::services::Services;
use crate::streams::UpdateSink;

/// Frames waiting to be written to one socket. Streams coalesce at their source while the
/// queue is full, so a slow page slows its own updates down instead of growing memory.
const OUTGOING_CAPACITY: usize = 256;

/// The largest request a panel sends is a search text; a megabyte is far above any of them.
const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Feeds a stream's updates to the socket, tagged with the request that started it.
struct SocketSink {
    stream: RequestId,
    out: mpsc::Sender<String>,
}

impl<T: Serialize + Send + Sync + 'static> UpdateSink<T> for SocketSink {
    async fn deliver(&self, update: T) -> bool {
        let frame = SocketFrame::Stream {
            stream: self.stream,
            message: update,
        };
        match serde_json::to_string(&frame) {
            Ok(text) => self.out.send(text).await.is_ok(),
            Err(err) => {
                warn!(error = %err, "embedded panels: an update could not be encoded");
                false
            }
        }
    }
}

/// Serves one panel's socket until it closes, then stops every stream it started.
pub async fn serve<S>(app: AppHandle, owner: String, io: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_REQUEST_BYTES))
        .max_frame_size(Some(MAX_REQUEST_BYTES));
    let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let (mut write, mut read) = socket.split();
    let (out, mut outgoing) = mpsc::channel::<String>(OUTGOING_CAPACITY);
    info!(owner, "embedded panel connected");

    let writer = tokio::spawn(async move {
        while let Some(text) = outgoing.recv().await {
            if write.send(Message::text(text)).await.is_err() {
                break;
            }
        }
        let _ = write.close().await;
    });

    while let Some(message) = read.next().await {
        match message {
            Ok(Message::Text(text)) => {
                let (app, owner, out) = (app.clone(), owner.clone(), out.clone());
                tokio::spawn(async move { answer(&app, &owner, text.as_str(), &out).await });
            }
            Ok(Message::Close(_)) => break,
            Ok(Message::Binary(_)) => debug!(owner, "embedded panels: binary frame ignored"),
            Ok(_) => {}
            Err(err) => {
                debug!(owner, error = %err, "embedded panels: socket ended");
                break;
            }
        }
    }

    if let Some(services) = app.try_state::<Services>() {
        services.streams.stop_window(&owner);
    }
    drop(out);
    writer.abort();
    info!(owner, "embedded panel disconnected");
}

/// Decodes one request, runs it and queues its answer.
async fn answer(app: &AppHandle, owner: &str, text: &str, out: &mpsc::Sender<String>) {
    let request = match serde_json::from_str::<SocketRequest<Value>>(text) {
        Ok(request) => request,
        Err(err) => {
            // Without an id there is nobody to answer; the page only sends well-formed requests.
            warn!(owner, error = %err, "embedded panels: unreadable request dropped");
            return;
        }
    };
    let Some(services) = app.try_state::<Services>() else {
        return;
    };
    let id = request.id;
    let outcome = dispatch(&services, owner, request, out).await;
    let frame = match outcome {
        Ok(ok) => SocketFrame::Ok { id, ok },
        Err(error) => SocketFrame::Error { id, error },
    };
    match serde_json::to_string(&frame) {
        Ok(text) => {
            // A closed socket has nobody left to answer.
            let _ = out.send(text).await;
        }
        Err(err) => warn!(error = %err, "embedded panels: an answer could not be encoded"),
    }
}

async fn dispatch(
    services: &Services,
    owner: &str,
    request: SocketRequest<Value>,
    out: &mpsc::Sender<String>,
) -> Result<Value, IpcError> {
    let sink = || SocketSink {
        stream: request.id,
        out: out.clone(),
    };
    let args = request.args;
    match request.command.as_str() {
        commands::SUBSCRIBE_TOOL_MONITOR => {
            to_value(shared::start_tool_monitor(services, owner, sink()))
        }
        commands::SUBSCRIBE_BRIDGE => to_value(shared::start_bridge(services, owner, sink())),
        commands::SUBSCRIBE_BUILD => to_value(shared::start_builds(services, owner, sink())),
        commands::UNSUBSCRIBE => {
            let IdArgs { id } = parse::<IdArgs<SubscriptionId>>(args)?;
            to_value(shared::stop_stream(services, owner, id)?)
        }
        commands::CLEAR_FEED => to_value(shared::clear_feed_on(services).await?),
        commands::FEED_NOTICE => to_value(services.feed_notice.clone()),
        commands::REPORT_FIRST_PAINT => {
            info!(owner, "embedded panel painted");
            Ok(Value::Null)
        }
        commands::BUILD_START => {
            // Runs a profile the user saved in the app, never a program named here.
            let ProfileArgs { profile } = parse(args)?;
            to_value(shared::build_start_on(services, &profile)?)
        }
        commands::BUILD_CANCEL => {
            let IdArgs { id } = parse::<IdArgs<BuildId>>(args)?;
            to_value(shared::build_cancel_on(services, id)?)
        }
        commands::BUILD_VIEW => {
            let IdArgs { id } = parse::<IdArgs<BuildId>>(args)?;
            to_value(shared::build_view_on(services, id).await?)
        }
        commands::BUILD_LOG_RANGE => {
            let LogRangeArgs {
                id,
                start,
                count,
                problems_only,
            } = parse(args)?;
            to_value(shared::build_log_range_on(services, id, start, count, problems_only).await?)
        }
        commands::BUILD_SEARCH => {
            let SearchArgs {
                id,
                query,
                from,
                backwards,
            } = parse(args)?;
            to_value(shared::build_search_on(services, id, query, from, backwards).await?)
        }
        other => Err(IpcError {
            code: ErrorCode::NotAvailable,
            message: format!(
                "Not available when embedded in Mossy ({other}); open the panel in Mossy Live's \
                 own window for it."
            ),
        }),
    }
}

#[derive(serde::Deserialize)]
struct IdArgs<I> {
    id: I,
}

#[derive(serde::Deserialize)]
struct ProfileArgs {
    profile: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogRangeArgs {
    id: BuildId,
    start: u64,
    count: u64,
    problems_only: bool,
}

#[derive(serde::Deserialize)]
struct SearchArgs {
    id: BuildId,
    query: String,
    from: u64,
    backwards: bool,
}

fn parse<A: DeserializeOwned>(args: Value) -> Result<A, IpcError> {
    serde_json::from_value(args).map_err(|err| IpcError {
        code: ErrorCode::Invalid,
        message: format!("The request's arguments are not valid: {err}"),
    })
}

fn to_value(value: impl Serialize) -> Result<Value, IpcError> {
    serde_json::to_value(value).map_err(|err| IpcError {
        code: ErrorCode::Internal,
        message: format!("The answer could not be encoded: {err}"),
    })
}
