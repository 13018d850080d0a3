//! The Settings page's payloads: the form it edits, the answer to a save, and the support
//! actions (logs folder, diagnostics).
//!
//! The page edits a [`SettingsForm`], not the settings file itself: build profiles are the
//! Build panel's and watched folders the Assets panel's, so a save from this page can never
//! drop them. The backend checks every field and answers with one [`FieldError`] per bad
//! field, named by the constants in [`fields`], so the page shows each message under its
//! own input.

use serde::{Deserialize, Serialize};

/// Names of the backend commands of the Settings page.
pub mod commands {
    /// The settings as the page edits them; takes nothing, returns a
    /// [`super::SettingsPage`].
    pub const SETTINGS_GET: &str = "settings_get";
    /// Checks and saves the form; takes `{ form }`, returns a [`super::SaveOutcome`].
    pub const SETTINGS_SAVE: &str = "settings_save";
    /// Opens the folder of the log files in the system's file manager; takes nothing.
    pub const OPEN_LOGS_FOLDER: &str = "open_logs_folder";
    /// Puts the diagnostics text on the clipboard; takes nothing, returns a
    /// [`super::Diagnostics`] (the text is returned even when the clipboard failed).
    pub const COPY_DIAGNOSTICS: &str = "copy_diagnostics";
}

/// Field names in [`FieldError::field`]. An extra tool's fields are
/// `extra_tools.<index>.<field>`, built by [`fields::extra_tool`].
pub mod fields {
    /// [`super::SettingsForm::bridge_url`].
    pub const BRIDGE_URL: &str = "bridge_url";
    /// [`super::SettingsForm::hub_url`].
    pub const HUB_URL: &str = "hub_url";
    /// [`super::SettingsForm::hub_token`].
    pub const HUB_TOKEN: &str = "hub_token";
    /// [`super::SettingsForm::display_name`].
    pub const DISPLAY_NAME: &str = "display_name";
    /// [`super::SettingsForm::embed_address`].
    pub const EMBED_ADDRESS: &str = "embed_address";
    /// An extra tool's id.
    pub const TOOL_ID: &str = "id";
    /// An extra tool's display name.
    pub const TOOL_NAME: &str = "name";
    /// An extra tool's executable names.
    pub const TOOL_EXECUTABLES: &str = "executables";

    /// The field name of extra tool number `index` (from 0), such as
    /// `extra_tools.2.executables`.
    pub fn extra_tool(index: usize, field: &str) -> String {
        format!("extra_tools.{index}.{field}")
    }
}

/// Everything the Settings page edits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsForm {
    /// WebSocket address of Mossy's bridge.
    pub bridge_url: String,
    /// When false the app does not connect to Mossy.
    pub bridge_enabled: bool,
    /// Tools added to the built-in table.
    pub extra_tools: Vec<ExtraToolForm>,
    /// WebSocket address of a team hub for the editor; empty for the app's own hub.
    pub hub_url: String,
    /// Token the hub asks for; empty when it asks for none.
    pub hub_token: String,
    /// Name shown to other editors; empty for the system's user name.
    pub display_name: String,
    /// Notify when a build finishes or fails.
    pub notify_builds: bool,
    /// Notify when a monitored tool exits unexpectedly.
    pub notify_tool_exits: bool,
    /// Loopback address of the panels Mossy embeds in its own window, or `off`.
    pub embed_address: String,
}

/// One extra tool as the page edits it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraToolForm {
    /// Stable id; a built-in id (such as `xedit`) adds names to that tool.
    pub id: String,
    /// Display name; empty for none.
    pub name: String,
    /// Executable file names, such as `SSEEdit.exe`.
    pub executables: Vec<String>,
}

/// What the Settings page shows when it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsPage {
    /// The settings as saved (not as overridden by the command line or environment).
    pub form: SettingsForm,
    /// When the settings file was broken at start: where it was kept aside. The app runs on
    /// defaults until the user saves.
    pub broken_file_kept_as: Option<String>,
    /// The settings file.
    pub settings_file: String,
    /// The folder of the log files.
    pub logs_folder: String,
    /// Folders the Assets panel watches (managed there, shown here read-only).
    pub watched_folders: Vec<String>,
    /// Where the panels for Mossy's own window are served since this start.
    pub embedded_panels: EmbeddedPanels,
}

/// The embedded-panel server as it runs now (its setting applies after a restart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedPanels {
    /// A panel's address without its token, such as
    /// `http://127.0.0.1:47821/panel/<name>`; `None` when no server runs.
    pub url: Option<String>,
    /// Why no server runs (turned off, port taken); `None` when it runs.
    pub problem: Option<String>,
    /// The file holding the token Mossy adds to the address.
    pub token_file: String,
}

/// One field the backend refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Which field, one of [`fields`].
    pub field: String,
    /// One sentence for the user, shown under the field.
    pub message: String,
}

/// The answer to a save.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SaveOutcome {
    /// Written to the settings file.
    Saved {
        /// A changed setting is read only at start (the bridge, the tool table): it applies
        /// after the app restarts.
        restart_needed: bool,
    },
    /// Nothing was written; each error belongs under its field.
    Invalid {
        /// One entry per refused field.
        errors: Vec<FieldError>,
    },
}

/// The diagnostics text and whether it reached the clipboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Versions, system, settings (token masked), bridge state, open windows and the
    /// latest warnings and errors from the log.
    pub text: String,
    /// Why the clipboard could not take it; `None` when it did.
    pub clipboard_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn settings_payloads_round_trip() {
        let form = SettingsForm {
            bridge_url: "ws://127.0.0.1:54321/bridge".into(),
            bridge_enabled: true,
            extra_tools: vec![ExtraToolForm {
                id: "xedit".into(),
                name: String::new(),
                executables: vec!["SSEEdit.exe".into()],
            }],
            hub_url: String::new(),
            hub_token: "secret".into(),
            display_name: "Éléonore".into(),
            notify_builds: true,
            notify_tool_exits: false,
            embed_address: "127.0.0.1:47821".into(),
        };
        round_trip(&SettingsPage {
            form,
            broken_file_kept_as: Some("/home/u/settings.broken-20261204-101500.toml".into()),
            settings_file: "/home/u/settings.toml".into(),
            logs_folder: "/home/u/logs".into(),
            watched_folders: vec!["D:/Mods".into()],
            embedded_panels: EmbeddedPanels {
                url: Some("http://127.0.0.1:47821/panel/<name>".into()),
                problem: None,
                token_file: "/home/u/.config/mossy-live/embed-token".into(),
            },
        });
        round_trip(&SaveOutcome::Saved {
            restart_needed: true,
        });
        round_trip(&SaveOutcome::Invalid {
            errors: vec![FieldError {
                field: fields::extra_tool(1, fields::TOOL_EXECUTABLES),
                message: "x".into(),
            }],
        });
        round_trip(&Diagnostics {
            text: "Mossy Live 0.1.0".into(),
            clipboard_error: None,
        });
    }
}
