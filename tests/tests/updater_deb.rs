//! The self-update end to end with real packages, and the `.deb` smoke test.
//!
//! `scripts/build.sh --update-test-bundles` (run by `scripts/test.sh`) signs two builds
//! with a test key made for that run and leaves them in `target/update-test/`: `old/` holds
//! version [`OLD_VERSION`], `new/` version [`NEW_VERSION`] with its `.sig`, and `foreign/` a
//! signature of the same new package by another key. This test installs the old package
//! with `dpkg -i`, starts `/usr/bin/mossy-live` under WebDriver and plays three scenarios
//! against an update server it runs on loopback:
//!
//! 1. the server is unreachable: the Updates box says "could not check", quietly;
//! 2. the manifest carries the foreign signature: the install is refused with a message,
//!    the installed version stays, the app keeps running;
//! 3. the real thing: the app finds the new version, downloads it with progress, verifies
//!    it, installs it with dpkg and restarts into it.
//!
//! It needs root (or passwordless sudo) to install packages, and fails without it. The
//! package is removed at the end, also when a scenario fails. Screenshots go to
//! `target/e2e/update-*.png`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use mossy_tests::e2e::{AppSession, free_port, workspace_root};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The version of the package installed first.
const OLD_VERSION: &str = "0.1.0-test.1";
/// The version the update server offers.
const NEW_VERSION: &str = "0.1.0-test.2";
/// The Debian package's name.
const PACKAGE: &str = "mossy-live";
/// Where the package puts the app.
const INSTALLED_APP: &str = "/usr/bin/mossy-live";
/// The app's own switch for the update manifest's address.
const UPDATE_URL_ENV: &str = "MOSSY_UPDATE_URL";

/// The package is sent in pieces of this size with [`CHUNK_PAUSE`] between them: the 12 MB
/// test package then takes about ten seconds on loopback, long enough for a loaded machine
/// to see the progress bar between empty and full.
const CHUNK: usize = 64 * 1024;
/// See [`CHUNK`].
const CHUNK_PAUSE: Duration = Duration::from_millis(60);

/// Longest wait for download, dpkg and restart together on a loaded 2-core machine.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(90);
/// Longest wait for one WebDriver call while the app may be closing under it.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Time the restarted app gets to paint its window before the display is captured.
const RESTART_PAINT_WAIT: Duration = Duration::from_secs(3);
/// How often the install's progress is sampled.
const POLL: Duration = Duration::from_millis(25);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_deb_updates_itself_and_refuses_a_foreign_signature() -> anyhow::Result<()> {
    let privilege = Privilege::find();
    let bundles = Bundles::find();
    let package = InstalledPackage::install(privilege, &bundles.old_deb);
    assert_eq!(installed_version().as_deref(), Some(OLD_VERSION));

    let deb = std::fs::read(&bundles.new_deb)?;
    let server = UpdateServer::start(HashMap::from([
        ("/good/latest.json".to_owned(), manifest(&bundles.new_sig)),
        (
            "/foreign/latest.json".to_owned(),
            manifest(&bundles.foreign_sig),
        ),
        ("/new.deb".to_owned(), deb.clone()),
    ]))
    .await?;
    let home = tempfile::tempdir()?;

    unreachable_server_is_a_quiet_could_not_check(home.path()).await?;
    foreign_signature_is_refused(home.path(), &server).await?;
    signed_update_installs_and_restarts(home.path(), &server, deb.len()).await?;

    package.remove();
    assert_eq!(installed_version(), None, "dpkg -r removed the package");
    Ok(())
}

/// Scenario 1: nothing listens where the manifest should be.
async fn unreachable_server_is_a_quiet_could_not_check(home: &Path) -> anyhow::Result<()> {
    let closed = format!("http://127.0.0.1:{}/latest.json", free_port());
    let app = launch(home, &closed).await?;
    // The .deb smoke test: the installed app starts and paints its shell.
    app.screenshot("update-deb-installed").await?;

    let updates = open_updates(&app).await?;
    app.wait_for("#update-box[data-state='could-not-check']")
        .await?;
    assert_eq!(text(&app, "#update-current").await?, OLD_VERSION);
    assert!(
        app.client
            .find(Locator::Css("#update-error"))
            .await
            .is_err(),
        "an unreachable server is not shown as an error"
    );
    assert!(
        updates
            .text()
            .await?
            .contains("Could not check for updates"),
        "the box says it could not check"
    );
    shot(&app, "update-unreachable").await?;
    close(app, home).await;

    let log = app_log(home);
    let line = log
        .lines()
        .find(|line| line.contains("could not check for updates"))
        .unwrap_or_else(|| panic!("no 'could not check' line in the log:\n{log}"));
    assert!(
        line.contains("INFO"),
        "logged at info, not as a problem: {line}"
    );
    assert!(
        !log.lines()
            .any(|line| line.contains("ERROR") && line.contains("update")),
        "a failed check logs no error:\n{log}"
    );
    Ok(())
}

/// Scenario 2: the manifest's signature is from another key.
async fn foreign_signature_is_refused(home: &Path, server: &UpdateServer) -> anyhow::Result<()> {
    let app = launch(home, &server.url("/foreign/latest.json")).await?;
    open_updates(&app).await?;
    app.wait_for("#update-box[data-state='available']").await?;
    assert_eq!(text(&app, "#update-available-version").await?, NEW_VERSION);

    app.wait_for("#update-install").await?.click().await?;
    let error = app.wait_for("#update-error").await?.text().await?;
    assert!(
        error.contains("not signed") && error.contains("not installed"),
        "the refusal says why: {error}"
    );
    app.wait_for("#update-box[data-state='available']").await?;
    shot(&app, "update-foreign-signature").await?;
    assert_eq!(installed_version().as_deref(), Some(OLD_VERSION));
    assert!(
        server.requested("/new.deb"),
        "the package was downloaded before it was refused"
    );

    // Still running, still answering: a new check goes through.
    app.wait_for("#update-check").await?.click().await?;
    app.wait_for("#update-box[data-state='available']").await?;
    assert_eq!(text(&app, "#update-current").await?, OLD_VERSION);
    close(app, home).await;
    Ok(())
}

/// Scenario 3: a correctly signed newer version.
async fn signed_update_installs_and_restarts(
    home: &Path,
    server: &UpdateServer,
    deb_size: usize,
) -> anyhow::Result<()> {
    let manifest_url = server.url("/good/latest.json");
    let app = launch(home, &manifest_url).await?;
    open_updates(&app).await?;
    app.wait_for("#update-box[data-state='available']").await?;
    assert_eq!(text(&app, "#update-current").await?, OLD_VERSION);
    assert_eq!(text(&app, "#update-available-version").await?, NEW_VERSION);
    assert!(text(&app, "#update-notes").await?.contains("Test release"));
    shot(&app, "update-available").await?;
    let old_pid = app_pid(home).expect("the old app runs");

    app.wait_for("#update-install").await?.click().await?;
    let seen = follow_install(&app, deb_size).await?;
    assert!(
        seen.partial_progress,
        "the progress bar showed a part of the download; states seen: {:?}",
        seen.states
    );
    assert!(
        seen.states
            .iter()
            .any(|state| state == "installing" || state == "restarting"),
        "the box said it installs; states seen: {:?}",
        seen.states
    );

    wait_until(INSTALL_TIMEOUT, "dpkg to list the new version", || {
        installed_version().as_deref() == Some(NEW_VERSION)
    })
    .await;
    wait_until(INSTALL_TIMEOUT, "the old app to exit", || {
        !Path::new(&format!("/proc/{old_pid}")).exists()
    })
    .await;
    wait_until(INSTALL_TIMEOUT, "the app to start again", || {
        app_pid(home).is_some()
    })
    .await;
    // The restarted app checks again at start: its line names the new version.
    wait_until(
        INSTALL_TIMEOUT,
        "the restarted app's start-up check",
        || {
            app_log(home)
                .lines()
                .any(|line| line.contains("no update available") && line.contains(NEW_VERSION))
        },
    )
    .await;
    // The log line comes from setup; give the new window time to paint before the shot.
    tokio::time::sleep(RESTART_PAINT_WAIT).await;
    screenshot_display("update-restarted")?;
    if let Some(pid) = app_pid(home) {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        wait_until(INSTALL_TIMEOUT, "the restarted app to exit", || {
            !Path::new(&format!("/proc/{pid}")).exists()
        })
        .await;
    }
    app.close().await;

    // The installed app, started afresh, is the new version and finds nothing newer.
    let again = launch(home, &manifest_url).await?;
    open_updates(&again).await?;
    again
        .wait_for("#update-box[data-state='up-to-date']")
        .await?;
    assert_eq!(text(&again, "#update-current").await?, NEW_VERSION);
    shot(&again, "update-after-restart").await?;
    close(again, home).await;
    Ok(())
}

/// What the Updates box showed while installing.
#[derive(Debug, Default)]
struct InstallSeen {
    states: Vec<String>,
    partial_progress: bool,
}

/// Reads the Updates box's state, error, and the bar's received and total bytes at once.
const SAMPLE_BOX: &str = "
    const box = document.getElementById('update-box');
    const bar = document.getElementById('update-progress');
    const error = document.getElementById('update-error');
    return {
        state: box ? box.getAttribute('data-state') : null,
        error: error ? error.textContent : null,
        received: bar ? bar.getAttribute('data-received') : null,
        total: bar ? bar.getAttribute('data-total') : null,
    };
";

/// Samples the box until the app closes to restart (the WebDriver session ends with it).
async fn follow_install(app: &AppSession, deb_size: usize) -> anyhow::Result<InstallSeen> {
    let mut seen = InstallSeen::default();
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let mut captured = false;
    while Instant::now() < deadline {
        // One call reads the whole box: the bar is rebuilt at every step of the download,
        // so an element found by one call can be gone by the next.
        let Ok(Ok(sample)) = tokio::time::timeout(CALL_TIMEOUT, app.script(SAMPLE_BOX)).await
        else {
            return Ok(seen);
        };
        let field = |name: &str| sample.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        if let Some(message) = field("error") {
            anyhow::bail!("the install failed: {message}");
        }
        let state = field("state").unwrap_or_default();
        if state == "downloading"
            && let (Some(received), Some(total)) = (field("received"), field("total"))
        {
            let (received, total): (usize, usize) = (received.parse()?, total.parse()?);
            assert_eq!(total, deb_size, "the bar's total is the package's size");
            if received > 0 && received < total {
                seen.partial_progress = true;
                if !captured {
                    captured = shot(app, "update-downloading").await.is_ok();
                }
            }
        }
        if seen.states.last() != Some(&state) {
            seen.states.push(state);
        }
        tokio::time::sleep(POLL).await;
    }
    anyhow::bail!(
        "the app did not close to restart; states seen: {:?}",
        seen.states
    )
}

/// Ends the session and waits until the app under `home` has exited.
async fn close(app: AppSession, home: &Path) {
    app.close().await;
    wait_until(INSTALL_TIMEOUT, "the app to exit", || {
        app_pid(home).is_none()
    })
    .await;
}

async fn launch(home: &Path, update_url: &str) -> anyhow::Result<AppSession> {
    // Nothing listens on this bridge port; the badge retries and the app goes on.
    let bridge = format!("ws://127.0.0.1:{}/bridge", free_port());
    let env = [(UPDATE_URL_ENV, std::ffi::OsStr::new(update_url))];
    AppSession::launch_binary(Path::new(INSTALLED_APP), home, &bridge, &env).await
}

/// Opens the page holding the Updates box and returns the box.
async fn open_updates(app: &AppSession) -> anyhow::Result<fantoccini::elements::Element> {
    app.wait_for("#nav-settings").await?.click().await?;
    app.wait_for("#update-box").await
}

/// Scrolls the Updates box (at the foot of Settings) into view and saves a screenshot.
async fn shot(app: &AppSession, name: &str) -> anyhow::Result<()> {
    app.client
        .execute(
            "document.getElementById('update-box').scrollIntoView({ block: 'end' });",
            Vec::new(),
        )
        .await?;
    let path = app.screenshot(name).await?;
    println!("screenshot: {}", path.display());
    Ok(())
}

async fn text(app: &AppSession, css: &str) -> anyhow::Result<String> {
    Ok(app.wait_for(css).await?.text().await?.trim().to_owned())
}

/// Saves the whole X display (the restarted app is not under WebDriver) with ImageMagick.
fn screenshot_display(name: &str) -> anyhow::Result<PathBuf> {
    let dir = workspace_root().join("target/e2e");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(&path)
        .status()?;
    anyhow::ensure!(status.success(), "import could not capture the display");
    Ok(path)
}

async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The pid of the installed app running with `home` as its `MOSSY_LIVE_HOME`.
fn app_pid(home: &Path) -> Option<u32> {
    let wanted = format!("MOSSY_LIVE_HOME={}", home.display());
    mossy_tests::procfs::all_pids().find(|pid| {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        exe.as_deref() == Some(Path::new(INSTALLED_APP))
            && environ
                .split(|byte| *byte == 0)
                .any(|entry| entry == wanted.as_bytes())
    })
}

/// Every log file of the app under `home`, joined.
fn app_log(home: &Path) -> String {
    let mut text = String::new();
    let files = std::fs::read_dir(home.join("logs"))
        .into_iter()
        .flatten()
        .flatten();
    for file in files {
        text.push_str(&std::fs::read_to_string(file.path()).unwrap_or_default());
    }
    text
}

/// The installed version of the package, or `None` when it is not installed.
fn installed_version() -> Option<String> {
    let output = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}\t${Version}", PACKAGE])
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let (status, version) = text.split_once('\t')?;
    (status == "install ok installed").then(|| version.to_owned())
}

/// An update manifest offering [`NEW_VERSION`] at `/new.deb` with `signature`.
fn manifest(signature: &str) -> Vec<u8> {
    let mut platforms = serde_json::Map::new();
    platforms.insert(
        format!("linux-{}-deb", std::env::consts::ARCH),
        json!({ "url": "http://127.0.0.1:{port}/new.deb", "signature": signature }),
    );
    let manifest = json!({
        "version": NEW_VERSION,
        "notes": "Test release: the updater end-to-end test serves it.",
        "pub_date": "2026-12-04T10:00:00Z",
        "platforms": platforms,
    });
    manifest.to_string().into_bytes()
}

/// How this test may install packages.
#[derive(Debug, Clone, Copy)]
enum Privilege {
    Root,
    Sudo,
}

impl Privilege {
    /// Root, or passwordless sudo; panics with what is needed otherwise.
    fn find() -> Self {
        let uid = Command::new("id").arg("-u").output().map(|out| out.stdout);
        if uid.is_ok_and(|uid| uid.trim_ascii() == b"0") {
            return Self::Root;
        }
        let sudo = Command::new("sudo").args(["-n", "true"]).output();
        if sudo.is_ok_and(|out| out.status.success()) {
            return Self::Sudo;
        }
        panic!(
            "the updater test installs a .deb with dpkg and needs root or passwordless sudo; \
             run it as root (CI does) or allow `sudo -n dpkg`"
        );
    }

    fn dpkg(self, args: &[&std::ffi::OsStr]) -> Output {
        let mut command = match self {
            Self::Root => Command::new("dpkg"),
            Self::Sudo => {
                let mut sudo = Command::new("sudo");
                sudo.args(["-n", "dpkg"]);
                sudo
            }
        };
        command.args(args).output().expect("dpkg runs")
    }
}

/// The package installed by this test; removed on drop if the test did not remove it.
struct InstalledPackage {
    privilege: Privilege,
    removed: bool,
}

impl InstalledPackage {
    fn install(privilege: Privilege, deb: &Path) -> Self {
        let output = privilege.dpkg(&["-i".as_ref(), deb.as_os_str()]);
        assert!(
            output.status.success(),
            "dpkg -i {} failed: {}",
            deb.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        Self {
            privilege,
            removed: false,
        }
    }

    fn remove(mut self) {
        let output = self.privilege.dpkg(&["-r".as_ref(), PACKAGE.as_ref()]);
        assert!(
            output.status.success(),
            "dpkg -r {PACKAGE} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.removed = true;
    }
}

impl Drop for InstalledPackage {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.privilege.dpkg(&["-r".as_ref(), PACKAGE.as_ref()]);
        }
    }
}

/// The packages and signatures `scripts/build.sh --update-test-bundles` made.
struct Bundles {
    old_deb: PathBuf,
    new_deb: PathBuf,
    new_sig: String,
    foreign_sig: String,
}

impl Bundles {
    fn find() -> Self {
        // The script writes under CARGO_TARGET_DIR when the build used one.
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"));
        let root = target.join("update-test");
        let new_deb = only_deb(&root.join("new"));
        let signature = |path: PathBuf| {
            std::fs::read_to_string(&path)
                .unwrap_or_else(|err| panic!("{} is missing ({err}): {REBUILD}", path.display()))
                .trim()
                .to_owned()
        };
        Self {
            old_deb: only_deb(&root.join("old")),
            new_sig: signature(sig_path(&new_deb)),
            foreign_sig: signature(root.join("foreign").join(sig_name(&new_deb))),
            new_deb,
        }
    }
}

/// What to run when the test packages are missing.
const REBUILD: &str = "build the test packages with `bash scripts/build.sh --update-test-bundles` \
                       (scripts/test.sh does)";

fn only_deb(dir: &Path) -> PathBuf {
    let debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "deb"))
        .collect();
    match debs.as_slice() {
        [deb] => deb.clone(),
        _ => panic!(
            "expected one .deb in {}, found {debs:?}: {REBUILD}",
            dir.display()
        ),
    }
}

fn sig_name(deb: &Path) -> String {
    format!(
        "{}.sig",
        deb.file_name().unwrap_or_default().to_string_lossy()
    )
}

fn sig_path(deb: &Path) -> PathBuf {
    deb.with_file_name(sig_name(deb))
}

/// A static HTTP/1.1 server on loopback: `GET` of a known path answers its bytes, the rest
/// 404. `{port}` in a body is replaced by the server's port. Bodies larger than [`CHUNK`]
/// are sent slowly (see [`CHUNK_PAUSE`]).
struct UpdateServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl UpdateServer {
    async fn start(files: HashMap<String, Vec<u8>>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let files: HashMap<String, Arc<Vec<u8>>> = files
            .into_iter()
            .map(|(path, body)| (path, Arc::new(with_port(body, port))))
            .collect();
        let files = Arc::new(files);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let files = files.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, &files, &log).await;
                });
            }
        });
        Ok(Self {
            port,
            requests,
            task,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requested(&self, path: &str) -> bool {
        let requests = self.requests.lock().unwrap_or_else(|err| err.into_inner());
        requests.iter().any(|seen| seen == path)
    }
}

impl Drop for UpdateServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn with_port(body: Vec<u8>, port: u16) -> Vec<u8> {
    match String::from_utf8(body) {
        Ok(text) => text.replace("{port}", &port.to_string()).into_bytes(),
        Err(err) => err.into_bytes(),
    }
}

async fn serve(
    mut stream: TcpStream,
    files: &HashMap<String, Arc<Vec<u8>>>,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("GET "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_default()
        .to_owned();
    log.lock()
        .unwrap_or_else(|err| err.into_inner())
        .push(path.clone());

    let Some(body) = files.get(&path) else {
        let answer = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return stream.write_all(answer.as_bytes()).await;
    };
    let kind = if path.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    for chunk in body.chunks(CHUNK) {
        stream.write_all(chunk).await?;
        if body.len() > CHUNK {
            tokio::time::sleep(CHUNK_PAUSE).await;
        }
    }
    stream.flush().await
}
