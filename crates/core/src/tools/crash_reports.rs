//! Telling a crash from a normal close.
//!
//! The process list says only that a process is gone, not how it ended, and a modder
//! closing the Creation Kit looks the same as the Creation Kit crashing. Windows says more:
//! when a program crashes or hangs, Windows Error Reporting starts `WerFault.exe` with the
//! program's pid after `-p` (`WerFault.exe -u -p 4242 -s 812`), and the program stays in
//! the list, frozen, until the report is dismissed. So a `WerFault.exe` that names a tool's
//! pid is that tool crashing, seen while it happens. Under Wine a crash goes to `winedbg`
//! instead, and Linux programs have no such reporter; there a crash shows as a plain exit.

use std::ffi::OsString;

/// The executable name of Windows Error Reporting, compared without case or `.exe`.
const REPORTER_NAME: &str = "werfault";

/// True when a process with this executable or process name is a crash reporter.
pub(crate) fn is_crash_reporter(name: &str) -> bool {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = name
        .get(name.len().saturating_sub(4)..)
        .filter(|tail| tail.eq_ignore_ascii_case(".exe"))
        .map_or(name, |_| &name[..name.len() - 4]);
    stem.eq_ignore_ascii_case(REPORTER_NAME)
}

/// The pid a crash reporter's command line names: the argument after `-p` (or `/p`). `None`
/// when there is none or it is not a number, as for WER's queue-processing runs.
pub(crate) fn reported_pid(cmd: &[OsString]) -> Option<u32> {
    let mut args = cmd.iter().map(|arg| arg.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg.eq_ignore_ascii_case("-p") || arg.eq_ignore_ascii_case("/p") {
            return args.next()?.parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn knows_the_reporter_by_name_with_or_without_path_and_extension() {
        let names = [
            "WerFault.exe",
            "werfault",
            r"C:\Windows\System32\WerFault.exe",
            "WERFAULT.EXE",
            "WerFaultSecure.exe",
            "CreationKit.exe",
            "exe",
            "",
        ];
        assert_eq!(
            names.map(is_crash_reporter),
            [true, true, true, true, false, false, false, false]
        );
    }

    #[test]
    fn reads_the_pid_after_p() {
        assert_eq!(
            reported_pid(&cmd(r"C:\Windows\system32\WerFault.exe -u -p 4242 -s 812")),
            Some(4242)
        );
        assert_eq!(
            reported_pid(&cmd("WerFault.exe -pss -s 500 -p 17 -ip 17")),
            Some(17)
        );
        assert_eq!(reported_pid(&cmd("WerFault.exe /p 99")), Some(99));
    }

    #[test]
    fn names_no_pid_for_other_runs_or_garbage() {
        assert_eq!(reported_pid(&cmd("WerFault.exe -k -rq")), None);
        assert_eq!(reported_pid(&cmd("WerFault.exe -u -p")), None);
        assert_eq!(reported_pid(&cmd("WerFault.exe -p abc")), None);
        assert_eq!(reported_pid(&cmd("WerFault.exe -p -1")), None);
        assert_eq!(reported_pid(&[]), None);
    }
}
