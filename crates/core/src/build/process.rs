//! The platform side of running a build: its own process group, ending the whole tree, and
//! saying in words how a process ended.
//!
//! On Unix the child leads a new process group, so everything it starts (unless it leaves
//! the group on purpose with `setsid`) can be signalled at once with `kill(-pgid)`. A build
//! owns its group: when the build ends, for any reason, whatever is left in the group is
//! killed, so a build never leaves stray helpers behind.
//!
//! On Windows the child is put in a job object set to kill on close: everything it starts
//! joins the job, and closing the job (on cancel, or when the build ends) ends them all.

use std::process::ExitStatus;

use mossy_protocol::build::ProcessEnd;
use tokio::process::{Child, Command};

/// Windows `CREATE_NO_WINDOW`: a console compiler started from the app's window would
/// otherwise flash up a console window of its own for every build.
#[cfg(windows)]
const CREATE_NO_WINDOW: u32 = 0x0800_0000;

/// Puts the child in a process group of its own (on Windows: starts it without a console
/// window).
pub(crate) fn own_group(command: &mut Command) {
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(windows)]
    command.creation_flags(CREATE_NO_WINDOW);
    #[cfg(not(any(unix, windows)))]
    let _ = command;
}

/// The process group of a started child, which ends with the build that owns it.
pub(crate) struct ProcessGroup {
    #[cfg(unix)]
    leader: Option<rustix::process::Pid>,
    /// The kill-on-close job holding the child; taking it out and dropping it ends the tree.
    #[cfg(windows)]
    job: std::sync::Mutex<Option<win32job::Job>>,
}

impl std::fmt::Debug for ProcessGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("ProcessGroup");
        #[cfg(unix)]
        debug.field("leader", &self.leader);
        debug.finish_non_exhaustive()
    }
}

/// A kill-on-close job holding `child`, or `None` (logged) when Windows refuses one, for
/// instance inside a job that forbids nesting; the build then runs without it and cancel
/// ends only the direct child.
#[cfg(windows)]
fn job_for(child: &Child) -> Option<win32job::Job> {
    let attempt = || -> Result<win32job::Job, String> {
        let handle = child.raw_handle().ok_or("the child has already exited")?;
        let job = win32job::Job::create().map_err(|e| e.to_string())?;
        let mut info = job.query_extended_limit_info().map_err(|e| e.to_string())?;
        info.limit_kill_on_job_close();
        job.set_extended_limit_info(&info)
            .map_err(|e| e.to_string())?;
        job.assign_process(handle as isize)
            .map_err(|e| e.to_string())?;
        Ok(job)
    };
    attempt()
        .inspect_err(|error| tracing::warn!(%error, "build not put in a job object"))
        .ok()
}

impl ProcessGroup {
    /// The group led by `child` (started with [`own_group`]).
    pub(crate) fn of(child: &Child) -> Self {
        #[cfg(unix)]
        {
            let leader = child
                .id()
                .and_then(|pid| i32::try_from(pid).ok())
                .and_then(rustix::process::Pid::from_raw);
            Self { leader }
        }
        #[cfg(windows)]
        {
            Self {
                job: std::sync::Mutex::new(job_for(child)),
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            let _ = child;
            Self {}
        }
    }

    /// Closes the job, which ends every process in it.
    #[cfg(windows)]
    fn close_job(&self) {
        let job = self
            .job
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        drop(job);
    }

    /// Asks every process of the group to stop (SIGTERM), so tools can clean up.
    pub(crate) fn terminate(&self, child: &mut Child) {
        #[cfg(unix)]
        {
            let _ = child;
            self.signal(rustix::process::Signal::TERM);
        }
        // Windows has no polite stop for a console program we do not own a console for.
        #[cfg(windows)]
        self.close_job();
        #[cfg(not(unix))]
        {
            let _ = child.start_kill();
        }
    }

    /// Ends every process of the group now (SIGKILL).
    pub(crate) fn kill(&self, child: &mut Child) {
        #[cfg(unix)]
        self.signal(rustix::process::Signal::KILL);
        #[cfg(windows)]
        self.close_job();
        let _ = child.start_kill();
    }

    #[cfg(unix)]
    fn signal(&self, signal: rustix::process::Signal) {
        let Some(leader) = self.leader else {
            return;
        };
        match rustix::process::kill_process_group(leader, signal) {
            // The group is already empty.
            Err(rustix::io::Errno::SRCH) | Ok(()) => {}
            Err(error) => {
                tracing::warn!(pgid = leader.as_raw_nonzero().get(), %error, "signal build group");
            }
        }
    }
}

impl Drop for ProcessGroup {
    /// Whatever the build left in its group goes with it, also when the task running the
    /// build is dropped half-way (the app shutting down, a test failing).
    fn drop(&mut self) {
        #[cfg(unix)]
        self.signal(rustix::process::Signal::KILL);
        #[cfg(windows)]
        self.close_job();
    }
}

/// How `status` ended, as the wire records it.
pub(crate) fn process_end(status: ExitStatus) -> ProcessEnd {
    if let Some(code) = status.code() {
        return ProcessEnd::Exited { code };
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ProcessEnd::Signalled {
                signal,
                name: signal_name(signal).map(str::to_owned),
            };
        }
    }
    ProcessEnd::Lost {
        reason: format!("ended with {status}"),
    }
}

/// One sentence saying why a process that did not succeed ended, for the user.
pub(crate) fn describe(end: &ProcessEnd) -> String {
    match end {
        // Windows reports a crash as an NTSTATUS, e.g. 0xC0000005 for an access violation;
        // as an i32 that is negative, which no real exit code is.
        ProcessEnd::Exited { code } if *code < 0 => {
            format!("crashed with status 0x{:08X}", code.cast_unsigned())
        }
        ProcessEnd::Exited { code } => format!("exited with code {code}"),
        ProcessEnd::Signalled {
            signal,
            name: Some(name),
        } => {
            format!("ended by signal {signal} ({name})")
        }
        ProcessEnd::Signalled { signal, name: None } => format!("ended by signal {signal}"),
        ProcessEnd::NotStarted { reason } | ProcessEnd::Lost { reason } => reason.clone(),
    }
}

/// The usual name of a signal that ends processes.
#[cfg(unix)]
fn signal_name(raw: i32) -> Option<&'static str> {
    use rustix::process::Signal;
    let known = [
        (Signal::HUP, "SIGHUP"),
        (Signal::INT, "SIGINT"),
        (Signal::QUIT, "SIGQUIT"),
        (Signal::ILL, "SIGILL"),
        (Signal::TRAP, "SIGTRAP"),
        (Signal::ABORT, "SIGABRT"),
        (Signal::BUS, "SIGBUS"),
        (Signal::FPE, "SIGFPE"),
        (Signal::KILL, "SIGKILL"),
        (Signal::SEGV, "SIGSEGV"),
        (Signal::PIPE, "SIGPIPE"),
        (Signal::ALARM, "SIGALRM"),
        (Signal::TERM, "SIGTERM"),
    ];
    known
        .iter()
        .find(|(signal, _)| signal.as_raw() == raw)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_every_kind_of_end() {
        assert_eq!(
            describe(&ProcessEnd::Exited { code: 1 }),
            "exited with code 1"
        );
        assert_eq!(
            describe(&ProcessEnd::Exited {
                code: 0xC000_0005_u32.cast_signed()
            }),
            "crashed with status 0xC0000005"
        );
        assert_eq!(
            describe(&ProcessEnd::Signalled {
                signal: 11,
                name: Some("SIGSEGV".into())
            }),
            "ended by signal 11 (SIGSEGV)"
        );
        assert_eq!(
            describe(&ProcessEnd::Signalled {
                signal: 64,
                name: None
            }),
            "ended by signal 64"
        );
    }

    #[cfg(unix)]
    #[test]
    fn names_the_signals_of_crashes_and_kills() {
        assert_eq!(signal_name(6), Some("SIGABRT"));
        assert_eq!(signal_name(9), Some("SIGKILL"));
        assert_eq!(signal_name(11), Some("SIGSEGV"));
        assert_eq!(signal_name(15), Some("SIGTERM"));
        assert_eq!(signal_name(64), None);
    }
}
