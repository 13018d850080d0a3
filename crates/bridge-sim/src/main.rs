//! `mossy-bridge-sim`: serves WebSocket `/bridge` on loopback and plays scripted Mossy
//! sessions, for demos, tests and benchmarks.
//!
//! ```text
//! mossy-bridge-sim --scenario tests/fixtures/bridge/demo.jsonl --loop
//! mossy-bridge-sim --listen 127.0.0.1:0 --scenario tests/fixtures/bridge/bare.jsonl
//! mossy-bridge-sim --flood 1000 --seconds 10
//! mossy-bridge-sim --scenario tests/fixtures/bridge/bare.jsonl --previews-dir /tmp/previews
//! ```
//!
//! Whatever it plays, it answers `generate_preview` as Mossy would: progress, then real PNG
//! variations of the asset written under `--previews-dir` (a folder in the OS temp folder
//! by default), then `generation_complete` with their paths.
//!
//! Once listening it prints exactly one line to stdout, `listening on ws://ADDR/bridge`, so
//! a test or script can read the port it got; everything else is tracing on stderr
//! (`RUST_LOG` filters it). It runs until Ctrl-C.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{ArgGroup, Parser};
use mossy_core::sim::previews::{PREVIEW_SIDE, RgbaImage};
use mossy_core::sim::{self, Playback, PreviewConfig, Scenario, SimConfig};
use tracing_subscriber::EnvFilter;

/// Command-line options.
#[derive(Debug, Parser)]
#[command(version, about = "Plays scripted Mossy bridge sessions on loopback")]
#[command(group(ArgGroup::new("playback").required(true).args(["scenario", "flood"])))]
struct Options {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value_t = sim::DEFAULT_LISTEN)]
    listen: SocketAddr,

    /// Allow a --listen address that is not loopback.
    #[arg(long)]
    allow_remote: bool,

    /// Scenario file (JSON lines) to play to each client.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,

    /// Replay the scenario forever.
    #[arg(long = "loop", requires = "scenario")]
    looping: bool,

    /// Send RATE `tool_detected` messages per second, each with `at` set to its send time.
    #[arg(long, value_name = "RATE", requires = "seconds")]
    flood: Option<u32>,

    /// How long a flood lasts, in seconds.
    #[arg(long, value_name = "N", requires = "flood")]
    seconds: Option<u64>,

    /// Folder the answers to `generate_preview` are written in, one subfolder per request;
    /// a folder under the OS temp folder when absent.
    #[arg(long, value_name = "DIR")]
    previews_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let playback = playback(&options)?;
    let mut previews = PreviewConfig {
        decode: decode_asset,
        ..PreviewConfig::default()
    };
    if let Some(dir) = &options.previews_dir {
        previews.dir.clone_from(dir);
    }
    tracing::info!(dir = %previews.dir.display(), "previews are written here");
    let config = SimConfig {
        listen: options.listen,
        allow_remote: options.allow_remote,
        playback,
        previews,
    };
    let server = sim::serve(config)
        .await
        .context("starting the bridge simulator")?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url()).context("writing to stdout")?;
    stdout.flush().context("writing to stdout")?;
    drop(stdout);

    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("stopping");
    server.stop().await;
    Ok(())
}

/// The playback the options ask for.
fn playback(options: &Options) -> anyhow::Result<Playback> {
    if let (Some(per_second), Some(seconds)) = (options.flood, options.seconds) {
        return Ok(Playback::Flood {
            per_second,
            duration: Duration::from_secs(seconds),
        });
    }
    let path = options
        .scenario
        .as_ref()
        .context("give --scenario FILE or --flood RATE")?;
    let scenario =
        Scenario::load(path).with_context(|| format!("reading scenario {}", path.display()))?;
    Ok(Playback::Scenario {
        scenario: Arc::new(scenario),
        looping: options.looping,
    })
}

/// Decodes a texture (DDS) or picture (PNG, JPEG, TGA) to vary for previews.
fn decode_asset(path: &Path) -> Option<RgbaImage> {
    match mossy_assets::thumbnail::thumbnail(path, PREVIEW_SIDE) {
        Ok(thumbnail) => Some(thumbnail.image),
        Err(err) => {
            tracing::info!(path = %path.display(), error = %err, "asset not decoded; drawing a pattern");
            None
        }
    }
}
