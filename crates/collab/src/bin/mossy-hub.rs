//! `mossy-hub`: the collaboration hub as a stand-alone process, for modders who want to share
//! documents without keeping the desktop app open.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use mossy_collab::{DEFAULT_PORT, Hub, HubConfig, HubLimits};

/// Serve Mossy Live collaboration rooms over the Yjs WebSocket protocol.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address and port to listen on. Anything but loopback requires --token.
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))]
    bind: SocketAddr,
    /// Folder for the SQLite database.
    #[arg(long, default_value = "mossy-hub-data")]
    data_dir: PathBuf,
    /// Shared secret clients must pass as `?token=...`.
    #[arg(long, env = "MOSSY_HUB_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();

    let config = HubConfig {
        bind: args.bind,
        data_dir: args.data_dir,
        token: args.token.filter(|token| !token.is_empty()),
        limits: HubLimits::default(),
    };
    let hub = Hub::start(config).await.context("starting the hub")?;
    println!("listening on ws://{}", hub.local_addr());

    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    hub.shutdown().await;
    Ok(())
}
