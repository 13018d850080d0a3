//! How this page reaches the backend, picked once at start: Tauri IPC in the app's own
//! windows (`window.__TAURI__` exists), or, when Mossy shows the panel in its own window, a
//! WebSocket to the page's own origin (`/ipc?token=<the token in the page's address>`).
//!
//! Both carry the same command names, argument objects and results; only the wire differs
//! (`mossy_protocol::embed` describes the socket's frames). A stream's updates reach the
//! same callback either way: a Tauri `Channel` calls it, or the socket routes each
//! `{stream, message}` frame to the callback registered under the subscribe request's id.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use mossy_protocol::embed::{SOCKET_PATH, TOKEN_PARAM};
use mossy_protocol::ipc::{ErrorCode, IpcError};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    pub(super) async fn tauri_invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

thread_local! {
    /// True when the page runs embedded in Mossy's window; decided once, at first use.
    static EMBEDDED: bool = web_sys::window()
        .and_then(|window| js_sys::Reflect::get(&window, &"__TAURI__".into()).ok())
        .is_none_or(|tauri| tauri.is_undefined());
    /// The socket of an embedded page, opened at first use.
    static SOCKET: RefCell<Option<Rc<Socket>>> = const { RefCell::new(None) };
}

/// True when the page talks to the backend over the embedded-panel socket.
pub fn embedded() -> bool {
    EMBEDDED.with(|embedded| *embedded)
}

/// Calls `command` with `args` (a plain object or null) and returns its result; a failure is
/// what the backend sent, an `IpcError` object in both transports.
pub(super) async fn invoke(command: &str, args: JsValue) -> Result<JsValue, JsValue> {
    if !embedded() {
        return tauri_invoke(command, args).await;
    }
    let socket = socket()?;
    let id = socket.next_id();
    socket.request(id, command, &args).await
}

/// Keeps a stream's callback registered; dropping it unregisters it (before the callback
/// itself is dropped, so a late frame never calls a freed closure).
pub(super) enum StreamGuard {
    /// Tauri's `Channel` holds the callback; nothing to do.
    Channel,
    /// The socket holds the callback under this request id.
    Socket(u64),
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if let StreamGuard::Socket(id) = *self
            && let Some(socket) = SOCKET.with(|socket| socket.borrow().clone())
        {
            socket.streams.borrow_mut().remove(&id);
        }
    }
}

/// Starts the stream `command` with updates going to `on_message`; returns the backend's
/// answer (the subscription id) and the guard that keeps the callback registered.
pub(super) async fn open_stream(
    command: &str,
    on_message: &Closure<dyn FnMut(JsValue)>,
) -> Result<(JsValue, StreamGuard), JsValue> {
    if !embedded() {
        let channel = super::new_channel(on_message).map_err(to_js)?;
        let args = js_sys::Object::new();
        super::set(&args, "channel", &channel).map_err(to_js)?;
        let id = tauri_invoke(command, args.into()).await?;
        return Ok((id, StreamGuard::Channel));
    }
    let socket = socket()?;
    let id = socket.next_id();
    let callback: &js_sys::Function = on_message.as_ref().unchecked_ref();
    socket.streams.borrow_mut().insert(id, callback.clone());
    let guard = StreamGuard::Socket(id);
    let answer = socket
        .request(id, command, &js_sys::Object::new().into())
        .await?;
    Ok((answer, guard))
}

/// An [`IpcError`] as a JS value, the shape the backend's failures have.
pub(super) fn to_js(error: IpcError) -> JsValue {
    serde_wasm_bindgen::to_value(&error).unwrap_or_else(|_| JsValue::from_str(&error.message))
}

/// The embedded page's connection: requests waiting for answers, stream callbacks, and
/// frames written before the socket opened.
struct Socket {
    ws: web_sys::WebSocket,
    next_id: Cell<u64>,
    /// Set once the socket is open; frames sent before wait in `queued`.
    open: Cell<bool>,
    /// Set once the socket closed; every later request fails at once.
    closed: Cell<bool>,
    queued: RefCell<Vec<String>>,
    /// Resolve and reject functions of each request's promise, by request id.
    pending: RefCell<HashMap<u64, (js_sys::Function, js_sys::Function)>>,
    /// Stream callbacks, by the id of the request that started the stream.
    streams: RefCell<HashMap<u64, js_sys::Function>>,
    // The socket's event handlers, alive as long as the socket.
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

/// The page's socket, opened on first use.
fn socket() -> Result<Rc<Socket>, JsValue> {
    if let Some(socket) = SOCKET.with(|socket| socket.borrow().clone()) {
        return Ok(socket);
    }
    let socket = Rc::new(Socket::connect()?);
    SOCKET.with(|slot| *slot.borrow_mut() = Some(Rc::clone(&socket)));
    Ok(socket)
}

impl Socket {
    fn connect() -> Result<Self, JsValue> {
        let url = socket_url()?;
        let ws = web_sys::WebSocket::new(&url)?;

        let on_open = Closure::<dyn FnMut(JsValue)>::new(|_| with_socket(Socket::opened));
        let on_message = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
            let data = js_sys::Reflect::get(&event, &"data".into()).ok();
            if let Some(text) = data.and_then(|data| data.as_string()) {
                with_socket(|socket| socket.received(&text));
            }
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(|_| with_socket(Socket::closed));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            next_id: Cell::new(1),
            open: Cell::new(false),
            closed: Cell::new(false),
            queued: RefCell::default(),
            pending: RefCell::default(),
            streams: RefCell::default(),
            _handlers: vec![on_open, on_message, on_close],
        })
    }

    fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// Sends request `id` and waits for its answer.
    async fn request(&self, id: u64, command: &str, args: &JsValue) -> Result<JsValue, JsValue> {
        if self.closed.get() {
            return Err(to_js(closed_error()));
        }
        let frame = js_sys::Object::new();
        js_sys::Reflect::set(&frame, &"id".into(), &JsValue::from_f64(id as f64))?;
        js_sys::Reflect::set(&frame, &"command".into(), &command.into())?;
        js_sys::Reflect::set(&frame, &"args".into(), args)?;
        let text = String::from(js_sys::JSON::stringify(&frame)?);

        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            self.pending.borrow_mut().insert(id, (resolve, reject));
        });
        if self.open.get() {
            self.ws.send_with_str(&text)?;
        } else {
            self.queued.borrow_mut().push(text);
        }
        JsFuture::from(promise).await
    }

    fn opened(&self) {
        self.open.set(true);
        for text in self.queued.take() {
            if let Err(err) = self.ws.send_with_str(&text) {
                web_sys::console::error_2(&"mossy-live: a request was not sent".into(), &err);
            }
        }
    }

    /// Routes one frame: a stream update to its callback, an answer to its request.
    fn received(&self, text: &str) {
        let Ok(frame) = js_sys::JSON::parse(text) else {
            web_sys::console::error_1(&"mossy-live: unreadable frame from the backend".into());
            return;
        };
        let field = |name: &str| js_sys::Reflect::get(&frame, &name.into()).ok();
        let number = |name: &str| {
            field(name)
                .and_then(|value| value.as_f64())
                .map(|n| n as u64)
        };

        if let Some(stream) = number("stream") {
            let callback = self.streams.borrow().get(&stream).cloned();
            if let (Some(callback), Some(message)) = (callback, field("message")) {
                // The callback logs its own decoding errors; a throw here has nowhere to go.
                let _ = callback.call1(&JsValue::NULL, &message);
            }
            return;
        }
        let Some((resolve, reject)) =
            number("id").and_then(|id| self.pending.borrow_mut().remove(&id))
        else {
            return;
        };
        let error = field("error").filter(|error| !error.is_undefined());
        let _ = match error {
            Some(error) => reject.call1(&JsValue::NULL, &error),
            None => resolve.call1(&JsValue::NULL, &field("ok").unwrap_or(JsValue::NULL)),
        };
    }

    fn closed(&self) {
        self.closed.set(true);
        let error = to_js(closed_error());
        for (_, (_, reject)) in self.pending.take() {
            let _ = reject.call1(&JsValue::NULL, &error);
        }
        web_sys::console::error_1(&"mossy-live: the connection to Mossy Live closed".into());
        // A socket that never opened was refused (a wrong token): trying again cannot help,
        // and the requests' errors already say why.
        if self.open.get() {
            show_connection_lost();
            try_again_later();
        }
    }
}

/// The socket's address: this page's own origin, with the token from the page's address.
fn socket_url() -> Result<String, JsValue> {
    let location = web_sys::window()
        .ok_or_else(|| to_js(unreachable_backend()))?
        .location();
    let token = web_sys::UrlSearchParams::new_with_str(&location.search()?)?
        .get(TOKEN_PARAM)
        .ok_or_else(|| {
            to_js(IpcError {
                code: ErrorCode::Invalid,
                message: "This panel's address has no token; copy the whole address from \
                          Mossy Live's settings."
                    .to_owned(),
            })
        })?;
    let scheme = if location.protocol()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let token = String::from(js_sys::encode_uri_component(&token));
    Ok(format!(
        "{scheme}://{}{SOCKET_PATH}?{TOKEN_PARAM}={token}",
        location.host()?
    ))
}

/// The id of the line that says the app went away.
const CONNECTION_LOST_ID: &str = "embed-connection-lost";

/// Milliseconds before the first try to reach the app again; each failed try doubles it.
const FIRST_RETRY_MS: i32 = 2_000;

/// The longest wait between tries: an app closed for the night costs two requests a minute.
const LONGEST_RETRY_MS: i32 = 30_000;

/// A trial socket and its two handlers, kept until the next try replaces them (a handler
/// must not free itself while it runs, and the one of the two that never fires would
/// otherwise never be freed).
struct Trial {
    ws: web_sys::WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_close: Closure<dyn FnMut()>,
}

impl Drop for Trial {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onclose(None);
    }
}

thread_local! {
    /// The current trial socket, while the app is away.
    static TRIAL: RefCell<Option<Trial>> = const { RefCell::new(None) };
    /// The wait before the next try.
    static RETRY_MS: Cell<i32> = const { Cell::new(FIRST_RETRY_MS) };
}

/// Tells the user, over the panel, that Mossy Live went away and that the panel comes back by
/// itself. The panel keeps showing what it had; the editor keeps unsent edits in its offline
/// copy.
fn show_connection_lost() {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    if document.get_element_by_id(CONNECTION_LOST_ID).is_some() {
        return;
    }
    let (Ok(line), Some(body)) = (document.create_element("div"), document.body()) else {
        return;
    };
    line.set_id(CONNECTION_LOST_ID);
    let _ = line.set_attribute("role", "alert");
    line.set_text_content(Some(
        "Mossy Live closed. This panel reconnects by itself when Mossy Live runs again.",
    ));
    let _ = body.append_child(&line);
}

/// Opens a trial socket after the current wait, and doubles the wait up to
/// [`LONGEST_RETRY_MS`]. When a trial opens, the app is back: the page reloads, which starts
/// every stream afresh from the app's current state; when it fails, another try follows.
fn try_again_later() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let wait = RETRY_MS.with(|retry| retry.replace((retry.get() * 2).min(LONGEST_RETRY_MS)));
    // Called exactly once, so freed then.
    let attempt = Closure::once_into_js(try_socket);
    if window
        .set_timeout_with_callback_and_timeout_and_arguments_0(attempt.unchecked_ref(), wait)
        .is_err()
    {
        web_sys::console::error_1(&"mossy-live: cannot schedule a reconnect".into());
    }
}

/// Runs from a timer, never from a trial's own handler, so replacing the previous trial
/// (and freeing its handlers) here is safe.
fn try_socket() {
    let ws = match socket_url().and_then(|url| web_sys::WebSocket::new(&url)) {
        Ok(ws) => ws,
        Err(_) => {
            TRIAL.with(|trial| trial.borrow_mut().take());
            return try_again_later();
        }
    };
    let opened = ws.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        opened.set_onclose(None);
        let _ = opened.close();
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    let on_close = Closure::<dyn FnMut()>::new(try_again_later);
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let previous = TRIAL.with(|trial| {
        trial.borrow_mut().replace(Trial {
            ws,
            _on_open: on_open,
            _on_close: on_close,
        })
    });
    drop(previous);
}

fn with_socket(action: impl FnOnce(&Socket)) {
    if let Some(socket) = SOCKET.with(|socket| socket.borrow().clone()) {
        action(&socket);
    }
}

fn closed_error() -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message: "The connection to Mossy Live closed; this panel reconnects when it runs again."
            .to_owned(),
    }
}

fn unreachable_backend() -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message: "The Mossy Live backend is not reachable from this page.".to_owned(),
    }
}
