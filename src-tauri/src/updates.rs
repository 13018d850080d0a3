//! Self-update through the Tauri updater plugin: check, download, verify, install, restart.
//!
//! The update server and the public key come from `plugins.updater` in `tauri.conf.json`.
//! Every package is signed with minisign at release time and the plugin refuses one whose
//! signature does not match the built-in key, or whose signed version differs from the one
//! the server announces (`requireSignedVersion`). The key cannot be changed at run time; test
//! builds carry a test key through `cargo tauri build --config` instead (scripts/build.sh).
//!
//! The app checks once at start, in the background, and whenever the user asks. Only a copy
//! installed from a package (.deb, NSIS) checks at start: a binary run from the build folder
//! could not replace itself anyway, and must not reach out to the update server in tests.
//! A check that fails is logged once at info and shown as a quiet "could not check".
//!
//! [`UPDATE_URL_ENV`] points the app at another update manifest; tests use it for a server on
//! loopback. A real user never sets it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use mossy_protocol::ipc::{ErrorCode, IpcError};
use mossy_protocol::updates::{AvailableUpdate, UpdateCheck, UpdateOutcome, UpdateProgress};
use tauri::ipc::Channel;
use tauri::utils::platform::bundle_type;
use tauri::{AppHandle, Manager, State, Url};
use tauri_plugin_updater::{Update, UpdaterExt};
use tokio::sync::Mutex;
use tracing::{info, instrument, warn};

/// Environment variable holding the address of an update manifest (`latest.json`) to use
/// instead of the configured one. Meant for tests with a server on loopback; release builds
/// accept only `https` addresses here, as for the configured endpoint.
pub const UPDATE_URL_ENV: &str = "MOSSY_UPDATE_URL";

/// Longest wait for the update server's answer to a check. The manifest is a few hundred
/// bytes; a server that has not answered in 20 s is down for our purposes, and the user
/// should see "could not check" rather than a spinner.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// Least time between two download progress messages: smooth enough for a progress bar,
/// few enough that a fast loopback download does not flood the channel.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Pause between "installed" and the restart, so the Updates box can say it restarts
/// before the window closes.
const RESTART_PAUSE: Duration = Duration::from_millis(500);

/// What the last check found, and the plugin's handle on the update it found.
struct Checked {
    answer: UpdateCheck,
    update: Option<Update>,
}

/// The update state behind the commands. Holding its lock means "a check is running":
/// a request for the last answer waits for it instead of starting a second one.
#[derive(Default)]
pub struct Updates {
    last: Arc<Mutex<Option<Checked>>>,
}

/// The updater plugin, configured from `plugins.updater` in `tauri.conf.json`.
pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry, tauri_plugin_updater::Config> {
    tauri_plugin_updater::Builder::new().build()
}

/// Manages the update state and, for a packaged install, starts the start-up check.
pub fn setup(app: &tauri::App) {
    let updates = Updates::default();
    if bundle_type().is_some() {
        // Taken here, before any command can run, so the page's first request waits for
        // this check's answer.
        if let Ok(mut guard) = updates.last.clone().try_lock_owned() {
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                *guard = Some(check(&handle).await);
            });
        }
    } else {
        info!("not installed from a package; no update check at start");
    }
    app.manage(updates);
}

/// The last check's answer (`fresh` false; waits for the start-up check, never asks the
/// server) or a new check's (`fresh` true).
#[tauri::command]
#[instrument(skip(app, updates))]
pub async fn update_check(
    app: AppHandle,
    updates: State<'_, Updates>,
    fresh: bool,
) -> Result<UpdateCheck, IpcError> {
    let mut last = updates.last.lock().await;
    if !fresh {
        return Ok(match last.as_ref() {
            Some(checked) => checked.answer.clone(),
            None => UpdateCheck {
                current: app.package_info().version.to_string(),
                outcome: UpdateOutcome::NotChecked,
            },
        });
    }
    let checked = check(&app).await;
    let answer = checked.answer.clone();
    *last = Some(checked);
    Ok(answer)
}

/// Downloads, verifies and installs the update the last check found, streaming progress to
/// `channel`, then restarts into it.
#[tauri::command]
#[instrument(skip_all)]
pub async fn update_install(
    app: AppHandle,
    updates: State<'_, Updates>,
    channel: Channel<UpdateProgress>,
) -> Result<(), IpcError> {
    if bundle_type().is_none() {
        return Err(invalid(
            "This copy of Mossy Live was not installed from a package, so it cannot update \
             itself; install the new version from its package instead.",
        ));
    }
    let update = {
        let last = updates.last.lock().await;
        last.as_ref().and_then(|checked| checked.update.clone())
    };
    let Some(update) = update else {
        return Err(invalid(
            "There is no update to install; check for updates first.",
        ));
    };

    info!(version = %update.version, "downloading the update");
    let bytes = download(&update, &channel).await.map_err(|err| {
        warn!(version = %update.version, error = %err, "update download failed");
        download_error(&err)
    })?;

    let _ = channel.send(UpdateProgress::Installing);
    info!(version = %update.version, "installing the update");
    let installing = update.clone();
    let installed = tauri::async_runtime::spawn_blocking(move || installing.install(bytes)).await;
    match installed {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            warn!(version = %update.version, error = %err, "installing the update failed");
            return Err(install_error(&err));
        }
        Err(err) => {
            warn!(error = %err, "the install task stopped");
            return Err(IpcError {
                code: ErrorCode::Internal,
                message: "Installing the update stopped unexpectedly; see the log for why.".into(),
            });
        }
    }

    info!(version = %update.version, "update installed; restarting");
    let _ = channel.send(UpdateProgress::Restarting);
    tokio::time::sleep(RESTART_PAUSE).await;
    app.request_restart();
    Ok(())
}

/// Downloads the package and checks its signature, sending progress on the way.
async fn download(
    update: &Update,
    channel: &Channel<UpdateProgress>,
) -> Result<Vec<u8>, tauri_plugin_updater::Error> {
    let mut received = 0_u64;
    let mut size = None;
    let mut last_sent: Option<Instant> = None;
    let bytes = update
        .download(
            |chunk, total| {
                received += chunk as u64;
                size = total;
                if last_sent.is_none_or(|at| at.elapsed() >= PROGRESS_INTERVAL) {
                    last_sent = Some(Instant::now());
                    let _ = channel.send(UpdateProgress::Downloading { received, total });
                }
            },
            || {},
        )
        .await?;
    // The last chunk may have fallen between two messages; the bar ends full.
    let _ = channel.send(UpdateProgress::Downloading {
        received: bytes.len() as u64,
        total: size.or(Some(bytes.len() as u64)),
    });
    Ok(bytes)
}

/// Asks the update server; never fails, a failure is [`UpdateOutcome::CouldNotCheck`].
async fn check(app: &AppHandle) -> Checked {
    let current = app.package_info().version.to_string();
    let (outcome, update) = match find_update(app).await {
        Ok(Some(update)) => {
            info!(current = %current, available = %update.version, "an update is available");
            let available = AvailableUpdate {
                version: update.version.clone(),
                notes: update.body.clone().unwrap_or_default(),
                date: update
                    .raw_json
                    .get("pub_date")
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned),
            };
            (UpdateOutcome::Available(available), Some(update))
        }
        Ok(None) => {
            info!(current = %current, "no update available");
            (UpdateOutcome::UpToDate, None)
        }
        Err(err) => {
            info!(error = %format!("{err:#}"), "could not check for updates");
            (UpdateOutcome::CouldNotCheck, None)
        }
    };
    Checked {
        answer: UpdateCheck { current, outcome },
        update,
    }
}

async fn find_update(app: &AppHandle) -> anyhow::Result<Option<Update>> {
    let mut builder = app.updater_builder().timeout(CHECK_TIMEOUT);
    if let Some(url) = std::env::var_os(UPDATE_URL_ENV) {
        let text = url.to_string_lossy();
        let url = Url::parse(&text)
            .with_context(|| format!("{UPDATE_URL_ENV} is not an address: {text}"))?;
        // A proxy from the environment must not see requests meant for this machine.
        if is_loopback(&url) {
            builder = builder.no_proxy();
        }
        builder = builder.endpoints(vec![url])?;
    }
    Ok(builder.build()?.check().await?)
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed, as in `http://[::1]:8080/`.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// The sentence for a failed download; a bad signature is told apart from a bad network.
fn download_error(err: &tauri_plugin_updater::Error) -> IpcError {
    use tauri_plugin_updater::Error as E;
    match err {
        E::Minisign(_)
        | E::Base64(_)
        | E::SignatureUtf8(_)
        | E::SignedVersionMismatch { .. }
        | E::MissingSignedVersion => invalid(
            "The downloaded update is not signed with Mossy Live's release key, so it was not \
             installed.",
        ),
        _ => IpcError {
            code: ErrorCode::Internal,
            message: "The update could not be downloaded; check the connection and try again."
                .into(),
        },
    }
}

/// The sentence for a failed install.
fn install_error(err: &tauri_plugin_updater::Error) -> IpcError {
    use tauri_plugin_updater::Error as E;
    let message = match err {
        E::InvalidUpdaterFormat => {
            "The downloaded update is not a package this installation can use, so it was not \
             installed."
        }
        E::AuthenticationFailed | E::PackageInstallFailed | E::DebInstallFailed => {
            "The update could not be installed: the system refused it or the password prompt \
             was closed. Try again, or install the package by hand."
        }
        _ => "The update could not be installed; see the log for why.",
    };
    IpcError {
        code: ErrorCode::Internal,
        message: message.into(),
    }
}

fn invalid(message: &str) -> IpcError {
    IpcError {
        code: ErrorCode::Invalid,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_told_apart() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080/latest.json", true),
            ("http://[::1]:8080/latest.json", true),
            ("http://LOCALHOST/latest.json", true),
            ("https://updates.mossy.live/latest.json", false),
            ("http://10.0.0.1/latest.json", false),
        ] {
            let parsed = Url::parse(url).expect("test urls parse");
            assert_eq!(is_loopback(&parsed), loopback, "{url}");
        }
    }

    // Guards against a bad signature being reported as a network problem: the user must
    // learn that the package was refused, not that they should retry.
    #[test]
    fn signature_failures_say_the_update_was_refused() {
        let mismatch = tauri_plugin_updater::Error::SignedVersionMismatch {
            signed: "0.1.0".into(),
            announced: "0.2.0".into(),
        };
        let refused = download_error(&mismatch);
        assert_eq!(refused.code, ErrorCode::Invalid);
        assert!(
            refused.message.contains("not signed"),
            "{}",
            refused.message
        );

        let network = download_error(&tauri_plugin_updater::Error::Network("reset".into()));
        assert_eq!(network.code, ErrorCode::Internal);
        assert!(
            network.message.contains("connection"),
            "{}",
            network.message
        );
    }
}
