//! The Updates box's calls to the backend.

use mossy_protocol::ipc::IpcError;
use mossy_protocol::updates::{UpdateCheck, UpdateProgress, commands};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::transport::{embedded, tauri_invoke};
use super::{call, log_error, new_channel, set, to_ipc_error};

/// What the update server offers: the start-up check's answer (`fresh` false, waiting for it
/// if it still runs) or a new check's (`fresh` true). A failed check is an answer too
/// ([`mossy_protocol::updates::UpdateOutcome::CouldNotCheck`]), not an error.
pub async fn update_check(fresh: bool) -> Result<UpdateCheck, IpcError> {
    #[derive(Serialize)]
    struct Args {
        fresh: bool,
    }
    call(commands::UPDATE_CHECK, &Args { fresh }).await
}

/// Downloads and installs the update the last check found, calling `on_progress` for each
/// step. On success the app restarts into the new version, so this returning `Ok` means the
/// window is about to close.
pub async fn update_install(
    mut on_progress: impl FnMut(UpdateProgress) + 'static,
) -> Result<(), IpcError> {
    if embedded() {
        // Installing restarts the app; only its own window may ask for that.
        return Err(IpcError {
            code: mossy_protocol::ipc::ErrorCode::NotAvailable,
            message: "Updates are installed from Mossy Live's own window.".to_owned(),
        });
    }
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |message: JsValue| {
        match serde_wasm_bindgen::from_value::<UpdateProgress>(message) {
            Ok(progress) => on_progress(progress),
            Err(err) => log_error(&format!("mossy-live: unreadable update progress: {err}")),
        }
    });
    let channel = new_channel(&on_message)?;

    let args = js_sys::Object::new();
    set(&args, "channel", &channel)?;
    let result = tauri_invoke(commands::UPDATE_INSTALL, args.into()).await;
    // Channel messages and the command's answer travel separately, so a late progress
    // message may still come after it; the callback is left alive for it (one small closure
    // per install attempt).
    on_message.forget();
    result.map(drop).map_err(to_ipc_error)
}
