//! What the Assets panel shows: the folders the modder picked, the files in them and what
//! their headers say.
//!
//! The backend keeps an index of every file under the chosen folders. The page never holds
//! the whole index: it asks for the rows on screen by position ([`commands::ASSETS_PAGE`])
//! and refetches them when the [`AssetsUpdate`] stream says the index changed. Thumbnails do
//! not cross IPC at all; the page points `<img>` elements at [`thumb_url`] and the backend's
//! URI scheme serves cached PNGs.

use serde::{Deserialize, Serialize};

/// Names of the Assets panel's backend commands.
pub mod commands {
    /// Starts the Assets panel stream; takes `{ channel }`, returns a
    /// [`crate::ipc::SubscriptionId`].
    pub const SUBSCRIBE_ASSETS: &str = "subscribe_assets";
    /// Adds a folder to the index; takes `{ path }`, returns the [`super::AssetRoot`]s
    /// added: the folder itself, or the `mods` and `overwrite` folders of a Mod Organizer 2
    /// instance folder.
    pub const ASSETS_ADD_FOLDER: &str = "assets_add_folder";
    /// Removes a folder and its files from the index; takes `{ path }`.
    pub const ASSETS_REMOVE_FOLDER: &str = "assets_remove_folder";
    /// Every folder with its state; takes nothing.
    pub const ASSETS_ROOTS: &str = "assets_roots";
    /// Files matching a filter, newest first; takes `{ filter, offset, limit }`.
    pub const ASSETS_PAGE: &str = "assets_page";
    /// How many files match a filter; takes `{ filter }`.
    pub const ASSETS_COUNT: &str = "assets_count";
    /// One file with its header details, read now if not read yet; takes `{ path }`.
    pub const ASSET_DETAILS: &str = "asset_details";
    /// Opens the folder holding a file in the system's file manager; takes `{ path }`.
    pub const OPEN_ASSET_FOLDER: &str = "open_asset_folder";
    /// The files the grid shows, nearest the middle of its view first, so their thumbnails
    /// are made first; takes `{ paths }` (at most [`super::MAX_FOCUS`]).
    pub const ASSETS_FOCUS: &str = "assets_focus";
}

/// Most paths one focus message carries; a tall screen of small cards is about 120.
pub const MAX_FOCUS: usize = 512;

/// The card positions in `cards` (a grid `cols` wide), nearest the middle row first and
/// left to right within a row: the order the user's eye finds them in.
pub fn nearest_first(cards: std::ops::Range<usize>, cols: usize) -> Vec<usize> {
    let cols = cols.max(1);
    let (first_row, last_row) = (cards.start / cols, cards.end.saturating_sub(1) / cols);
    // Twice the middle, to keep half rows exact in integers.
    let middle2 = first_row + last_row;
    let mut positions: Vec<usize> = cards.collect();
    positions.sort_by_key(|position| ((position / cols * 2).abs_diff(middle2), *position));
    positions
}

/// The URI scheme that serves thumbnails.
pub const THUMB_SCHEME: &str = "thumb";

/// Query value of `size` asking for the large preview instead of the grid thumbnail.
pub const THUMB_SIZE_LARGE: &str = "large";

/// Characters kept as they are when a path is put in a thumbnail URL. Everything else,
/// `/`, `\`, `:`, `%`, `#`, `?`, spaces and every non-ASCII byte included, is
/// percent-encoded, so the whole path travels as one URL path segment.
fn keeps_in_url(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes `text` as one URL path segment (UTF-8, see [`keeps_in_url`]).
pub fn encode_path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if keeps_in_url(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The URL of the thumbnail of the file at `path` (absolute, as the index gives it).
///
/// `origin` is how the webview spells the scheme: `thumb://localhost` on Linux and macOS,
/// `http://thumb.localhost` on Windows. `version` (the file's modification time) only makes
/// the URL change when the file does, so the webview never shows a cached old picture.
pub fn thumb_url(origin: &str, path: &str, version: i64, large: bool) -> String {
    let size = if large {
        format!("&size={THUMB_SIZE_LARGE}")
    } else {
        String::new()
    };
    format!("{origin}/{}?v={version}{size}", encode_path_segment(path))
}

/// What a file is, judged by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// `.dds`
    Texture,
    /// `.png`, `.jpg`, `.jpeg`, `.tga`
    Image,
    /// `.nif`
    Mesh,
    /// `.esp`, `.esm`, `.esl`
    Plugin,
    /// `.ba2`
    Archive,
    /// Anything else.
    Other,
}

impl AssetKind {
    /// Whether the backend can make a thumbnail of files of this kind.
    pub fn has_thumbnail(self) -> bool {
        matches!(self, Self::Texture | Self::Image)
    }
}

/// Which files a page or count covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetFilter {
    /// Only files of this kind; every kind when absent.
    #[serde(default)]
    pub kind: Option<AssetKind>,
    /// Only files whose path under its folder contains this text, ignoring case; empty
    /// matches everything.
    #[serde(default)]
    pub text: String,
}

/// Where a chosen folder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootState {
    /// Being scanned; its files are still arriving.
    Scanning,
    /// Scanned and watched for changes.
    Ready,
    /// The folder is gone (deleted, renamed, drive unplugged); it is picked up again when it
    /// returns.
    Missing,
}

/// A folder the modder chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRoot {
    /// The absolute path.
    pub path: String,
    /// Where it stands.
    pub state: RootState,
}

/// What the Assets panel stream sends: enough for the page to know it must refetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetsUpdate {
    /// Goes up whenever a file, a header or a folder changed; equal numbers mean nothing
    /// changed in between.
    pub version: u64,
    /// Every folder with its state.
    pub roots: Vec<AssetRoot>,
}

/// One file in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetItem {
    /// Absolute path; also the file's identity.
    pub path: String,
    /// Path under its folder, `/`-separated.
    pub rel_path: String,
    /// Kind by extension.
    pub kind: AssetKind,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, milliseconds since the Unix epoch.
    pub modified_ms: i64,
    /// What the header says, once read.
    pub details: Option<AssetDetails>,
    /// Why the header could not be read, when it could not.
    pub error: Option<String>,
    /// The file's folder is missing, so the row is kept but the file cannot be read now.
    pub root_missing: bool,
}

impl AssetItem {
    /// The file name, the last part of [`AssetItem::rel_path`].
    pub fn name(&self) -> &str {
        self.rel_path.rsplit('/').next().unwrap_or(&self.rel_path)
    }
}

/// What a file's header says, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssetDetails {
    /// A DDS texture.
    Texture(TextureDetails),
    /// A NIF mesh.
    Mesh(MeshDetails),
    /// A plugin.
    Plugin(PluginDetails),
    /// A BA2 archive.
    Archive(ArchiveDetails),
}

/// The header of a DDS texture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextureDetails {
    /// Short format name, such as `BC1`, `BC5` or `B8G8R8A8`.
    pub format: String,
    /// The colour data is sRGB-encoded.
    pub srgb: bool,
    /// Width of the largest mip, in pixels.
    pub width: u32,
    /// Height of the largest mip, in pixels.
    pub height: u32,
    /// Number of mip levels.
    pub mips: u32,
    /// A cube map (six faces).
    pub cubemap: bool,
    /// A BC5 texture, which Fallout 4 uses for normal maps.
    pub normal_map: bool,
    /// The file has the DX10 header extension.
    pub dx10: bool,
}

/// The header of a NIF mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeshDetails {
    /// Version as NifSkope prints it, such as `20.2.0.7`.
    pub version: String,
    /// User version (12 for Fallout 4).
    pub user_version: u32,
    /// Bethesda stream version (130 for Fallout 4), when the file has one.
    pub bsver: Option<u32>,
    /// Number of blocks.
    pub blocks: u32,
}

/// The header record of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginDetails {
    /// Flagged as a master.
    pub master: bool,
    /// Flagged as light (ESL).
    pub light: bool,
    /// The plugins it depends on, in order.
    pub masters: Vec<String>,
    /// Author, when given.
    pub author: Option<String>,
    /// Description, when given.
    pub description: Option<String>,
    /// Number of records the header claims, when given.
    pub records: Option<u32>,
}

/// What a BA2 archive holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveKind {
    /// `GNRL`: meshes, scripts, sounds and other files.
    General,
    /// `DX10`: textures.
    Textures,
}

/// The header of a BA2 archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveDetails {
    /// Format version: 1, 7 or 8.
    pub version: u32,
    /// General or textures.
    pub archive_kind: ArchiveKind,
    /// Number of files the header claims.
    pub file_count: u32,
    /// The first few file names, as stored (backslashes).
    pub first_names: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::round_trip;

    #[test]
    fn nearest_first_starts_in_the_middle_rows() {
        // Rows 0..=3 of a 3-wide grid: the middle is between rows 1 and 2.
        assert_eq!(
            nearest_first(0..12, 3),
            [3, 4, 5, 6, 7, 8, 0, 1, 2, 9, 10, 11]
        );
        // A last row only partly filled, an odd number of rows.
        assert_eq!(nearest_first(3..11, 3), [6, 7, 8, 3, 4, 5, 9, 10]);
        assert_eq!(nearest_first(0..0, 3), Vec::<usize>::new());
        assert_eq!(nearest_first(0..2, 0), [0, 1]);
    }

    #[test]
    fn every_assets_enum_round_trips() {
        for kind in [
            AssetKind::Texture,
            AssetKind::Image,
            AssetKind::Mesh,
            AssetKind::Plugin,
            AssetKind::Archive,
            AssetKind::Other,
        ] {
            round_trip(&AssetFilter {
                kind: Some(kind),
                text: "ü #".into(),
            });
        }
        for state in [RootState::Scanning, RootState::Ready, RootState::Missing] {
            round_trip(&AssetsUpdate {
                version: 3,
                roots: vec![AssetRoot {
                    path: "/mods/a b".into(),
                    state,
                }],
            });
        }
        let details = [
            AssetDetails::Texture(TextureDetails {
                format: "BC5".into(),
                srgb: false,
                width: 512,
                height: 256,
                mips: 10,
                cubemap: false,
                normal_map: true,
                dx10: true,
            }),
            AssetDetails::Mesh(MeshDetails {
                version: "20.2.0.7".into(),
                user_version: 12,
                bsver: Some(130),
                blocks: 9,
            }),
            AssetDetails::Plugin(PluginDetails {
                master: false,
                light: true,
                masters: vec!["Fallout4.esm".into()],
                author: None,
                description: Some("x".into()),
                records: Some(4),
            }),
            AssetDetails::Archive(ArchiveDetails {
                version: 8,
                archive_kind: ArchiveKind::Textures,
                file_count: 2,
                first_names: vec!["textures\\a.dds".into()],
            }),
        ];
        for details in details {
            round_trip(&AssetItem {
                path: "/m/a.dds".into(),
                rel_path: "a.dds".into(),
                kind: AssetKind::Texture,
                size: 1,
                modified_ms: -5,
                details: Some(details),
                error: None,
                root_missing: false,
            });
        }
    }

    #[test]
    fn thumb_urls_carry_awkward_paths_as_one_segment() {
        let url = thumb_url("thumb://localhost", "/tmp/a #1 50%/ü.dds", 7, false);
        assert_eq!(
            url,
            "thumb://localhost/%2Ftmp%2Fa%20%231%2050%25%2F%C3%BC.dds?v=7"
        );
        let url = thumb_url("http://thumb.localhost", "C:\\Mods\\x.dds", 1, true);
        assert_eq!(
            url,
            "http://thumb.localhost/C%3A%5CMods%5Cx.dds?v=1&size=large"
        );
    }

    #[test]
    fn item_name_is_the_last_path_part() {
        let item = AssetItem {
            path: "/m/Textures/a b.dds".into(),
            rel_path: "Textures/a b.dds".into(),
            kind: AssetKind::Texture,
            size: 0,
            modified_ms: 0,
            details: None,
            error: None,
            root_missing: false,
        };
        assert_eq!(item.name(), "a b.dds");
    }
}
