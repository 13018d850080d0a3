//! One entry point that reads whichever header a file has, chosen by its extension.
//!
//! The gallery calls this for the detail pane; each reader it dispatches to reads only the
//! first bytes of the file (plus the name table for archives).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::ba2::{Ba2Header, read_ba2_header};
use crate::dds::{DdsHeader, read_dds_header};
use crate::kind::AssetKind;
use crate::nif::{NifHeader, read_nif_header};
use crate::plugin::{PluginHeader, read_plugin_header};
use crate::read_error::ReadError;

/// The header of an asset, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum AssetHeader {
    /// A DDS texture.
    Texture(DdsHeader),
    /// A NIF mesh.
    Mesh(NifHeader),
    /// A plugin.
    Plugin(PluginHeader),
    /// A BA2 archive.
    Archive(Ba2Header),
}

/// Reads the header of the file at `path`; `Ok(None)` for kinds that have no header reader
/// (pictures and other files).
pub fn read_header(path: &Path) -> Result<Option<AssetHeader>, ReadError> {
    let kind = AssetKind::from_path(path);
    if matches!(kind, AssetKind::Image | AssetKind::Other) {
        return Ok(None);
    }
    let file = BufReader::new(File::open(path)?);
    let header = match kind {
        AssetKind::Texture => AssetHeader::Texture(read_dds_header(file)?),
        AssetKind::Mesh => AssetHeader::Mesh(read_nif_header(file)?),
        AssetKind::Plugin => AssetHeader::Plugin(read_plugin_header(file)?),
        AssetKind::Archive => AssetHeader::Archive(read_ba2_header(file)?),
        AssetKind::Image | AssetKind::Other => return Ok(None),
    };
    Ok(Some(header))
}
