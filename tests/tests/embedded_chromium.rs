//! Panels embedded in Mossy's window, end to end: the release app serves the Tool monitor at
//! `http://127.0.0.1:<port>/panel/tool-monitor?token=...` and headless Chromium (the engine of
//! Mossy's Electron window, from Debian's `chromium` and `chromium-driver`) shows it with live
//! data from the bridge simulator over the loopback socket; requests without the token, with
//! a wrong one, with a foreign `Host` or a foreign `Origin` are refused. When the app closes
//! the panel says so, and it comes back by itself when the app runs again.
//!
//! Run by `scripts/test.sh` under Xvfb (the app still opens its own window). A missing
//! chromedriver, Chromium or app build fails the test; it never skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::{SinkExt, StreamExt};
use mossy_tests::e2e::{
    GroupChild, UI_TIMEOUT, free_port, start_app, start_simulator, wait_for_home_exit,
    workspace_root,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

/// The simulator scenario: Mossy reports NifSkope shortly after connecting.
const SCENARIO: &str = "e2e-tool-monitor.jsonl";

/// Debian's WebDriver for its Chromium, and the browser itself.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium reaches nothing but the app under test: no first-run, sync, component updates or
/// background fetches, which would otherwise go to Google's servers.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1100,760",
];

/// Where the app writes its embedded-panel address and token, under `MOSSY_LIVE_HOME`.
const ADDRESS_FILE: &str = "data/embed-address";
const TOKEN_FILE: &str = "config/embed-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_monitor_panel_runs_in_chromium_and_refuses_strangers() -> anyhow::Result<()> {
    let home = tempfile::tempdir()?;
    let bridge_port = free_port();
    let _simulator = start_simulator(bridge_port, SCENARIO);
    // A fixed port, so the app restarted below serves the page's address again.
    let embed_addr = format!("127.0.0.1:{}", free_port());
    let launch = || {
        start_app(
            home.path(),
            &format!("ws://127.0.0.1:{bridge_port}/bridge"),
            &[("MOSSY_EMBED_ADDR", embed_addr.as_ref())],
        )
    };
    let mut app = launch();
    let (port, token) = wait_for_server(home.path()).await?;
    assert_eq!(token.len(), 64, "a 256-bit token in hex");
    let page = format!("/panel/tool-monitor?token={token}");
    let me = format!("127.0.0.1:{port}");

    // Plain HTTP: no token, a wrong token and a foreign Host are refused; the right one serves
    // the page with a strict CSP.
    let wrong = "0".repeat(64);
    assert_eq!(get(port, &me, "/panel/tool-monitor").await?.status, 401);
    let wrong_page = format!("/panel/tool-monitor?token={wrong}");
    assert_eq!(get(port, &me, &wrong_page).await?.status, 401);
    assert_eq!(get(port, &me, "/index.html").await?.status, 401);
    let rebinding = get(port, &format!("attacker.example:{port}"), &page).await?;
    assert_eq!(
        rebinding.status, 403,
        "a foreign Host is refused (DNS rebinding)"
    );
    let served = get(port, &me, &page).await?;
    assert_eq!(served.status, 200);
    let csp = served.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "strict CSP, got {csp:?}"
    );
    assert!(served.body.contains("<html"), "the page is the frontend");

    // The socket: refused without a token and from a foreign origin; the right one answers,
    // and a desktop-only command says it is not available here.
    let origin = format!("http://127.0.0.1:{port}");
    let refused = connect_socket(port, None, &origin).await;
    assert_eq!(refused.err(), Some(401), "socket without token");
    let refused = connect_socket(port, Some(&wrong), &origin).await;
    assert_eq!(refused.err(), Some(401), "socket with a wrong token");
    let refused = connect_socket(port, Some(&token), "http://127.0.0.1:1").await;
    assert_eq!(refused.err(), Some(403), "socket from a foreign origin");
    let mut socket = connect_socket(port, Some(&token), &origin)
        .await
        .map_err(|status| anyhow::anyhow!("socket refused with {status}"))?;
    socket
        .send(Message::text(
            json!({"id": 1, "command": "pick_folder", "args": null}).to_string(),
        ))
        .await?;
    let answer = next_json(&mut socket).await?;
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["error"]["code"], "not_available", "{answer}");
    drop(socket);

    // The panel in Chromium: live data from the simulator over the socket.
    let (_driver, client, _profile) = start_chromium().await?;
    let result = drive_panel(&client, port, &page).await;
    let shot = screenshot(&client, "embedded-tool-monitor").await;
    let result = match result {
        Ok(()) => open_build_panel(&client, port, &token).await,
        failed => failed,
    };
    let build_shot = screenshot(&client, "embedded-build").await;
    let result = match result {
        Ok(()) => reconnects_after_restart(&client, &mut app, home.path(), launch).await,
        failed => failed,
    };
    let _ = client.close().await;
    println!("screenshots: {} {}", shot?.display(), build_shot?.display());
    result
}

/// The app closes under an open panel: the panel says so, and when the app runs again the
/// panel comes back by itself (it reloads, so the check is a marker the reload clears).
async fn reconnects_after_restart(
    client: &Client,
    app: &mut GroupChild,
    home: &Path,
    launch: impl FnOnce() -> GroupChild,
) -> anyhow::Result<()> {
    client
        .execute("window.__beforeRestart = true;", Vec::new())
        .await?;
    app.terminate();
    let notice = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#embed-connection-lost[role='alert']"))
        .await
        .map_err(|err| anyhow::anyhow!("no notice that the app closed: {err}"))?;
    assert!(
        notice.text().await?.contains("Mossy Live closed"),
        "the notice names what happened"
    );
    let lost_shot = screenshot(client, "embedded-app-closed").await?;
    println!("screenshot: {}", lost_shot.display());

    // Every process of the old app gone first: it holds the single-instance name until then.
    wait_for_home_exit(home, UI_TIMEOUT).await;
    *app = launch();
    let deadline = tokio::time::Instant::now() + UI_TIMEOUT * 2;
    loop {
        let state = client
            .execute(
                "return [typeof window.__beforeRestart, \
                 !!document.querySelector(\"#bridge-badge[data-state='connected']\"), \
                 !!document.getElementById('embed-connection-lost')];",
                Vec::new(),
            )
            .await;
        // The page may be between unload and load; ask again.
        if let Ok(state) = state
            && state == json!(["undefined", true, false])
        {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the panel did not come back after the app restarted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn drive_panel(client: &Client, port: u16, page: &str) -> anyhow::Result<()> {
    client
        .goto(&format!("http://127.0.0.1:{port}{page}"))
        .await?;
    let wait = |css: &'static str| async move {
        client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|err| anyhow::anyhow!("waiting for `{css}`: {err}"))
    };
    wait(".shell.panel-window[data-panel='tool-monitor']").await?;
    wait("#bridge-badge[data-state='connected']").await?;
    wait(".feed-row[data-kind='reported'][data-tool='nifskope']").await?;
    wait("#tool-card-nifskope .reported").await?;
    let tauri = client
        .execute("return typeof window.__TAURI__;", Vec::new())
        .await?;
    assert_eq!(tauri, json!("undefined"), "the page runs outside Tauri");

    // Live: a tool that starts after the page loaded reaches it through the socket's stream.
    let bin_dir = tempfile::tempdir()?;
    let exe = bin_dir.path().join("blender");
    std::fs::copy("/bin/sleep", &exe)?;
    let mut blender = GroupChild::spawn(Command::new(&exe).arg("60"))?;
    let pid = blender.id();
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(&format!(
            "#tool-card-blender .instance[data-pid='{pid}']"
        )))
        .await?;
    wait(".feed-row[data-kind='started'][data-tool='blender']").await?;
    blender.terminate();
    Ok(())
}

/// The Build panel also loads embedded, from a page of its own (the cookie the first page set
/// is not needed: the address carries the token).
async fn open_build_panel(client: &Client, port: u16, token: &str) -> anyhow::Result<()> {
    client
        .goto(&format!(
            "http://127.0.0.1:{port}/panel/build?token={token}"
        ))
        .await?;
    let heading = client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(
            ".shell.panel-window[data-panel='build'] .build-panel h1",
        ))
        .await?;
    assert_eq!(heading.text().await?.to_lowercase(), "build");
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css("#bridge-badge[data-state='connected']"))
        .await?;
    Ok(())
}

/// Waits until the app has written its embedded-panel address, and reads it and the token.
async fn wait_for_server(home: &Path) -> anyhow::Result<(u16, String)> {
    let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
    loop {
        let address = std::fs::read_to_string(home.join(ADDRESS_FILE)).unwrap_or_default();
        if let Some((_, port)) = address.trim().rsplit_once(':') {
            let token = std::fs::read_to_string(home.join(TOKEN_FILE))?;
            return Ok((port.parse()?, token.trim().to_owned()));
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the app did not write {ADDRESS_FILE} within {UI_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One HTTP answer: status, header lines and body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

/// A plain HTTP/1.1 GET of `target` with the given `Host`, read to the end.
async fn get(port: u16, host: &str, target: &str) -> anyhow::Result<Answer> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut bytes = Vec::new();
    tokio::time::timeout(UI_TIMEOUT, stream.read_to_end(&mut bytes)).await??;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no status line in {head:?}"))?;
    Ok(Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the panel socket; the HTTP status when the handshake is refused.
async fn connect_socket(port: u16, token: Option<&str>, origin: &str) -> Result<Socket, u16> {
    let query = token
        .map(|token| format!("?token={token}"))
        .unwrap_or_default();
    let mut request = format!("ws://127.0.0.1:{port}/ipc{query}")
        .into_client_request()
        .map_err(|_| 0_u16)?;
    let origin = origin.parse().map_err(|_| 0_u16)?;
    request.headers_mut().insert("origin", origin);
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(err) => panic!("the socket handshake failed without an HTTP answer: {err}"),
    }
}

async fn next_json(socket: &mut Socket) -> anyhow::Result<Value> {
    loop {
        let message = tokio::time::timeout(UI_TIMEOUT, socket.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the socket closed"))??;
        if let Message::Text(text) = message {
            return Ok(serde_json::from_str(text.as_str())?);
        }
    }
}

/// Starts chromedriver on a free loopback port and a headless Chromium session through it.
/// The temporary profile folder is returned to be removed when the test ends.
async fn start_chromium() -> anyhow::Result<(GroupChild, Client, tempfile::TempDir)> {
    let port = free_port();
    let mut command = Command::new(CHROMEDRIVER);
    command
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let driver = GroupChild::spawn(&mut command).map_err(|err| {
        anyhow::anyhow!("could not start {CHROMEDRIVER} ({err}); run scripts/setup.sh")
    })?;
    let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not listen on port {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let profile = tempfile::tempdir()?;
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|arg| (*arg).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    let Value::Object(capabilities) = capabilities else {
        anyhow::bail!("capabilities must be an object");
    };
    let client = ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await?;
    Ok((driver, client, profile))
}

/// Saves what Chromium shows under `target/screenshots/<name>.png`.
async fn screenshot(client: &Client, name: &str) -> anyhow::Result<PathBuf> {
    let png = client.screenshot().await?;
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}
