//! Which name a process goes by, and so which tool it is.
//!
//! The executable's file name comes first. On Linux the kernel keeps only the first 15
//! bytes of a process name, so `OutfitStudio x64.exe` shows as `OutfitStudio x6`; the full
//! name comes from the executable path. When that does not name a tool — the path of
//! another user's process is unreadable, or a Windows tool runs under Wine or Proton, whose
//! executable is the Wine loader — the process name counts if it cannot have been cut, and
//! otherwise the file name of the first command-line argument. The poller reads command
//! lines only for processes where that last step can matter (see [`may_hold_tool_in_cmd`]).

use std::ffi::OsStr;

use sysinfo::{Process, ProcessStatus};

use super::ToolTable;
use crate::bus::ToolProcess;

/// Linux cuts process names to 15 bytes (`TASK_COMM_LEN` minus its terminator); a name of
/// exactly this length may be the start of a longer one and cannot be trusted alone.
#[cfg(any(target_os = "linux", target_os = "android"))]
const CUT_NAME_LEN: Option<usize> = Some(15);
/// Other systems report whole process names.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const CUT_NAME_LEN: Option<usize> = None;

/// The tool process this is, trying the executable's file name, then the process name when
/// it cannot have been cut, then the first command-line argument's file name.
pub(crate) fn tool_process(table: &ToolTable, process: &Process) -> Option<ToolProcess> {
    let by_exe = || {
        let exe = lossy_file_name(process.exe()?.file_name()?);
        table.classify(&exe).map(|tool| (tool, exe))
    };
    let by_name = || {
        let name = process.name().to_string_lossy();
        if name_may_be_cut(&name) {
            return None;
        }
        table.classify(&name).map(|tool| (tool, name.into_owned()))
    };
    let by_first_arg = || {
        let arg = last_path_part(&process.cmd().first()?.to_string_lossy());
        table.classify(&arg).map(|tool| (tool, arg))
    };
    let (tool, exe) = by_exe().or_else(by_name).or_else(by_first_arg)?;

    Some(ToolProcess {
        tool: tool.id.clone(),
        pid: process.pid().as_u32(),
        exe,
        started_at_ms: i64::try_from(process.start_time())
            .unwrap_or(0)
            .saturating_mul(1000),
        memory_bytes: process.memory(),
    })
}

/// False for kernel threads and for processes that ended but were not reaped yet.
pub(crate) fn is_live_user_process(process: &Process) -> bool {
    process.thread_kind().is_none()
        && !matches!(
            process.status(),
            ProcessStatus::Zombie | ProcessStatus::Dead
        )
}

/// True when only the command line can still say whether this process is a tool: its name
/// may have been cut and its command line has not been read.
pub(crate) fn may_hold_tool_in_cmd(process: &Process) -> bool {
    name_may_be_cut(&process.name().to_string_lossy()) && process.cmd().is_empty()
}

fn name_may_be_cut(name: &str) -> bool {
    CUT_NAME_LEN.is_some_and(|len| name.len() == len)
}

/// The file name as text, without the ` (deleted)` Linux appends to a replaced executable.
fn lossy_file_name(name: &OsStr) -> String {
    let name = name.to_string_lossy();
    name.strip_suffix(" (deleted)").unwrap_or(&name).to_owned()
}

/// The part after the last `/` or `\`: command lines of Windows tools under Wine carry
/// Windows paths, which `Path` does not split on Unix.
fn last_path_part(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_file_name_from_any_path() {
        assert_eq!(
            [
                r"C:\Games\FO4Edit\FO4Edit.exe",
                "/opt/mods dir #1 ü/blender",
                "NifSkope.exe"
            ]
            .map(last_path_part),
            ["FO4Edit.exe", "blender", "NifSkope.exe"].map(String::from)
        );
        assert_eq!(lossy_file_name(OsStr::new("blender (deleted)")), "blender");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn distrusts_only_names_the_kernel_may_have_cut() {
        let names = [
            "OutfitStudio x6",
            "blender",
            "FO4Edit64.exe",
            "OutfitStudio x64.exe",
        ];
        assert_eq!(names.map(name_may_be_cut), [true, false, false, false]);
    }
}
