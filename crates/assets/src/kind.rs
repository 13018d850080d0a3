//! What sort of asset a file is, judged by its extension.
//!
//! The gallery sorts and picks a reader by this before opening anything, so it must be cheap:
//! it looks at the name only, never the contents. Extensions compare case-insensitively because
//! mod authors ship `.DDS`, `.Esp` and `.BA2` alike.

use std::path::Path;

/// The kind of asset, from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    /// A DirectDraw Surface texture (`.dds`).
    Texture,
    /// A plain picture (`.png`, `.jpg`, `.jpeg`, `.tga`).
    Image,
    /// A Gamebryo / Creation Engine mesh (`.nif`).
    Mesh,
    /// A plugin (`.esp`, `.esm`, `.esl`).
    Plugin,
    /// A Bethesda archive (`.ba2`).
    Archive,
    /// Anything else, including files with no extension.
    Other,
}

impl AssetKind {
    /// The kind for an extension given without the dot, in any letter case.
    pub fn from_extension(ext: &str) -> Self {
        const TABLE: [(&str, AssetKind); 10] = [
            ("dds", AssetKind::Texture),
            ("png", AssetKind::Image),
            ("jpg", AssetKind::Image),
            ("jpeg", AssetKind::Image),
            ("tga", AssetKind::Image),
            ("nif", AssetKind::Mesh),
            ("esp", AssetKind::Plugin),
            ("esm", AssetKind::Plugin),
            ("esl", AssetKind::Plugin),
            ("ba2", AssetKind::Archive),
        ];
        TABLE
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(ext))
            .map_or(AssetKind::Other, |&(_, kind)| kind)
    }

    /// The kind of the file at `path`, from its extension.
    pub fn from_path(path: &Path) -> Self {
        path.extension()
            .and_then(|ext| ext.to_str())
            .map_or(AssetKind::Other, Self::from_extension)
    }

    /// The word the index stores for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Texture => "texture",
            AssetKind::Image => "image",
            AssetKind::Mesh => "mesh",
            AssetKind::Plugin => "plugin",
            AssetKind::Archive => "archive",
            AssetKind::Other => "other",
        }
    }

    /// The kind stored as `word`; unknown words read as [`AssetKind::Other`].
    pub fn from_word(word: &str) -> Self {
        [
            AssetKind::Texture,
            AssetKind::Image,
            AssetKind::Mesh,
            AssetKind::Plugin,
            AssetKind::Archive,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == word)
        .unwrap_or(AssetKind::Other)
    }

    /// Whether [`thumbnail`](crate::thumbnail::thumbnail) can make a picture of this kind.
    pub fn has_thumbnail(self) -> bool {
        matches!(self, AssetKind::Texture | AssetKind::Image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_map_case_insensitively() {
        let cases = [
            ("Textures/Armor/Vault.DDS", AssetKind::Texture),
            ("shot.Png", AssetKind::Image),
            ("a.JPEG", AssetKind::Image),
            ("b.jpg", AssetKind::Image),
            ("c.tga", AssetKind::Image),
            ("Meshes/x.NIF", AssetKind::Mesh),
            ("Fallout4.esm", AssetKind::Plugin),
            ("MyMod.Esp", AssetKind::Plugin),
            ("Light.esl", AssetKind::Plugin),
            ("MyMod - Main.ba2", AssetKind::Archive),
            ("readme.txt", AssetKind::Other),
            ("noext", AssetKind::Other),
            ("dds", AssetKind::Other),
            ("folder.dds/readme", AssetKind::Other),
        ];
        for (path, kind) in cases {
            assert_eq!(AssetKind::from_path(Path::new(path)), kind, "{path}");
            assert_eq!(
                AssetKind::from_word(kind.as_str()),
                kind,
                "stored word round-trips"
            );
        }
    }
}
