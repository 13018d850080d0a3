//! What the desktop notifications say: which builds just ended, which tool crashed, and the
//! words for each.
//!
//! The app shell watches the Build panel's updates, asks [`EndedBuilds::update`] which
//! builds ended since the last update, and shows one notification for each; it shows
//! [`crash_notice`] for each tool crash the process poller sees. Neither shows while an app
//! window has the focus or when the user turned that kind off.

use std::collections::HashSet;

use mossy_protocol::build::{BuildId, BuildStatus, BuildSummary};

/// The builds last seen running, so each end is announced once.
#[derive(Debug, Default)]
pub struct EndedBuilds {
    running: HashSet<BuildId>,
    seen_first: bool,
}

/// One notification: a title and a line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Short, such as "Build failed".
    pub title: String,
    /// What and how, such as "Quest scripts: 3 errors, 1 warning".
    pub body: String,
}

impl EndedBuilds {
    /// The notices for builds in `history` that were running at the previous call and have
    /// ended now (succeeded or failed; a cancelled build was the user's own doing). The first
    /// call only learns what is running: builds that ended before the app started are old
    /// news.
    pub fn update(&mut self, history: &[BuildSummary]) -> Vec<Notice> {
        let mut notices = Vec::new();
        if self.seen_first {
            for build in history {
                if self.running.contains(&build.id)
                    && let Some(notice) = notice_for(build)
                {
                    notices.push(notice);
                }
            }
        }
        self.seen_first = true;
        self.running = history
            .iter()
            .filter(|build| build.status == BuildStatus::Running)
            .map(|build| build.id)
            .collect();
        notices
    }
}

/// The notice for a tool whose process the operating system reported as crashed.
pub fn crash_notice(tool_name: &str, exe: &str, pid: u32) -> Notice {
    Notice {
        title: format!("{tool_name} stopped working"),
        body: format!(
            "Windows reported a crash of {exe} (pid {pid}); work not saved in it may be lost."
        ),
    }
}

fn notice_for(build: &BuildSummary) -> Option<Notice> {
    let title = match build.status {
        BuildStatus::Succeeded => "Build finished",
        BuildStatus::Failed => "Build failed",
        BuildStatus::Running | BuildStatus::Cancelled => return None,
    };
    let plural = |n: u32, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    Some(Notice {
        title: title.to_owned(),
        body: format!(
            "{}: {}, {}",
            build.title,
            plural(build.errors, "error"),
            plural(build.warnings, "warning")
        ),
    })
}

#[cfg(test)]
mod tests {
    use mossy_protocol::build::BuildSource;

    use super::*;

    fn build(id: i64, status: BuildStatus, errors: u32) -> BuildSummary {
        BuildSummary {
            id: BuildId(id),
            title: format!("Quest scripts {id}"),
            source: BuildSource::Mossy { build_id: None },
            status,
            started_at_ms: 0,
            duration_ms: None,
            errors,
            warnings: 1,
            lines: 10,
        }
    }

    #[test]
    fn a_crash_notice_names_the_tool_and_its_process() {
        assert_eq!(
            crash_notice("Creation Kit", "CreationKit.exe", 4242),
            Notice {
                title: "Creation Kit stopped working".into(),
                body: "Windows reported a crash of CreationKit.exe (pid 4242); work not saved \
                       in it may be lost."
                    .into(),
            }
        );
    }

    #[test]
    fn each_end_is_announced_once_and_old_ends_never() {
        let mut ended = EndedBuilds::default();
        // At start: build 1 ended long ago, build 2 runs.
        let start = [
            build(2, BuildStatus::Running, 0),
            build(1, BuildStatus::Failed, 4),
        ];
        assert_eq!(ended.update(&start), []);

        let now = [
            build(2, BuildStatus::Failed, 3),
            build(1, BuildStatus::Failed, 4),
        ];
        assert_eq!(
            ended.update(&now),
            [Notice {
                title: "Build failed".into(),
                body: "Quest scripts 2: 3 errors, 1 warning".into(),
            }]
        );
        assert_eq!(ended.update(&now), [], "announced once");

        let next = [
            build(4, BuildStatus::Running, 0),
            build(3, BuildStatus::Running, 0),
            build(2, BuildStatus::Failed, 3),
        ];
        assert_eq!(ended.update(&next), []);
        let done = [
            build(4, BuildStatus::Cancelled, 0),
            build(3, BuildStatus::Succeeded, 1),
            build(2, BuildStatus::Failed, 3),
        ];
        assert_eq!(
            ended.update(&done),
            [Notice {
                title: "Build finished".into(),
                body: "Quest scripts 3: 1 error, 1 warning".into(),
            }]
        );
    }
}
