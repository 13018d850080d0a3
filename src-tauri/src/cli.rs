//! The command line. Flags override the environment, which overrides the settings file.

use clap::Parser;
use mossy_core::settings::BRIDGE_URL_ENV;

/// Mossy Live: the live companion to Mossy for Fallout 4 modders.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Args {
    /// WebSocket address of Mossy's bridge, such as ws://127.0.0.1:54321/bridge.
    #[arg(long, env = BRIDGE_URL_ENV)]
    pub bridge_url: Option<String>,

    /// Do not connect to Mossy at all.
    #[arg(long)]
    pub no_bridge: bool,

    /// Open one panel in its own window: tool-monitor, build, editor or assets. When the
    /// app already runs, that instance opens it (or brings it to the front).
    #[arg(long, value_name = "NAME")]
    pub panel: Option<String>,

    /// A `mossy-live://panel/<name>` link, as the system passes it when Mossy opens one.
    #[arg(value_name = "LINK")]
    pub link: Option<String>,
}
