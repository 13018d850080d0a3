//! The "Copy diagnostics" text a user pastes into a bug report.
//!
//! It says what a helper asks first: which version, which system, which settings (with the
//! hub token masked, since reports are pasted in public), how the bridge is doing, which
//! windows are open, and the latest warnings and errors from the log. Plain text, so it
//! reads the same in a chat, an issue or an e-mail.

use std::fmt::Write as _;

use mossy_protocol::ipc::{BridgeStatus, BridgeUpdate};

use crate::settings::Settings;

/// What replaces a set hub token in the diagnostics.
pub const MASKED_TOKEN: &str = "(set, hidden)";

/// Everything the diagnostics text is made of.
#[derive(Debug, Clone)]
pub struct DiagnosticsReport<'a> {
    /// The app's version.
    pub version: &'a str,
    /// The operating system, from [`os_description`].
    pub os: String,
    /// The settings in use (the token is masked when rendering).
    pub settings: &'a Settings,
    /// Where a broken settings file was kept at start, if it was.
    pub broken_settings_kept_as: Option<&'a str>,
    /// The bridge client's state and counters.
    pub bridge: &'a BridgeUpdate,
    /// Labels of the open windows.
    pub windows: &'a [String],
    /// The latest warning and error lines from the log, oldest first.
    pub recent_problems: &'a [String],
}

impl DiagnosticsReport<'_> {
    /// The report as text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(text, "Mossy Live {}", self.version);
        let _ = writeln!(text, "System: {}", self.os);
        let _ = writeln!(text, "Bridge: {}", bridge_line(self.bridge));
        let _ = writeln!(text, "Windows: {}", self.windows.join(", "));
        if let Some(kept) = self.broken_settings_kept_as {
            let _ = writeln!(text, "Settings file was broken at start; kept as {kept}");
        }

        text.push_str("\n[settings]\n");
        match toml::to_string_pretty(&masked(self.settings)) {
            Ok(settings) => text.push_str(&settings),
            Err(err) => {
                let _ = writeln!(text, "(could not be written out: {err})");
            }
        }

        let _ = writeln!(
            text,
            "\n[last {} warnings and errors]",
            self.recent_problems.len()
        );
        for line in self.recent_problems {
            let _ = writeln!(text, "{line}");
        }
        text
    }
}

/// `settings` with the hub token replaced by [`MASKED_TOKEN`] when one is set.
pub fn masked(settings: &Settings) -> Settings {
    let mut masked = settings.clone();
    if !masked.editor.token.is_empty() {
        masked.editor.token = MASKED_TOKEN.to_owned();
    }
    masked
}

/// The system's name and version as the OS reports it, with the CPU architecture, such as
/// `Windows 11 Pro (26100) x86_64` or `Linux (Debian GNU/Linux 12) x86_64`.
pub fn os_description() -> String {
    let name = sysinfo::System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into());
    format!("{name} {}", std::env::consts::ARCH)
}

fn bridge_line(update: &BridgeUpdate) -> String {
    let counters = format!(
        "{} accepted, {} unknown, {} dropped",
        update.counters.accepted, update.counters.unknown, update.counters.dropped
    );
    match &update.status {
        BridgeStatus::Connecting { url } => format!("connecting to {url} ({counters})"),
        BridgeStatus::Connected { url } => format!("connected to {url} ({counters})"),
        BridgeStatus::Retrying {
            url,
            attempt,
            reason,
            ..
        } => format!("retrying {url}, attempt {attempt}: {reason} ({counters})"),
        BridgeStatus::Disabled => "off in settings".into(),
    }
}

#[cfg(test)]
mod tests {
    use mossy_protocol::ipc::BridgeCounters;

    use super::*;

    #[test]
    fn report_masks_the_token_and_lists_everything() {
        let mut settings = Settings::default();
        settings.editor.token = "hunter2-secret".into();
        settings.editor.display_name = "Ada".into();
        let bridge = BridgeUpdate {
            status: BridgeStatus::Retrying {
                url: "ws://127.0.0.1:9/bridge".into(),
                retry_at_ms: 0,
                attempt: 3,
                reason: "connection refused".into(),
            },
            counters: BridgeCounters {
                accepted: 5,
                unknown: 1,
                dropped: 0,
            },
        };
        let windows = ["main".to_owned(), "panel-build".to_owned()];
        let problems = ["2026-12-04T10:00:00Z WARN mossy_core::bridge: refused".to_owned()];
        let text = DiagnosticsReport {
            version: "0.1.0",
            os: "Linux x86_64".into(),
            settings: &settings,
            broken_settings_kept_as: Some("/cfg/settings.broken-20261204-100000.toml"),
            bridge: &bridge,
            windows: &windows,
            recent_problems: &problems,
        }
        .render();

        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("token = \"(set, hidden)\""), "{text}");
        assert!(text.contains("display_name = \"Ada\""), "{text}");
        assert!(text.starts_with(
            "Mossy Live 0.1.0\nSystem: Linux x86_64\nBridge: retrying ws://127.0.0.1:9/bridge, \
             attempt 3: connection refused (5 accepted, 1 unknown, 0 dropped)\n\
             Windows: main, panel-build\n\
             Settings file was broken at start; kept as /cfg/settings.broken-20261204-100000.toml\n"
        ));
        assert!(text.ends_with(
            "\n[last 1 warnings and errors]\n\
             2026-12-04T10:00:00Z WARN mossy_core::bridge: refused\n"
        ));
    }

    #[test]
    fn an_empty_token_stays_empty() {
        assert_eq!(masked(&Settings::default()), Settings::default());
    }
}
