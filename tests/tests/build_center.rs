//! The Build panel's backend state ([`BuildCenter`]) with real parts: builds run the real
//! `mossy-fake-compiler` as a child process, Mossy's builds arrive as bus events (the bridge
//! client's own tests cover the socket), a followed log is a real file, and the history is
//! a SQLite file in a temp folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mossy_core::build::{BuildCenter, BuildCenterConfig, BuildHistory, CenterError};
use mossy_core::bus::{Bus, BusEvent};
use mossy_core::settings::Settings;
use mossy_protocol::bridge::{BridgeMessage, BuildResult, LogStream, Percent};
use mossy_protocol::build::{
    BuildId, BuildProfile, BuildSource, BuildStatus, BuildUpdate, BuildView, Severity,
};
use mossy_tests::{fake_compiler, log_fixture, within};

fn config(home: &Path) -> BuildCenterConfig {
    BuildCenterConfig {
        history_file: home.join("data").join("builds.sqlite3"),
        raw_dir: home.join("data").join("build-output"),
        settings_file: home.join("config").join("settings.toml"),
    }
}

fn fake_profile(name: &str, args: &[&str]) -> BuildProfile {
    BuildProfile {
        name: name.to_owned(),
        program: fake_compiler(),
        args: args.iter().map(|&a| a.to_owned()).collect(),
        working_dir: None,
        env: BTreeMap::new(),
    }
}

/// Waits until the center's update satisfies `done`, and returns it.
async fn wait_for(
    center: &BuildCenter,
    what: &str,
    done: impl Fn(&BuildUpdate) -> bool,
) -> BuildUpdate {
    let mut subscription = center.subscribe();
    within(what, async {
        loop {
            let update = subscription.next_update().await.expect("center alive");
            if done(&update) {
                return update;
            }
        }
    })
    .await
}

fn current(update: &BuildUpdate) -> &BuildView {
    update.current.as_ref().expect("a current build")
}

fn ended(id: BuildId) -> impl Fn(&BuildUpdate) -> bool {
    move |u| {
        u.current
            .as_ref()
            .is_some_and(|c| c.id == id && c.status != BuildStatus::Running)
    }
}

#[tokio::test]
async fn a_profile_build_is_parsed_numbered_stored_and_reads_back_from_history() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let profile = fake_profile(
        "Settlers #2 — ü",
        &["replay", &log_fixture("cascading-errors.log"), "2"],
    );
    let center = BuildCenter::start(config(home.path()), vec![profile.clone()], &bus);

    let id = center.start_profile(&profile.name).expect("starts");
    let update = wait_for(&center, "the build to end", ended(id)).await;
    let view = current(&update);
    assert_eq!(view.status, BuildStatus::Failed);
    assert_eq!(
        view.source,
        BuildSource::Profile {
            name: profile.name.clone()
        }
    );
    assert_eq!(view.snapshot.errors, 5);
    assert_eq!(view.snapshot.progress.announced, Some(4));
    assert_eq!(view.snapshot.progress.finished, 4);
    let files: Vec<(&str, usize)> = view
        .snapshot
        .files
        .iter()
        .map(|f| (f.file.as_deref().unwrap_or(""), f.diagnostics.len()))
        .collect();
    assert_eq!(
        files,
        [
            (
                r"C:\Mods\Settlers\Scripts\Source\User\SettlementWorkshopScript.psc",
                4
            ),
            (
                r"C:\Mods\Settlers\Scripts\Source\User\SettlementVendorScript.psc",
                1
            ),
        ]
    );
    // Every diagnostic points at the log line it was read from.
    for diagnostic in view.snapshot.files.iter().flat_map(|f| &f.diagnostics) {
        let number = diagnostic.log_line.expect("a log line");
        let page = center.log_range(id, number - 1, 1, false).expect("reads");
        assert!(
            page.lines[0].text.contains(&diagnostic.message),
            "line {number} {:?} holds {:?}",
            page.lines[0].text,
            diagnostic.message
        );
        assert_eq!(page.lines[0].stream, LogStream::Stderr);
        assert_eq!(diagnostic.severity, Severity::Error);
    }
    // Errors only: the five stderr lines, in order.
    let problems = center.log_range(id, 0, 100, true).expect("reads");
    assert_eq!(problems.lines.len(), 5);
    assert_eq!(view.problem_lines, 5);
    assert!(problems.lines.iter().all(|l| l.stream == LogStream::Stderr));
    // Search finds, wraps, and goes backwards.
    let first = center
        .search(id, "workshopparent", 0, false)
        .expect("searches");
    assert_eq!(first, Some(problems.lines[0].number));
    assert_eq!(
        center
            .search(id, "Batch compile", 0, true)
            .expect("searches"),
        Some(view.lines)
    );

    // The raw output keeps every byte the program printed.
    let raw = std::fs::read_to_string(
        home.path()
            .join(format!("data/build-output/{}/stderr.log", id.0)),
    )
    .expect("raw stderr kept");
    assert_eq!(raw.lines().count(), 5);

    // After a restart of the center, the build reads back from the history as it was.
    let whole = center.log_range(id, 0, 1_000, false).expect("reads");
    let stored_view = {
        // The write happens off the async threads just after the end; wait for the row in
        // the file itself, through a second connection.
        let history_file = config(home.path()).history_file;
        within("the history row", async {
            loop {
                let (history, _) = BuildHistory::open(&history_file).expect("opens");
                if history
                    .list(5)
                    .expect("lists")
                    .iter()
                    .any(|h| h.id == id && h.lines > 0)
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        drop(center);
        let again = BuildCenter::start(config(home.path()), vec![profile], &bus);
        let listed = again.update().history;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].errors, 5);
        assert_eq!(again.log_range(id, 0, 1_000, false).expect("reads"), whole);
        again.view(id).expect("loads")
    };
    assert_eq!(stored_view.snapshot, view.snapshot);
    assert_eq!(stored_view.status, BuildStatus::Failed);
}

#[tokio::test]
async fn a_running_build_is_cancelled_with_its_process() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let profile = fake_profile("sleeper", &["sleep", "30"]);
    let center = BuildCenter::start(config(home.path()), vec![profile], &bus);
    let id = center.start_profile("sleeper").expect("starts");
    assert!(matches!(
        center.start_profile("sleeper"),
        Err(CenterError::AlreadyRunning)
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    center.cancel(id).expect("cancels");
    let update = wait_for(&center, "the cancel", ended(id)).await;
    assert_eq!(current(&update).status, BuildStatus::Cancelled);
    assert!(matches!(center.cancel(id), Err(CenterError::NotRunning)));
}

#[tokio::test]
async fn a_missing_program_is_a_failed_build_with_the_reason() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let profile = BuildProfile {
        name: "ghost".into(),
        program: home
            .path()
            .join("no such compiler.exe")
            .to_string_lossy()
            .into_owned(),
        args: Vec::new(),
        working_dir: None,
        env: BTreeMap::new(),
    };
    let center = BuildCenter::start(config(home.path()), vec![profile], &bus);
    let id = center.start_profile("ghost").expect("a build is recorded");
    let update = wait_for(&center, "the failed start", ended(id)).await;
    let view = current(&update);
    assert_eq!(view.status, BuildStatus::Failed);
    let reason = view.reason.as_deref().expect("a reason");
    assert!(reason.contains("not found"), "{reason}");
    assert!(matches!(
        center.start_profile("nope"),
        Err(CenterError::NoSuchProfile(_))
    ));
}

fn mossy(bus: &Bus, message: BridgeMessage) {
    bus.publish(BusEvent::BridgeMessageReceived {
        message,
        received_at_ms: mossy_core::clock::now_ms(),
    });
}

#[tokio::test]
async fn mossy_builds_open_progress_log_and_end() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let center = BuildCenter::start(config(home.path()), Vec::new(), &bus);

    // A bare progress message opens a build.
    mossy(
        &bus,
        BridgeMessage::BuildProgress {
            build_id: None,
            percent: Percent::new(42.0),
            message: None,
        },
    );
    let update = wait_for(&center, "the bare progress build", |u| {
        u.current.as_ref().is_some_and(|c| c.percent == Some(42.0))
    })
    .await;
    let bare = current(&update).id;
    assert_eq!(
        current(&update).source,
        BuildSource::Mossy { build_id: None }
    );

    // A build with an id, its lines, its progress and its end.
    mossy(
        &bus,
        BridgeMessage::BuildStarted {
            build_id: Some("b7".into()),
            title: Some("Quest scripts".into()),
            at: None,
        },
    );
    mossy(
        &bus,
        BridgeMessage::BuildLog {
            build_id: Some("b7".into()),
            stream: Some(LogStream::Stderr),
            line: r"C:\Mods\Quest.psc(3,1): variable Foo is undefined".into(),
        },
    );
    mossy(
        &bus,
        BridgeMessage::BuildProgress {
            build_id: Some("b7".into()),
            percent: Percent::new(80.0),
            message: Some("Compiling Quest".into()),
        },
    );
    mossy(
        &bus,
        BridgeMessage::BuildComplete {
            build_id: Some("b7".into()),
            result: Some(BuildResult::Failed),
            at: None,
        },
    );
    let update = wait_for(&center, "Mossy's build to end", |u| {
        u.current
            .as_ref()
            .is_some_and(|c| c.title == "Quest scripts" && c.status == BuildStatus::Failed)
    })
    .await;
    let view = current(&update);
    assert_eq!(view.percent, Some(80.0));
    assert_eq!(view.message.as_deref(), Some("Compiling Quest"));
    assert_eq!(view.snapshot.errors, 1);
    assert_eq!(view.snapshot.files[0].diagnostics[0].log_line, Some(1));
    // The bare build is still running and listed.
    assert!(
        update
            .history
            .iter()
            .any(|h| h.id == bare && h.status == BuildStatus::Running)
    );

    // An error for no running build still shows, as a failed build.
    center.cancel(bare).expect("stops watching");
    mossy(
        &bus,
        BridgeMessage::BuildError {
            build_id: None,
            error: Some("Papyrus compiler not found".into()),
        },
    );
    let update = wait_for(&center, "the error build", |u| {
        u.current
            .as_ref()
            .is_some_and(|c| c.reason.as_deref() == Some("Papyrus compiler not found"))
    })
    .await;
    assert_eq!(current(&update).status, BuildStatus::Failed);
}

#[tokio::test]
async fn a_followed_log_streams_until_stopped() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let center = BuildCenter::start(config(home.path()), Vec::new(), &bus);
    let folder = home.path().join("My Games #1").join("Fallout4 ü");
    std::fs::create_dir_all(&folder).expect("folder");
    let log = folder.join("Papyrus.0.log");
    std::fs::write(&log, "[12/04/2026 - 10:00:00PM] Papyrus log opened (PC)\n").expect("writes");

    assert!(matches!(
        center.follow_log(Path::new("relative.log")),
        Err(CenterError::InvalidLogFile(_))
    ));
    assert!(matches!(
        center.follow_log(&folder.join("missing.log")),
        Err(CenterError::InvalidLogFile(_))
    ));
    let id = center.follow_log(&log).expect("follows");
    wait_for(&center, "the first line", |u| {
        u.current
            .as_ref()
            .is_some_and(|c| c.id == id && c.lines == 1)
    })
    .await;
    std::fs::write(
        &log,
        "[12/04/2026 - 10:00:01PM] error: Cannot call X() on a None object\n",
    )
    .expect("truncates and writes");
    let update = wait_for(&center, "the truncation notice and new line", |u| {
        u.current
            .as_ref()
            .is_some_and(|c| c.id == id && c.lines >= 3)
    })
    .await;
    let page = center.log_range(id, 0, 10, false).expect("reads");
    let texts: Vec<&str> = page.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts[0],
        "[12/04/2026 - 10:00:00PM] Papyrus log opened (PC)"
    );
    assert!(texts[1].contains("truncated"), "{texts:?}");
    assert!(texts[2].contains("Cannot call X()"), "{texts:?}");
    assert_eq!(
        current(&update).source,
        BuildSource::LogFile {
            path: log.display().to_string()
        }
    );

    center.cancel(id).expect("stops");
    let update = wait_for(&center, "the follow to stop", ended(id)).await;
    assert_eq!(current(&update).status, BuildStatus::Cancelled);
}

#[tokio::test]
async fn profiles_are_validated_and_saved_in_settings() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let config = config(home.path());
    let center = BuildCenter::start(config.clone(), Vec::new(), &bus);
    let profile = fake_profile("  Quest scripts  ", &["exit", "0"]);
    center.save_profile(profile.clone(), None).expect("saves");
    let saved = Settings::load(&config.settings_file).expect("loads");
    assert_eq!(saved.builds.profiles.len(), 1);
    assert_eq!(
        saved.builds.profiles[0].name, "Quest scripts",
        "name trimmed"
    );
    assert_eq!(center.update().profiles, saved.builds.profiles);

    let clash = center.save_profile(fake_profile("Quest scripts", &[]), None);
    assert!(matches!(clash, Err(CenterError::InvalidProfile(_))));
    let nameless = center.save_profile(fake_profile(" ", &[]), None);
    assert!(matches!(nameless, Err(CenterError::InvalidProfile(_))));

    // Renaming replaces in place.
    center
        .save_profile(
            fake_profile("Quests", &["exit", "0"]),
            Some("Quest scripts"),
        )
        .expect("renames");
    let names: Vec<String> = center
        .update()
        .profiles
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Quests"]);

    // A settings file that cannot be read is never overwritten.
    std::fs::write(&config.settings_file, "[bridge\nurl = ").expect("breaks it");
    let refused = center.save_profile(fake_profile("Other", &[]), None);
    assert!(matches!(refused, Err(CenterError::Settings(_))));
    assert_eq!(
        std::fs::read_to_string(&config.settings_file).expect("reads"),
        "[bridge\nurl = "
    );
    center
        .delete_profile("Quests")
        .expect_err("cannot save either");
}

#[tokio::test]
async fn streamed_updates_carry_only_new_diagnostics() {
    let home = tempfile::tempdir().expect("temp dir");
    let bus = Bus::new();
    let center = BuildCenter::start(config(home.path()), Vec::new(), &bus);
    let mut subscription = center.subscribe();
    let error_line = |n: u32| BridgeMessage::BuildLog {
        build_id: Some("b1".into()),
        stream: Some(LogStream::Stderr),
        line: format!(r"C:\Mods\Script{n}.psc({n},1): variable Foo is undefined"),
    };
    // Collects (from, count) of non-empty deltas until `total` diagnostics arrived.
    async fn collect(
        subscription: &mut mossy_core::build::BuildSubscription,
        total: usize,
        seen: &mut Vec<(u32, usize)>,
    ) {
        within("the deltas", async {
            while seen.iter().map(|s| s.1).sum::<usize>() < total {
                let update = subscription
                    .next_delta_update()
                    .await
                    .expect("center alive");
                if let Some(current) = &update.current {
                    assert!(
                        current.snapshot.files.is_empty(),
                        "files come as deltas only"
                    );
                }
                if let Some(delta) = update.diagnostics.filter(|d| !d.items.is_empty()) {
                    seen.push((delta.from, delta.items.len()));
                }
            }
        })
        .await;
    }

    mossy(
        &bus,
        BridgeMessage::BuildStarted {
            build_id: Some("b1".into()),
            title: None,
            at: None,
        },
    );
    mossy(&bus, error_line(1));
    let mut seen = Vec::new();
    collect(&mut subscription, 1, &mut seen).await;
    mossy(&bus, error_line(2));
    mossy(&bus, error_line(3));
    collect(&mut subscription, 3, &mut seen).await;
    assert_eq!(seen[0], (0, 1), "the first delta starts at 0");
    let mut next = 0;
    for (from, count) in &seen {
        assert_eq!(
            *from as usize, next,
            "each delta follows the last: {seen:?}"
        );
        next += count;
    }

    // A new build starts again from 0, with none yet.
    mossy(
        &bus,
        BridgeMessage::BuildStarted {
            build_id: Some("b2".into()),
            title: None,
            at: None,
        },
    );
    let delta = within("the new build's delta", async {
        loop {
            let update = subscription
                .next_delta_update()
                .await
                .expect("center alive");
            if let Some(delta) = update
                .diagnostics
                .filter(|d| d.from == 0 && d.items.is_empty())
            {
                return delta;
            }
        }
    })
    .await;
    assert_eq!(Some(delta.build), center.update().current.map(|c| c.id));
}
