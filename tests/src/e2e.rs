//! Harness for the webview end-to-end tests: the real app, in the real webview
//! (WebKitGTK), driven over WebDriver by `tauri-driver` and `WebKitWebDriver`, under the
//! X display in `DISPLAY` (Xvfb in CI).
//!
//! Nothing here skips: a missing display, driver or app binary fails the test with a
//! sentence that says what to install or build. `scripts/test.sh` builds the app once in
//! release with its frontend embedded and starts Xvfb before running these tests.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// Longest wait for anything the UI should show. The app paints within a second on the
/// project's 2-core machine; the margin covers a loaded CI box.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts a repaint on every frame, for [`AppSession::screenshot`].
const KEEP_PAINTING: &str = "
    const dot = document.createElement('div');
    dot.id = 'e2e-keep-painting';
    dot.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;opacity:0.02;'
        + 'pointer-events:none;z-index:2147483647';
    document.body.appendChild(dot);
    let odd = false;
    const tick = () => {
        if (!dot.isConnected) return;
        odd = !odd;
        dot.style.background = odd ? '#000' : '#fff';
        requestAnimationFrame(tick);
    };
    tick();
    return true;";

/// Ends what [`KEEP_PAINTING`] started.
const STOP_PAINTING: &str = "document.getElementById('e2e-keep-painting')?.remove(); return true;";

/// How long tauri-driver may take to accept connections after it starts.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(15);

/// Where an app launched by the harness runs its collaboration hub unless the test says
/// otherwise: port 0 lets the system pick a free port.
const DEFAULT_HUB_ADDR: &str = "127.0.0.1:0";

/// Where an app launched by the harness serves embedded panels unless the test says
/// otherwise: a free port, for the same reason.
const DEFAULT_EMBED_ADDR: &str = "127.0.0.1:0";

/// The update manifest address every app under test gets unless the test gives its own:
/// nothing listens there, and release builds refuse plain http before connecting anyway.
const DEAD_UPDATE_URL: &str = "http://127.0.0.1:9/no-updates-in-tests.json";

/// Environment variable naming the app binary, for runs outside the workspace layout.
pub const APP_BIN_ENV: &str = "MOSSY_LIVE_BIN";

/// The workspace's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_owned)
        .unwrap_or_default()
}

/// A release binary built by the test script, such as `mossy-live` or `mossy-bridge-sim`.
pub fn release_binary(name: &str, env_override: &str) -> PathBuf {
    let path = std::env::var_os(env_override)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/release").join(name));
    assert!(
        path.is_file(),
        "{} is missing: build it with `bash scripts/test.sh` (or `cargo build --release \
         -p mossy-live --features custom-protocol -p mossy-bridge-sim -p mossy-collab` after \
         `trunk build --release` in frontend/), or set {env_override}",
        path.display()
    );
    path
}

/// Spawns `command`, retrying while the kernel says "text file busy": a binary copied a
/// moment ago can still be open for writing in a child another test thread just forked.
pub fn spawn_fresh_copy(command: &mut Command) -> std::io::Result<Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(err) if err.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// A TCP port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    port_of(&loopback_listener())
}

/// Two different loopback ports that were free a moment ago: both are held while the second
/// is picked, so the system cannot hand out the same one twice.
fn two_free_ports() -> (u16, u16) {
    let (first, second) = (loopback_listener(), loopback_listener());
    (port_of(&first), port_of(&second))
}

fn loopback_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port")
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().expect("local address").port()
}

/// A child process in its own process group, ended with SIGTERM to the whole group on drop
/// (SIGKILL would orphan WebKitWebDriver, which then holds its port for the next run).
pub struct GroupChild {
    child: Child,
}

impl GroupChild {
    /// Starts `command` in a new process group.
    pub fn spawn(command: &mut Command) -> std::io::Result<Self> {
        use std::os::unix::process::CommandExt;
        spawn_fresh_copy(command.process_group(0)).map(|child| Self { child })
    }

    /// Waits until the child prints a line containing `needle` on its piped stdout; the rest
    /// of its output is drained in the background so it never blocks on a full pipe.
    pub fn wait_for_line(&mut self, needle: &str) {
        let stdout = self.child.stdout.take().expect("stdout must be piped");
        let (found, seen) = std::sync::mpsc::channel();
        let needle = needle.to_owned();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
                let Ok(line) = line else { break };
                if !sent && line.contains(&needle) {
                    sent = found.send(()).is_ok();
                }
            }
        });
        if seen.recv_timeout(UI_TIMEOUT).is_err() {
            panic!("the child process never printed its ready line");
        }
    }

    /// The process id (also the group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the whole group at once (SIGKILL), as a crash or a pulled plug would, and reaps
    /// the leader.
    pub fn kill(&mut self) {
        self.signal_group("-KILL");
    }

    /// Ends the whole group and reaps the leader.
    pub fn terminate(&mut self) {
        self.signal_group("-TERM");
    }

    fn signal_group(&mut self, signal: &str) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args([signal, "--", &format!("-{}", self.child.id())])
                .status();
        }
        let _ = self.child.wait();
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Starts the stand-alone team hub, `mossy-hub`, on `127.0.0.1:<port>` with its documents in
/// `data_dir`; returns when it listens.
pub fn start_hub(port: u16, data_dir: &Path) -> GroupChild {
    let hub = release_binary("mossy-hub", "MOSSY_HUB_BIN");
    let mut command = Command::new(hub);
    command
        .args(["--bind", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = GroupChild::spawn(&mut command).expect("start mossy-hub");
    child.wait_for_line("listening on");
    child
}

/// Starts `mossy-bridge-sim` on `port` playing `scenario` from `tests/fixtures/bridge/`;
/// returns when it listens.
pub fn start_simulator(port: u16, scenario: &str) -> GroupChild {
    start_simulator_with(port, scenario, &[])
}

/// [`start_simulator`] with more command-line options, such as `--previews-dir`.
pub fn start_simulator_with(port: u16, scenario: &str, options: &[&std::ffi::OsStr]) -> GroupChild {
    let sim = release_binary("mossy-bridge-sim", "MOSSY_BRIDGE_SIM_BIN");
    let scenario = crate::bridge_fixture(scenario);
    let mut command = Command::new(sim);
    command
        .args(["--listen", &format!("127.0.0.1:{port}"), "--scenario"])
        .arg(scenario)
        .args(options)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = GroupChild::spawn(&mut command).expect("start mossy-bridge-sim");
    child.wait_for_line("listening on");
    child
}

/// Starts the release app directly (no WebDriver) with `MOSSY_LIVE_HOME=home`, the bridge at
/// `bridge_url` and the same test environment [`AppSession`] gives it, plus `env`. Its window
/// opens on `DISPLAY`; it ends with the returned child.
pub fn start_app(home: &Path, bridge_url: &str, env: &[(&str, &std::ffi::OsStr)]) -> GroupChild {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "DISPLAY is not set: start Xvfb (scripts/test.sh does) before the app tests"
    );
    let app = release_binary("mossy-live", APP_BIN_ENV);
    let mut command = Command::new(app);
    app_env(&mut command, home, bridge_url, env)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    GroupChild::spawn(&mut command).expect("start mossy-live")
}

/// The environment every app under test gets: its own home folder and bridge address, then
/// `env` over the defaults below.
fn app_env<'a>(
    command: &'a mut Command,
    home: &Path,
    bridge_url: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> &'a mut Command {
    command
        .env("MOSSY_LIVE_HOME", home)
        .env("MOSSY_BRIDGE_URL", bridge_url)
        // The app never asks the real update server in a test; a test of the updater
        // passes its own loopback address in `env`.
        .env("MOSSY_UPDATE_URL", DEAD_UPDATE_URL)
        // Port 0: every app's collaboration hub gets its own free port, so parallel tests
        // never compete for the default one. A test may name an address in `env`.
        .env("MOSSY_HUB_ADDR", DEFAULT_HUB_ADDR)
        // The same for the server of embedded panels.
        .env("MOSSY_EMBED_ADDR", DEFAULT_EMBED_ADDR)
        .envs(env.iter().copied())
}

/// One running app under WebDriver, with its own home folder and bridge address.
pub struct AppSession {
    /// The WebDriver client.
    pub client: Client,
    driver: GroupChild,
    // The app's home folder: every process of this app carries it in its environment.
    home: PathBuf,
}

impl AppSession {
    /// Runs `js` in the page and returns what it returns.
    pub async fn script(&self, js: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(js, Vec::new()).await?)
    }

    /// Polls `js` until it returns `true`, failing with `what` after [`UI_TIMEOUT`].
    pub async fn wait_until(&self, js: &str, what: &str) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
        loop {
            if self.script(js).await? == serde_json::Value::Bool(true) {
                return Ok(());
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting until {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Launches the app through tauri-driver with `MOSSY_LIVE_HOME=home` and the bridge at
    /// `bridge_url`, and waits until the page has mounted.
    pub async fn launch(home: &Path, bridge_url: &str) -> anyhow::Result<Self> {
        Self::launch_with_env(home, bridge_url, &[]).await
    }

    /// Waits until an element matching `css` exists, and returns it.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|err| anyhow::anyhow!("waiting for `{css}`: {err}"))
    }

    /// Saves a screenshot of the window under `target/e2e/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        self.save_screenshot(name, "target/e2e").await
    }

    /// Saves a screenshot of the window as `<dir>/<name>.png` (`dir` from the workspace
    /// root) and returns its path. It waits for two animation frames first: WebKit captures
    /// what it last painted, which can lag the DOM the caller just checked by a frame or
    /// more under software rendering.
    pub async fn save_screenshot(&self, name: &str, dir: &str) -> anyhow::Result<PathBuf> {
        tokio::time::timeout(
            UI_TIMEOUT,
            self.client.execute_async(
                "const done = arguments[0]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 100)));",
                Vec::new(),
            ),
        )
        .await
        .map_err(|_| anyhow::anyhow!("no frame painted for the screenshot {name}"))??;
        // WebKitGTK painting without compositing (the app's choice on a machine with no GPU,
        // as here) answers a screenshot only after its next paint, and a page with nothing
        // changing never paints again: the request would hang. A 1-pixel, almost
        // transparent dot in the corner keeps changing until the picture is taken.
        // A request that timed out keeps the session busy, so the error comes out at once.
        self.client.execute(KEEP_PAINTING, Vec::new()).await?;
        let png = tokio::time::timeout(UI_TIMEOUT, self.client.screenshot())
            .await
            .map_err(|_| anyhow::anyhow!("the screenshot {name} was not taken"))??;
        tokio::time::timeout(UI_TIMEOUT, self.client.execute(STOP_PAINTING, Vec::new()))
            .await
            .map_err(|_| {
                anyhow::anyhow!("the page did not answer after the screenshot {name}")
            })??;
        let dir = workspace_root().join(dir);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the WebDriver session (closing the app) and the drivers, and waits until the
    /// app has exited: a new app on the same home started sooner would hand its launch over
    /// to this one (one app per home) and exit at once.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let group = self.driver.id();
        self.driver.terminate();
        wait_for_group_exit(group, UI_TIMEOUT).await;
        wait_for_home_exit(&self.home, UI_TIMEOUT).await;
    }
}

/// Waits until no live process runs with `MOSSY_LIVE_HOME=home`, or `limit` passes.
///
/// Guards the relaunch tests: an app still exiting holds its single-instance name on D-Bus,
/// and a new app on the same home that asks it to take over gets no reply and stops.
pub async fn wait_for_home_exit(home: &Path, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut marker = b"MOSSY_LIVE_HOME=".to_vec();
    marker.extend_from_slice(home.as_os_str().as_encoded_bytes());
    let runs_here = |pid: u32| {
        let live = crate::procfs::stat_fields(pid)
            .is_some_and(|fields| fields.first().is_some_and(|state| state != "Z"));
        live && std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
            env.split(|b| *b == 0)
                .any(|entry| entry == marker.as_slice())
        })
    };
    while crate::procfs::all_pids().any(runs_here) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no live process is left in process group `group` (the drivers and the app
/// they started), or `limit` passes.
async fn wait_for_group_exit(group: u32, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    let group = group.to_string();
    let in_group = |pid: u32| {
        crate::procfs::stat_fields(pid).is_some_and(|fields| {
            // After the name: state, ppid, pgrp. A zombie has already let go of everything.
            fields.first().is_some_and(|state| state != "Z") && fields.get(2) == Some(&group)
        })
    };
    while crate::procfs::all_pids().any(in_group) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_port(port: u16, limit: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "tauri-driver did not listen on port {port} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

impl AppSession {
    /// [`AppSession::launch`] with more environment variables for the app, such as the
    /// folders the Assets panel starts with.
    pub async fn launch_with_env(
        home: &Path,
        bridge_url: &str,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> anyhow::Result<Self> {
        let app = release_binary("mossy-live", APP_BIN_ENV);
        Self::launch_binary(&app, home, bridge_url, env).await
    }

    /// [`AppSession::launch_with_env`] for the app binary at `app`, such as a copy installed
    /// from a package.
    pub async fn launch_binary(
        app: &Path,
        home: &Path,
        bridge_url: &str,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some(),
            "DISPLAY is not set: start Xvfb (scripts/test.sh does) before the webview tests"
        );
        let (port, native_port) = two_free_ports();

        let mut command = Command::new("tauri-driver");
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .stdin(Stdio::null());
        // tauri-driver starts the app, which inherits its environment.
        app_env(&mut command, home, bridge_url, env);
        let driver = GroupChild::spawn(&mut command).map_err(|err| {
            anyhow::anyhow!("could not start tauri-driver ({err}); run scripts/setup.sh")
        })?;
        wait_for_port(port, DRIVER_START_TIMEOUT).await?;
        // tauri-driver refuses a session until WebKitWebDriver listens too.
        wait_for_port(native_port, DRIVER_START_TIMEOUT).await?;

        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            anyhow::bail!("capabilities must be an object");
        };
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        let session = Self {
            client,
            driver,
            home: home.to_owned(),
        };
        session.wait_for(".shell").await?;
        Ok(session)
    }
}
