//! The built-in tool table: the modding tools Mossy Live knows without any settings.
//!
//! It is plain data so that adding a tool is a one-entry change and so that the user's
//! `[[tools.extra]]` entries in `settings.toml` extend it with the same shape. Executable
//! names are the Windows names the tools ship with; the classifier matches them exactly,
//! case-insensitively, with or without `.exe`. Aliases are the other ways Mossy spells a
//! tool over the bridge; the id, the display name and every executable name are aliases
//! already, so only the extra spellings are listed.

/// One tool of the built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BuiltinTool {
    /// Stable id, also the card's key in the UI.
    pub(crate) id: &'static str,
    /// Display name.
    pub(crate) name: &'static str,
    /// Executable file names that mean this tool.
    pub(crate) executables: &'static [&'static str],
    /// Further names Mossy may report the tool under.
    pub(crate) aliases: &'static [&'static str],
}

/// The table, in the order the tool monitor shows its cards.
///
/// Not listed on purpose: Mod Organizer 2's `usvfs_proxy_x64.exe` and
/// `usvfs_proxy_x86.exe` helpers, which can pile up by the dozen and are not tools the
/// modder started.
pub(crate) const BUILTIN_TOOLS: &[BuiltinTool] = &[
    BuiltinTool {
        id: "blender",
        name: "Blender",
        executables: &["blender.exe"],
        aliases: &[],
    },
    BuiltinTool {
        id: "xedit",
        name: "xEdit",
        executables: &[
            "FO4Edit.exe",
            "FO4Edit64.exe",
            "FO4VREdit.exe",
            "xEdit.exe",
            "xEdit64.exe",
        ],
        aliases: &[],
    },
    BuiltinTool {
        id: "creation-kit",
        name: "Creation Kit",
        executables: &["CreationKit.exe"],
        aliases: &["CK"],
    },
    BuiltinTool {
        id: "mo2",
        name: "Mod Organizer 2",
        executables: &["ModOrganizer.exe"],
        aliases: &[],
    },
    BuiltinTool {
        id: "outfit-studio",
        name: "Outfit Studio / BodySlide",
        executables: &[
            "OutfitStudio x64.exe",
            "OutfitStudio.exe",
            "BodySlide x64.exe",
            "BodySlide.exe",
        ],
        aliases: &[],
    },
    BuiltinTool {
        id: "nifskope",
        name: "NifSkope",
        executables: &["NifSkope.exe"],
        aliases: &[],
    },
    BuiltinTool {
        id: "archive2",
        name: "Archive2",
        executables: &["Archive2.exe"],
        aliases: &[],
    },
    BuiltinTool {
        id: "papyrus",
        name: "Papyrus compiler",
        executables: &["PapyrusCompiler.exe", "Caprica.exe"],
        aliases: &["Papyrus"],
    },
    BuiltinTool {
        id: "fallout4",
        name: "Fallout 4",
        executables: &["Fallout4.exe", "Fallout4Launcher.exe", "f4se_loader.exe"],
        aliases: &["FO4", "F4SE"],
    },
];
