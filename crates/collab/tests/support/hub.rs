//! Helpers shared by the integration tests: a hub on a free loopback port and clients for it.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of these helpers"
)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use mossy_collab::{Hub, HubClient, HubClientConfig, HubConfig, HubHandle};

/// Generous bound for anything that should take milliseconds on loopback; only reached when
/// the feature under test is broken.
pub const SETTLE: Duration = Duration::from_secs(15);

/// Starts a hub on 127.0.0.1 with a free port.
pub async fn start_hub(data_dir: &Path, token: Option<&str>) -> HubHandle {
    let mut config = HubConfig::new(data_dir);
    config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    config.token = token.map(str::to_owned);
    Hub::start(config).await.expect("hub starts")
}

/// A client of `room` on the hub at `addr`, already connected.
pub async fn client(addr: SocketAddr, room: &str, token: Option<&str>) -> HubClient {
    let mut config = HubClientConfig::new(format!("ws://{addr}"), room);
    config.token = token.map(str::to_owned);
    let client = HubClient::connect(config).expect("valid client config");
    assert!(
        client.wait_until(SETTLE, HubClient::is_connected).await,
        "client connects"
    );
    client
}
