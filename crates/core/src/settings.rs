//! The user's settings file, `settings.toml` in the app's config folder.
//!
//! Every field has a default, so a missing file or a missing key means "as shipped". The
//! bridge address can also come from the environment ([`BRIDGE_URL_ENV`]) or the command
//! line; the app shell applies those over the file, in that order.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod form;
mod recovery;
pub use form::*;

/// Where Mossy's bridge listens unless told otherwise.
pub const DEFAULT_BRIDGE_URL: &str = "ws://127.0.0.1:54321/bridge";

/// Where the panels Mossy embeds in its own window are served unless told otherwise: next to
/// the collaboration hub's 47820, and fixed so Mossy needs no discovery.
pub const DEFAULT_EMBED_ADDRESS: &str = "127.0.0.1:47821";

/// The embedded-panel address that turns the server off.
pub const EMBED_OFF: &str = "off";

/// Environment variable that overrides the bridge address from the settings file.
pub const BRIDGE_URL_ENV: &str = "MOSSY_BRIDGE_URL";

/// Environment variable that moves every data, config and log file under one folder
/// (used by tests and portable installs).
pub const HOME_ENV: &str = "MOSSY_LIVE_HOME";

/// The settings file's name inside the config folder.
pub const SETTINGS_FILE: &str = "settings.toml";

/// Why the settings file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file exists but could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The settings file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The settings could not be written.
    #[error("could not save {path}: {source}")]
    Write {
        /// The settings file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
    /// The file is not valid settings TOML.
    #[error("{path} is not valid settings: {source}")]
    Parse {
        /// The settings file.
        path: PathBuf,
        /// What TOML said.
        source: Box<toml::de::Error>,
    },
    /// A broken settings file could not be moved out of the way.
    #[error("could not keep the broken {path} aside: {source}")]
    MoveAside {
        /// The settings file.
        path: PathBuf,
        /// The I/O failure.
        source: std::io::Error,
    },
}

/// Everything the user can set. Unknown keys are ignored, so a file written by a newer
/// version, or with a typo in one key, keeps every other setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The connection to Mossy.
    pub bridge: BridgeSettings,
    /// Additions to the built-in tool table.
    pub tools: ToolSettings,
    /// Build profiles the Build panel can run.
    pub builds: BuildSettings,
    /// The collaborative editor and its hub.
    pub editor: EditorSettings,
    /// Desktop notifications.
    pub notifications: NotificationSettings,
    /// The Assets panel.
    pub assets: AssetSettings,
    /// The panels Mossy shows in its own window.
    pub embedded_panels: EmbedSettings,
}

/// The loopback server of the panels Mossy shows in its own window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EmbedSettings {
    /// `127.0.0.1:<port>` (or `[::1]:<port>`), or [`EMBED_OFF`]; see
    /// [`parse_embed_address`].
    pub address: String,
}

impl Default for EmbedSettings {
    fn default() -> Self {
        Self {
            address: DEFAULT_EMBED_ADDRESS.to_owned(),
        }
    }
}

/// What an embedded-panel address means: `Ok(None)` for [`EMBED_OFF`], the address when it
/// is 127.0.0.1 or ::1 with a port, else a sentence for the user. Port 0 takes a free port (the server
/// writes the one it got to a file in the data folder).
///
/// Another machine must never reach the panels' API, so a non-loopback address is refused
/// here rather than served.
pub fn parse_embed_address(text: &str) -> Result<Option<SocketAddr>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case(EMBED_OFF) {
        return Ok(None);
    }
    let Ok(addr) = text.parse::<SocketAddr>() else {
        return Err(format!(
            "Enter an address and port such as {DEFAULT_EMBED_ADDRESS}, or {EMBED_OFF}."
        ));
    };
    // 127.0.0.1 or ::1 exactly: the server accepts only those (and `localhost`) as the Host
    // of a request, so another address of the loopback range would be served but refused.
    let own_host = match addr.ip() {
        std::net::IpAddr::V4(ip) => ip == std::net::Ipv4Addr::LOCALHOST,
        std::net::IpAddr::V6(ip) => ip == std::net::Ipv6Addr::LOCALHOST,
    };
    if !own_host {
        return Err(format!(
            "Panels are served to this computer only: use 127.0.0.1 (or [::1]) with a port, \
             not {}.",
            addr.ip()
        ));
    }
    Ok(Some(addr))
}

/// The Assets panel's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssetSettings {
    /// The folders the gallery indexes and watches, as the user chose them. `None` until the
    /// app first writes them: a file from before they were kept here leaves the folders
    /// already in the index as they are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folders: Option<Vec<PathBuf>>,
}

/// The collaborative editor: which hub to join and as whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EditorSettings {
    /// WebSocket address of a team hub; empty means the hub inside this app.
    pub hub_url: String,
    /// Token the hub asks for; empty when the hub has none (the app's own hub on loopback).
    pub token: String,
    /// Name shown to the other editors; empty means the operating system's user name.
    pub display_name: String,
}

/// Which desktop notifications the user wants; each is shown only when no app window has
/// the focus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NotificationSettings {
    /// A build finished or failed.
    pub builds: bool,
    /// A monitored tool crashed (the operating system's crash reporter took hold of it).
    pub tool_exits: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            builds: true,
            tool_exits: true,
        }
    }
}

/// The Build panel's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BuildSettings {
    /// Profiles in the order the user made them; names are unique.
    pub profiles: Vec<mossy_protocol::build::BuildProfile>,
}

/// The connection to Mossy's bridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BridgeSettings {
    /// WebSocket address of the bridge.
    pub url: String,
    /// When false the app does not connect and the badge says so.
    pub enabled: bool,
}

impl Default for BridgeSettings {
    fn default() -> Self {
        Self {
            url: DEFAULT_BRIDGE_URL.to_owned(),
            enabled: true,
        }
    }
}

/// Tools the user adds to the built-in table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolSettings {
    /// Extra tools, or extra executable names for a built-in tool (same `id`).
    pub extra: Vec<ExtraTool>,
}

/// One user-defined tool entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraTool {
    /// Stable id; reuse a built-in id (such as `xedit`) to add names to that tool.
    pub id: String,
    /// Display name; ignored when `id` is built in.
    #[serde(default)]
    pub name: Option<String>,
    /// Executable file names, matched exactly, case-insensitively, `.exe` optional.
    pub executables: Vec<String>,
}

impl Settings {
    /// Reads the settings file; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(SettingsError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|source| SettingsError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Loads the file, changes it with `change` and writes it back. A file that cannot be
    /// read is left as it is, since writing over it would lose whatever the user had in it.
    pub fn update(path: &Path, change: impl FnOnce(&mut Settings)) -> Result<(), SettingsError> {
        let mut settings = Self::load(path)?;
        change(&mut settings);
        settings.save(path)
    }

    /// Writes the settings file whole: to a temporary file beside it, then renamed over it,
    /// so a crash mid-write leaves the old file, never half of the new one.
    pub fn save(&self, path: &Path) -> Result<(), SettingsError> {
        let write_error = |source| SettingsError::Write {
            path: path.to_owned(),
            source,
        };
        let text = toml::to_string_pretty(self)
            .map_err(|err| write_error(std::io::Error::other(err.to_string())))?;
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(write_error)?;
        }
        let temporary = path.with_extension("toml.saving");
        std::fs::write(&temporary, text).map_err(write_error)?;
        std::fs::rename(&temporary, path).map_err(write_error)
    }
}

/// The folders the app keeps its files in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDirs {
    /// Settings live here.
    pub config: PathBuf,
    /// SQLite stores live here.
    pub data: PathBuf,
    /// Rolling log files live here.
    pub logs: PathBuf,
}

impl AppDirs {
    /// All three folders under one root, as [`HOME_ENV`] asks.
    pub fn under(root: &Path) -> Self {
        Self {
            config: root.join("config"),
            data: root.join("data"),
            logs: root.join("logs"),
        }
    }

    /// The platform's folders for the app (`%APPDATA%\Mossy\Mossy Live` on Windows,
    /// XDG folders on Linux), or [`HOME_ENV`] when set. `None` when no home folder exists.
    pub fn locate() -> Option<Self> {
        if let Some(root) = std::env::var_os(HOME_ENV).filter(|root| !root.is_empty()) {
            return Some(Self::under(Path::new(&root)));
        }
        let dirs = directories::ProjectDirs::from("live", "Mossy", "Mossy Live")?;
        Some(Self {
            config: dirs.config_dir().to_owned(),
            data: dirs.data_dir().to_owned(),
            logs: dirs.data_local_dir().join("logs"),
        })
    }

    /// The settings file's path.
    pub fn settings_file(&self) -> PathBuf {
        self.config.join(SETTINGS_FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = Settings::load(&dir.path().join("nope.toml")).expect("defaults");
        assert_eq!(settings, Settings::default());
        assert_eq!(settings.bridge.url, DEFAULT_BRIDGE_URL);
    }

    #[test]
    fn reads_bridge_and_extra_tools() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(
            &path,
            r#"
[bridge]
url = "ws://127.0.0.1:9/bridge"

[[tools.extra]]
id = "xedit"
executables = ["SSEEdit.exe"]

[[tools.extra]]
id = "caprica-gui"
name = "Caprica GUI"
executables = ["CapricaGui"]
"#,
        )
        .expect("write");
        let settings = Settings::load(&path).expect("loads");
        assert_eq!(
            settings,
            Settings {
                bridge: BridgeSettings {
                    url: "ws://127.0.0.1:9/bridge".into(),
                    enabled: true
                },
                tools: ToolSettings {
                    extra: vec![
                        ExtraTool {
                            id: "xedit".into(),
                            name: None,
                            executables: vec!["SSEEdit.exe".into()],
                        },
                        ExtraTool {
                            id: "caprica-gui".into(),
                            name: Some("Caprica GUI".into()),
                            executables: vec!["CapricaGui".into()],
                        },
                    ],
                },
                builds: BuildSettings::default(),
                editor: EditorSettings::default(),
                notifications: NotificationSettings::default(),
                assets: AssetSettings::default(),
                embedded_panels: EmbedSettings::default(),
            }
        );
    }

    #[test]
    fn embedded_panel_address_reads_from_its_table() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[embedded_panels]\naddress = \"off\"\n").expect("write");
        let settings = Settings::load(&path).expect("loads");
        assert_eq!(settings.embedded_panels.address, EMBED_OFF);
        assert_eq!(
            parse_embed_address(&settings.embedded_panels.address),
            Ok(None)
        );
        assert_eq!(
            parse_embed_address(DEFAULT_EMBED_ADDRESS),
            Ok(Some(SocketAddr::from(([127, 0, 0, 1], 47821))))
        );
    }

    #[test]
    fn asset_folders_are_absent_until_written_then_kept_with_awkward_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[bridge]\nenabled = false\n").expect("write");
        assert_eq!(Settings::load(&path).expect("loads").assets.folders, None);

        let folders = vec![
            PathBuf::from("/mods/Mod #1 ü"),
            PathBuf::from(r"D:\MO2\overwrite"),
        ];
        Settings::update(&path, |settings| {
            settings.assets.folders = Some(folders.clone());
        })
        .expect("update");
        let settings = Settings::load(&path).expect("loads");
        assert_eq!(settings.assets.folders, Some(folders));
        assert!(!settings.bridge.enabled, "the rest of the file is kept");
    }

    #[test]
    fn update_leaves_an_unreadable_file_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[bridge\nbroken").expect("write");
        let result = Settings::update(&path, |settings| settings.bridge.enabled = false);
        assert!(
            matches!(result, Err(SettingsError::Parse { .. })),
            "{result:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "[bridge\nbroken"
        );
    }

    #[test]
    fn build_profiles_survive_a_save_and_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("config with space #1").join(SETTINGS_FILE);
        let mut settings = Settings::default();
        settings
            .builds
            .profiles
            .push(mossy_protocol::build::BuildProfile {
                name: "Quest scripts".into(),
                program: r"C:\Games\Fallout 4\Papyrus Compiler\PapyrusCompiler.exe".into(),
                args: vec![
                    "Quest Script.psc".into(),
                    "-f=Institute_Papyrus_Flags.flg".into(),
                ],
                working_dir: Some("D:/Mods/Éléonore".into()),
                env: [("LANG".to_owned(), "C".to_owned())].into(),
            });
        settings.save(&path).expect("saves");
        assert_eq!(Settings::load(&path).expect("loads"), settings);
    }

    #[test]
    fn broken_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[bridge\nurl = 3").expect("write");
        assert!(matches!(
            Settings::load(&path),
            Err(SettingsError::Parse { .. })
        ));
    }
}
