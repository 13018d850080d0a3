//! Panels embedded in Mossy's own window: a loopback HTTP server for the frontend build and a
//! WebSocket that stands in for Tauri IPC ([`socket`]).
//!
//! Mossy loads `http://127.0.0.1:<port>/panel/<name>?token=<token>` in its webview. The page
//! is the frontend the app's windows show, read from the binary through Tauri's asset
//! resolver (one build, nothing read from disk), so it must be a release build with the
//! frontend embedded. The page finds no `window.__TAURI__`, reads the token from its address
//! and opens `ws://<its own origin>/ipc?token=<token>`.
//!
//! What guards it, and why:
//! - It binds loopback only ([`bind_address`] refuses anything else): no other machine can
//!   reach it.
//! - A per-install token (32 random bytes, hex) lives in the config folder, readable by the
//!   user alone; every request must carry it, compared in constant time. The panel page
//!   answers with an `HttpOnly`, `SameSite=Strict` cookie holding it so that the page's own
//!   scripts, styles and wasm (which carry no query) load; the socket takes the query token
//!   only, never the cookie.
//! - The `Host` header must name this server (`127.0.0.1:<port>` or `localhost:<port>`), which
//!   defeats DNS rebinding; the socket's `Origin` must be the server's own, so another page
//!   in the same browser, even one on another loopback port, cannot open it.
//! - The page gets a strict CSP (scripts from this origin plus the hashes of the inline loader
//!   Tauri computed at build time, connections to this origin only, no framing), and every
//!   answer `nosniff`, `no-referrer` (the token is in the address) and `same-origin` resource
//!   policy.

mod socket;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use mossy_core::settings::{AppDirs, SETTINGS_FILE, parse_embed_address};
use mossy_protocol::embed::{SOCKET_PATH, TOKEN_PARAM};
use mossy_protocol::panel::Panel;
use subtle::ConstantTimeEq;
use tauri::AppHandle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tracing::{debug, info, warn};

/// Environment variable with the address the embedded-panel server listens on, such as
/// `127.0.0.1:0` (tests take a free port), or `off` to not serve panels at all.
pub const EMBED_ADDR_ENV: &str = "MOSSY_EMBED_ADDR";

/// The token's file in the config folder; Mossy reads it from there.
pub const TOKEN_FILE: &str = "embed-token";

/// The file in the data folder holding the address the server listens on since the last
/// start, such as `127.0.0.1:47821` (with port 0 it is the only way to learn the port);
/// removed at a start that serves nothing.
pub const ADDRESS_FILE: &str = "embed-address";

/// Random bytes in a token: 256 bits cannot be guessed through a loopback socket.
const TOKEN_BYTES: usize = 32;

/// Where the panels live: `/panel/<name>`, the same routes the panel windows use.
pub(crate) const PANEL_PREFIX: &str = "/panel/";

/// The frontend's page; every panel route serves it.
const INDEX_PAGE: &str = "index.html";

/// The server's shared state.
struct Server {
    app: AppHandle,
    token: String,
    port: u16,
    /// Numbers the sockets, for their stream owner label.
    next_socket: AtomicU64,
}

/// The server as it runs since this start, for the Settings page.
pub struct EmbedStatus {
    /// The address served, or a sentence on why none is.
    pub served: Result<SocketAddr, String>,
    /// The file holding the token.
    pub token_file: PathBuf,
}

/// Starts the server on the address from [`EMBED_ADDR_ENV`] or, without it, from the
/// settings file (`setting`). A server that cannot start (turned off, a bad address, its
/// port taken) is logged once and the reason kept in [`EmbedStatus`]; the app runs on.
pub fn setup(app: &tauri::App, dirs: &AppDirs, setting: &str) {
    let token_file = dirs.config.join(TOKEN_FILE);
    // An empty variable counts as unset, as a shell's `MOSSY_EMBED_ADDR=` means.
    let env = std::env::var(EMBED_ADDR_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty());
    let served = match bind_address(env.as_deref(), setting) {
        Ok(Some(addr)) => start(app.handle().clone(), &token_file, dirs, addr)
            .map_err(|err| format!("It could not start on {addr}: {err:#}.")),
        Ok(None) => Err(format!(
            "It is turned off ({}).",
            if env.is_some() {
                EMBED_ADDR_ENV
            } else {
                SETTINGS_FILE
            }
        )),
        Err(problem) => Err(problem),
    };
    if served.is_err() {
        // Mossy reads the address from this file: an address from an earlier start that
        // nobody serves now must not be left there.
        let _ = std::fs::remove_file(dirs.data.join(ADDRESS_FILE));
    }
    match &served {
        Ok(_) => {}
        Err(problem) if problem.starts_with("It is turned off") => {
            info!(problem, "embedded panels are not served");
        }
        Err(problem) => warn!(problem, "embedded panels are not served"),
    }
    tauri::Manager::manage(app, EmbedStatus { served, token_file });
}

/// The address to listen on: `env` (the value of [`EMBED_ADDR_ENV`]) when set, else
/// `setting`, read by [`parse_embed_address`]; `None` when it says off. `Err` says why an
/// address was refused: not 127.0.0.1 or ::1 (the panels' API must never be reachable from
/// another machine), or not an address at all.
fn bind_address(env: Option<&str>, setting: &str) -> Result<Option<SocketAddr>, String> {
    let (text, source) = match env {
        Some(text) => (text, EMBED_ADDR_ENV),
        None => (setting, SETTINGS_FILE),
    };
    parse_embed_address(text)
        .map_err(|problem| format!("The address {text:?} in {source} was refused. {problem}"))
}

fn start(
    app: AppHandle,
    token_file: &Path,
    dirs: &AppDirs,
    addr: SocketAddr,
) -> anyhow::Result<SocketAddr> {
    anyhow::ensure!(addr.ip().is_loopback(), "{addr} is not a loopback address");
    let token = load_or_create_token(token_file)?;

    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let address_file = dirs.data.join(ADDRESS_FILE);
    std::fs::write(&address_file, format!("{local}\n"))
        .with_context(|| format!("writing {}", address_file.display()))?;

    let runtime = tauri::async_runtime::handle();
    let _entered = runtime.inner().enter();
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let server = Arc::new(Server {
        app,
        token,
        port: local.port(),
        next_socket: AtomicU64::new(0),
    });
    tauri::async_runtime::spawn(accept(server, listener));
    info!(
        url = format!("http://{local}{PANEL_PREFIX}<name>?{TOKEN_PARAM}=<token>"),
        token_file = %token_file.display(),
        "embedded panels served"
    );
    Ok(local)
}

/// Reads the install's token, or makes and stores one (readable by the user alone).
fn load_or_create_token(path: &Path) -> anyhow::Result<String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        let token = text.trim();
        if token.len() == TOKEN_BYTES * 2 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
            restrict_to_owner(path)?;
            return Ok(token.to_ascii_lowercase());
        }
        warn!(path = %path.display(), "the embedded-panel token file is damaged; making a new token");
    }
    let mut bytes = [0_u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("no OS randomness: {err}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, format!("{token}\n").as_bytes())?;
    restrict_to_owner(path)?;
    info!(path = %path.display(), "made a new token for embedded panels");
    Ok(token)
}

/// Makes the token file readable by its owner alone (a file made earlier, or by a copy
/// tool, may have wider rights). On Windows the user's profile folder is already private.
fn restrict_to_owner(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

async fn accept(server: Arc<Server>, listener: tokio::net::TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                warn!(error = %err, "embedded panels: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let server = Arc::clone(&server);
                async move { Ok::<_, std::convert::Infallible>(handle(&server, request)) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(err) = connection.await {
                debug!(%peer, error = %err, "embedded panels: connection ended");
            }
        });
    }
}

type Reply = Response<Full<Bytes>>;

fn handle(server: &Arc<Server>, mut request: Request<Incoming>) -> Reply {
    if !server.host_is_mine(request.headers().get(header::HOST)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "This server answers to 127.0.0.1 only.",
        );
    }
    if request.method() != Method::GET {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "Only GET is served here.");
    }
    let path = request.uri().path().to_owned();
    let query_token = query_param(request.uri().query(), TOKEN_PARAM);

    if path == SOCKET_PATH {
        // The socket takes the token from its address only: a cookie would ride along with a
        // request another page in the same browser makes.
        if !server.token_matches(query_token) {
            return refuse(StatusCode::UNAUTHORIZED, "A valid token is required.");
        }
        if !server.origin_is_mine(request.headers().get(header::ORIGIN)) {
            return refuse(
                StatusCode::FORBIDDEN,
                "Only the panel's own page may connect.",
            );
        }
        return upgrade(server, &mut request);
    }

    let cookie_token = cookie(request.headers(), &server.cookie_name());
    if !server.token_matches(query_token) && !server.token_matches(cookie_token) {
        return refuse(StatusCode::UNAUTHORIZED, "A valid token is required.");
    }
    match path.strip_prefix(PANEL_PREFIX) {
        Some(name) => match Panel::from_slug(name.trim_end_matches('/')) {
            Some(_) => server.panel_page(),
            None => refuse(StatusCode::NOT_FOUND, "There is no such panel."),
        },
        None => server.asset(&path),
    }
}

impl Server {
    /// True when `host` names this server: `127.0.0.1:<port>` or `localhost:<port>`.
    fn host_is_mine(&self, host: Option<&HeaderValue>) -> bool {
        let Some(host) = host.and_then(|value| value.to_str().ok()) else {
            return false;
        };
        let port = self.port.to_string();
        let Some((name, given_port)) = host.rsplit_once(':') else {
            return false;
        };
        given_port == port
            && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost") || name == "[::1]")
    }

    /// True when `origin` is this server's own, as its pages send it.
    fn origin_is_mine(&self, origin: Option<&HeaderValue>) -> bool {
        origin
            .and_then(|value| value.to_str().ok())
            .and_then(|origin| origin.strip_prefix("http://"))
            .is_some_and(|host| self.host_is_mine(HeaderValue::from_str(host).ok().as_ref()))
    }

    /// Compares in constant time, so the answer's timing says nothing about the token.
    fn token_matches(&self, given: Option<&str>) -> bool {
        given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(self.token.as_bytes())))
    }

    /// Named after the port: cookies are shared by every port of a host, and two apps (two
    /// home folders) may serve panels side by side.
    fn cookie_name(&self) -> String {
        format!("mossy_live_panel_{}", self.port)
    }

    fn panel_page(&self) -> Reply {
        let Some(page) = self.app.asset_resolver().get(INDEX_PAGE.to_owned()) else {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, NO_FRONTEND);
        };
        // Tauri adds the hashes of the inline loader script (and nonces it put in the page)
        // to the CSP of embedded builds; without them the page could not start.
        let Some(inline_scripts) = page.csp_header.as_deref().map(inline_script_sources) else {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, NO_FRONTEND);
        };
        let port = self.port;
        let csp = format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval' {inline_scripts}; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
             connect-src 'self' ws://127.0.0.1:{port} ws://localhost:{port}; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        );
        let cookie = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Strict",
            self.cookie_name(),
            self.token
        );
        let mut reply = ok(page.bytes, "text/html; charset=utf-8");
        let headers = reply.headers_mut();
        for (name, value) in [
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::SET_COOKIE, cookie),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        reply
    }

    /// One file of the frontend build, such as `/mossy-live-ui-1a2b.js`.
    fn asset(&self, path: &str) -> Reply {
        let Some(name) = asset_name(path) else {
            return refuse(StatusCode::NOT_FOUND, "Not found.");
        };
        match self.app.asset_resolver().get(name.to_owned()) {
            // The resolver answers an unknown path with the page (for the windows' routes);
            // here an unknown file is simply not found.
            Some(asset) if !asset.mime_type.starts_with("text/html") => {
                ok(asset.bytes, &asset.mime_type)
            }
            _ => refuse(StatusCode::NOT_FOUND, "Not found."),
        }
    }
}

/// Shown when the binary carries no frontend (a debug build loads it from Trunk instead).
const NO_FRONTEND: &str =
    "This build of Mossy Live has no embedded frontend; embedded panels need a release build.";

/// The script sources Tauri added to its own CSP's `script-src`: hashes and nonces.
fn inline_script_sources(csp: &str) -> String {
    csp.split(';')
        .filter_map(|directive| directive.trim().strip_prefix("script-src"))
        .flat_map(str::split_whitespace)
        .filter(|source| source.starts_with("'sha") || source.starts_with("'nonce-"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The asset name for a request path, when it is a plain file path: letters, digits, `.`, `_`,
/// `-` and `/` between non-empty segments, never `..`.
fn asset_name(path: &str) -> Option<&str> {
    let name = path.strip_prefix('/')?;
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'));
    let segments_ok = name
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    (plain && segments_ok).then_some(name)
}

/// The value of `name` in a query string, as given (the token is hex: nothing to decode).
fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Answers a WebSocket handshake and hands the connection to [`socket::serve`].
fn upgrade(server: &Arc<Server>, request: &mut Request<Incoming>) -> Reply {
    let headers = request.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|part| part.trim().eq_ignore_ascii_case(token))
    };
    let version_13 = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|value| value == "13");
    let key = headers.get(header::SEC_WEBSOCKET_KEY).cloned();
    let (true, true, true, Some(key)) = (
        has_token(header::CONNECTION, "upgrade"),
        has_token(header::UPGRADE, "websocket"),
        version_13,
        key,
    ) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "This address takes WebSocket connections only.",
        );
    };

    let on_upgrade = hyper::upgrade::on(request);
    let owner = format!(
        "embedded-{}",
        server.next_socket.fetch_add(1, Ordering::Relaxed)
    );
    let app = server.app.clone();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => socket::serve(app, owner, TokioIo::new(upgraded)).await,
            Err(err) => warn!(error = %err, "embedded panels: socket upgrade failed"),
        }
    });

    let mut reply = Response::new(Full::default());
    *reply.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = reply.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    reply
}

fn ok(body: Vec<u8>, content_type: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        reply.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    common_headers(reply)
}

fn refuse(status: StatusCode, message: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    common_headers(reply)
}

fn common_headers(mut reply: Reply) -> Reply {
    let headers = reply.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_served() {
        let localhost = |port| {
            Ok(Some(SocketAddr::from((
                std::net::Ipv4Addr::LOCALHOST,
                port,
            ))))
        };
        assert_eq!(bind_address(None, "127.0.0.1:47821"), localhost(47821));
        assert_eq!(bind_address(Some("127.0.0.1:0"), "off"), localhost(0));
        assert!(matches!(bind_address(None, "[::1]:5000"), Ok(Some(_))));
        assert_eq!(bind_address(Some("OFF"), "127.0.0.1:47821"), Ok(None));
        assert_eq!(bind_address(None, "off"), Ok(None));
        for refused in [
            "0.0.0.0:47821",
            "192.168.1.4:47821",
            "127.0.0.2:47821",
            "junk",
        ] {
            let problem = bind_address(None, refused).expect_err(refused);
            assert!(
                problem.starts_with(&format!(
                    "The address {refused:?} in settings.toml was refused."
                )),
                "{problem}"
            );
        }
    }

    #[test]
    fn asset_names_are_plain_paths_only() {
        assert_eq!(asset_name("/app-1a2b.js"), Some("app-1a2b.js"));
        assert_eq!(
            asset_name("/vendor/mossy-editor.js"),
            Some("vendor/mossy-editor.js")
        );
        for path in [
            "/",
            "/../x.js",
            "/a/../b.js",
            "//x.js",
            "/x%2e.js",
            "/a\\b.js",
            "x.js",
            "/./x.js",
        ] {
            assert_eq!(asset_name(path), None, "{path}");
        }
    }

    #[test]
    fn query_and_cookie_values_are_found_by_exact_name() {
        assert_eq!(query_param(Some("a=1&token=ab"), "token"), Some("ab"));
        assert_eq!(query_param(Some("xtoken=ab"), "token"), None);
        assert_eq!(query_param(None, "token"), None);
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; mossy_live_panel_5=cd"),
        );
        assert_eq!(cookie(&headers, "mossy_live_panel_5"), Some("cd"));
        assert_eq!(cookie(&headers, "mossy_live_panel_6"), None);
    }

    #[test]
    fn inline_sources_come_from_script_src_only() {
        let csp = "default-src 'self'; script-src 'self' 'sha256-AAA=' 'nonce-12'; \
                   style-src 'self' 'sha256-BBB='";
        assert_eq!(inline_script_sources(csp), "'sha256-AAA=' 'nonce-12'");
    }

    #[test]
    fn a_token_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(TOKEN_FILE);
        let token = load_or_create_token(&path).expect("token");
        assert_eq!(token.len(), 64);
        assert_eq!(load_or_create_token(&path).expect("token again"), token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").expect("damage it");
        assert_ne!(load_or_create_token(&path).expect("new token"), token);
    }
}
