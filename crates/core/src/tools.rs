//! Which modding tools exist, how to recognise their processes, and the process poller.
//!
//! The [`ToolTable`] is data: the built-in tools (Blender, xEdit, the Creation Kit, Mod
//! Organizer 2, ...) plus whatever the user adds in `settings.toml`. It answers two
//! questions. [`ToolTable::classify`] says which tool an executable file name belongs to,
//! matching the whole name exactly and case-insensitively, `.exe` optional — never a
//! substring, so `blender-thumbnailer` or a browser tab titled "xEdit guide" is not a tool.
//! [`ToolTable::tool_for_reported_name`] maps the loose names Mossy sends over the bridge
//! ("CreationKit", "Creation Kit", "MO2", ...) to the same ids, so a tool seen in the
//! process list and a tool reported by Mossy land on one card.
//!
//! The [`poller`] walks the process list about once a second, classifies every process
//! with the table and publishes starts and exits on the bus.

pub mod poller;

mod builtin;
mod crash_reports;
mod process_name;

use std::collections::HashMap;

use mossy_protocol::ipc::ToolId;
use tracing::warn;

use crate::settings::ExtraTool;
use builtin::BUILTIN_TOOLS;
pub use poller::{POLL_INTERVAL, PollerError, PollerHandle, ProcessPoller, spawn_process_poller};

/// Prefix of the ids given to tools that only Mossy knows, so they never clash with a
/// table id.
pub const REPORTED_ID_PREFIX: &str = "mossy:";

/// One tool of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolDef {
    /// Stable id, such as `creation-kit`.
    pub id: ToolId,
    /// Display name, such as `Creation Kit`.
    pub name: String,
    /// Executable file names that mean this tool, as written in the table.
    pub executables: Vec<String>,
}

/// The tools the app recognises, in display order, with lookups by executable and by the
/// names Mossy reports.
#[derive(Debug, Clone)]
pub struct ToolTable {
    tools: Vec<ToolDef>,
    /// Lowercased executable name without `.exe` → index into `tools`.
    by_executable: HashMap<String, usize>,
    /// Alias key (see [`alias_key`]) → index into `tools`.
    by_alias: HashMap<String, usize>,
}

impl Default for ToolTable {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ToolTable {
    /// The built-in table alone.
    pub fn builtin() -> Self {
        Self::with_extras(&[])
    }

    /// The built-in table extended by the user's tools. An extra entry with a built-in id
    /// adds executable names to that tool; a new id adds a tool after the built-in ones.
    /// An executable name listed by a user entry belongs to that entry's tool, even if the
    /// built-in table had it elsewhere.
    pub fn with_extras(extras: &[ExtraTool]) -> Self {
        let mut table = Self {
            tools: Vec::new(),
            by_executable: HashMap::new(),
            by_alias: HashMap::new(),
        };
        for tool in BUILTIN_TOOLS {
            let index = table.add_tool(tool.id, tool.name);
            for executable in tool.executables {
                table.add_executable(index, executable);
            }
            for alias in tool.aliases {
                table.by_alias.insert(alias_key(alias), index);
            }
        }

        for extra in extras {
            let id = extra.id.trim();
            if id.is_empty() {
                warn!(executables = ?extra.executables, "tool in settings has no id; ignored");
                continue;
            }
            let index = match table.tools.iter().position(|tool| tool.id.as_str() == id) {
                Some(index) => index,
                None => table.add_tool(id, extra.name.as_deref().map_or(id, str::trim)),
            };
            for executable in extra.executables.iter().map(|name| name.trim()) {
                if !executable.is_empty() {
                    table.add_executable(index, executable);
                }
            }
        }
        table
    }

    fn add_tool(&mut self, id: &str, name: &str) -> usize {
        let index = self.tools.len();
        self.tools.push(ToolDef {
            id: ToolId(id.to_owned()),
            name: name.to_owned(),
            executables: Vec::new(),
        });
        // Earlier entries keep an alias they share with a later one: built-in names win.
        self.by_alias.entry(alias_key(id)).or_insert(index);
        self.by_alias.entry(alias_key(name)).or_insert(index);
        index
    }

    fn add_executable(&mut self, index: usize, executable: &str) {
        self.tools[index].executables.push(executable.to_owned());
        self.by_executable.insert(executable_key(executable), index);
        self.by_alias.entry(alias_key(executable)).or_insert(index);
    }

    /// Every tool, built-in ones first, in the order the tool monitor shows them.
    pub fn tools(&self) -> &[ToolDef] {
        &self.tools
    }

    /// The tool with this id.
    pub fn get(&self, id: &ToolId) -> Option<&ToolDef> {
        self.tools.iter().find(|tool| &tool.id == id)
    }

    /// The tool whose executable has this file name (no folder), matched exactly and
    /// case-insensitively, with or without `.exe`.
    pub fn classify(&self, file_name: &str) -> Option<&ToolDef> {
        self.by_executable
            .get(&executable_key(file_name))
            .map(|&index| &self.tools[index])
    }

    /// The id and display name for a tool name Mossy reported. Case, spaces, dashes,
    /// underscores, dots and a trailing `.exe` do not matter ("Creation Kit",
    /// "CreationKit", "creation-kit" and "CreationKit.exe" are one tool). A name the table
    /// does not know gets a stable id made from it, `mossy:<slug>`, and keeps its own
    /// spelling as display name.
    pub fn tool_for_reported_name(&self, name: &str) -> (ToolId, String) {
        let name = name.trim();
        if let Some(&index) = self.by_alias.get(&alias_key(name)) {
            let tool = &self.tools[index];
            return (tool.id.clone(), tool.name.clone());
        }

        let slug = slug(name);
        if slug.is_empty() {
            return (
                ToolId(format!("{REPORTED_ID_PREFIX}unnamed")),
                "Unnamed tool".to_owned(),
            );
        }
        (
            ToolId(format!("{REPORTED_ID_PREFIX}{slug}")),
            name.to_owned(),
        )
    }
}

/// `name` lowercased, without one trailing `.exe`: the key executables are matched by.
fn executable_key(name: &str) -> String {
    let mut key = name.to_lowercase();
    if key.ends_with(".exe") {
        key.truncate(key.len() - ".exe".len());
    }
    key
}

/// The executable key with everything but letters and digits removed, so that "Creation
/// Kit", "creation-kit" and "CreationKit.exe" meet.
fn alias_key(name: &str) -> String {
    executable_key(name.trim())
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Lowercase letters and digits, with one `-` for every run of anything else.
fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ToolId {
        ToolId(text.to_owned())
    }

    fn classified(table: &ToolTable, names: &[&str]) -> Vec<Option<String>> {
        names
            .iter()
            .map(|name| table.classify(name).map(|tool| tool.id.as_str().to_owned()))
            .collect()
    }

    #[test]
    fn builtin_table_has_every_tool_in_display_order() {
        let table = ToolTable::builtin();
        let summary: Vec<(&str, &str, usize)> = table
            .tools()
            .iter()
            .map(|tool| (tool.id.as_str(), tool.name.as_str(), tool.executables.len()))
            .collect();
        assert_eq!(
            summary,
            [
                ("blender", "Blender", 1),
                ("xedit", "xEdit", 5),
                ("creation-kit", "Creation Kit", 1),
                ("mo2", "Mod Organizer 2", 1),
                ("outfit-studio", "Outfit Studio / BodySlide", 4),
                ("nifskope", "NifSkope", 1),
                ("archive2", "Archive2", 1),
                ("papyrus", "Papyrus compiler", 2),
                ("fallout4", "Fallout 4", 3),
            ]
        );
    }

    #[test]
    fn classifies_whole_names_case_insensitively_with_or_without_exe() {
        let table = ToolTable::builtin();
        let names = [
            "blender",
            "Blender.EXE",
            "fo4edit64.exe",
            "xEdit",
            "CREATIONKIT.exe",
            "ModOrganizer.exe",
            "OutfitStudio x64.exe",
            "bodyslide x64",
            "Caprica.exe",
            "f4se_loader.exe",
            "Fallout4Launcher.exe",
        ];
        assert_eq!(
            classified(&table, &names),
            [
                "blender",
                "blender",
                "xedit",
                "xedit",
                "creation-kit",
                "mo2",
                "outfit-studio",
                "outfit-studio",
                "papyrus",
                "fallout4",
                "fallout4",
            ]
            .map(|id| Some(id.to_owned()))
        );
    }

    // Guards against substring matching: helpers and look-alikes must never count as tools.
    #[test]
    fn ignores_helpers_and_look_alikes() {
        let table = ToolTable::builtin();
        let names = [
            "blender-thumbnailer",
            "CreationKitNotes.exe",
            "usvfs_proxy_x64.exe",
            "usvfs_proxy_x86.exe",
            "OutfitStudiox64.exe",
            "xEdit guide - Firefox",
            "blender.exe.exe",
            " blender",
            "",
        ];
        assert_eq!(classified(&table, &names), vec![None; names.len()]);
    }

    #[test]
    fn user_tools_extend_and_add() {
        let table = ToolTable::with_extras(&[
            ExtraTool {
                id: "xedit".into(),
                name: None,
                executables: vec!["SSEEdit.exe".into()],
            },
            ExtraTool {
                id: "caprica-gui".into(),
                name: Some("Caprica GUI".into()),
                executables: vec!["CapricaGui".into(), " ".into()],
            },
            ExtraTool {
                id: " ".into(),
                name: None,
                executables: vec!["nothing.exe".into()],
            },
        ]);
        assert_eq!(
            table.get(&id("xedit")),
            Some(&ToolDef {
                id: id("xedit"),
                name: "xEdit".into(),
                executables: [
                    "FO4Edit.exe",
                    "FO4Edit64.exe",
                    "FO4VREdit.exe",
                    "xEdit.exe",
                    "xEdit64.exe",
                    "SSEEdit.exe"
                ]
                .map(String::from)
                .to_vec(),
            })
        );
        assert_eq!(
            table.tools().last(),
            Some(&ToolDef {
                id: id("caprica-gui"),
                name: "Caprica GUI".into(),
                executables: vec!["CapricaGui".into()],
            })
        );
        assert_eq!(table.tools().len(), BUILTIN_TOOLS.len() + 1);
        assert_eq!(
            classified(&table, &["sseedit.exe", "capricagui.exe", "nothing.exe"]),
            [
                Some("xedit".to_owned()),
                Some("caprica-gui".to_owned()),
                None
            ]
        );
        assert_eq!(
            table.tool_for_reported_name("Caprica GUI"),
            (id("caprica-gui"), "Caprica GUI".into())
        );
    }

    #[test]
    fn normalises_the_names_mossy_reports() {
        let table = ToolTable::builtin();
        let reported = [
            "Blender",
            "xEdit",
            "FO4Edit",
            "fo4edit64.exe",
            "CreationKit",
            "Creation Kit",
            "creation-kit",
            "MO2",
            "ModOrganizer",
            "Mod Organizer 2",
            "  mod organizer  ",
            "BodySlide",
            "Outfit Studio",
            "Papyrus",
            "Caprica",
            "F4SE",
        ];
        let resolved: Vec<(String, String)> = reported
            .iter()
            .map(|name| {
                let (id, display) = table.tool_for_reported_name(name);
                (id.0, display)
            })
            .collect();
        let expected = [
            ("blender", "Blender"),
            ("xedit", "xEdit"),
            ("xedit", "xEdit"),
            ("xedit", "xEdit"),
            ("creation-kit", "Creation Kit"),
            ("creation-kit", "Creation Kit"),
            ("creation-kit", "Creation Kit"),
            ("mo2", "Mod Organizer 2"),
            ("mo2", "Mod Organizer 2"),
            ("mo2", "Mod Organizer 2"),
            ("mo2", "Mod Organizer 2"),
            ("outfit-studio", "Outfit Studio / BodySlide"),
            ("outfit-studio", "Outfit Studio / BodySlide"),
            ("papyrus", "Papyrus compiler"),
            ("papyrus", "Papyrus compiler"),
            ("fallout4", "Fallout 4"),
        ];
        assert_eq!(
            resolved,
            expected.map(|(id, name)| (id.to_owned(), name.to_owned()))
        );
    }

    #[test]
    fn unknown_reported_names_get_stable_ids() {
        let table = ToolTable::builtin();
        assert_eq!(
            table.tool_for_reported_name(" Material Editor (beta) "),
            (
                id("mossy:material-editor-beta"),
                "Material Editor (beta)".into()
            )
        );
        assert_eq!(
            table.tool_for_reported_name("material editor beta"),
            (
                id("mossy:material-editor-beta"),
                "material editor beta".into()
            )
        );
        assert_eq!(
            table.tool_for_reported_name("Ünïcode Tool"),
            (id("mossy:ünïcode-tool"), "Ünïcode Tool".into())
        );
        assert_eq!(
            table.tool_for_reported_name(" ?! "),
            (id("mossy:unnamed"), "Unnamed tool".into())
        );
    }
}
