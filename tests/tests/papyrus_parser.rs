//! The build-output parser on whole compiler transcripts from `tests/fixtures/logs/`.
//!
//! Each test feeds a transcript line by line, as (stream, line) pairs, and compares the
//! complete event list and the final snapshot with what a reader of the transcript expects.

use std::path::PathBuf;

use mossy_core::build::{BuildEvent, BuildState, BuildTracker, PapyrusParser};
use mossy_protocol::bridge::LogStream;
use mossy_protocol::build::{
    BuildProgress, BuildSnapshot, CompilerSummary, Diagnostic, FileDiagnostics, ScriptEntry,
    ScriptStatus, Severity,
};

/// A transcript: its output lines in reading order, and the exit code.
struct Transcript {
    lines: Vec<(LogStream, String)>,
    exit_code: i32,
}

/// Reads `tests/fixtures/logs/<name>` (format in that folder's README).
fn transcript(name: &str) -> Transcript {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/logs")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("the transcript is readable");
    let mut transcript = Transcript {
        lines: Vec::new(),
        exit_code: 0,
    };
    for line in text.lines() {
        let mut chars = line.chars();
        let tag = chars.next();
        let rest = chars.as_str().strip_prefix(' ').unwrap_or(chars.as_str());
        match tag {
            Some('O') => transcript.lines.push((LogStream::Stdout, rest.to_owned())),
            Some('E') => transcript.lines.push((LogStream::Stderr, rest.to_owned())),
            Some('X') => transcript.exit_code = rest.parse().expect("an exit code"),
            Some('#') | None => {}
            Some(other) => panic!("{name}: unknown tag {other:?}"),
        }
    }
    transcript
}

/// Every event of `lines`, end of output included, and the snapshot they fold into.
fn parse(lines: &[(LogStream, String)], exit_code: i32) -> (Vec<BuildEvent>, BuildSnapshot) {
    let mut parser = PapyrusParser::new();
    let mut events = Vec::new();
    for (stream, line) in lines {
        parser.feed(*stream, line, &mut events);
    }
    parser.finish(exit_code == 0, &mut events);

    let mut state = BuildState::new();
    for event in &events {
        state.apply(event);
    }
    (events, state.into_snapshot())
}

fn parse_fixture(name: &str) -> (Vec<BuildEvent>, BuildSnapshot) {
    let transcript = transcript(name);
    parse(&transcript.lines, transcript.exit_code)
}

fn batch(threads: u32, files: u32) -> BuildEvent {
    BuildEvent::BatchStarted { threads, files }
}

fn summary(files: u32, succeeded: u32, failed: u32) -> CompilerSummary {
    CompilerSummary {
        files,
        succeeded,
        failed,
    }
}

fn finished(files: u32, succeeded: u32, failed: u32) -> BuildEvent {
    BuildEvent::BatchFinished(summary(files, succeeded, failed))
}

fn started(name: &str) -> BuildEvent {
    BuildEvent::ScriptStarted {
        name: name.to_owned(),
    }
}

fn succeeded(name: &str) -> BuildEvent {
    BuildEvent::ScriptSucceeded {
        name: name.to_owned(),
    }
}

fn failed(name: &str) -> BuildEvent {
    BuildEvent::ScriptFailed {
        name: name.to_owned(),
    }
}

/// A Papyrus error: no keyword, no code; a zero position means the whole file.
fn error(file: &str, line: u32, column: u32, message: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: Some(file.to_owned()),
        line: (line > 0).then_some(line),
        column: (column > 0).then_some(column),
        code: None,
        message: message.to_owned(),
        log_line: None,
    }
}

fn found(diagnostic: &Diagnostic) -> BuildEvent {
    BuildEvent::DiagnosticFound(diagnostic.clone())
}

fn scripts(entries: &[(&str, ScriptStatus)]) -> Vec<ScriptEntry> {
    let entry = |&(name, status): &(&str, ScriptStatus)| ScriptEntry {
        name: name.into(),
        status,
    };
    entries.iter().map(entry).collect()
}

fn group(file: Option<&str>, diagnostics: &[&Diagnostic]) -> FileDiagnostics {
    FileDiagnostics {
        file: file.map(str::to_owned),
        diagnostics: diagnostics.iter().map(|&d| d.clone()).collect(),
    }
}

fn progress(finished: u32, announced: Option<u32>) -> BuildProgress {
    BuildProgress {
        finished,
        announced,
    }
}

use ScriptStatus::{Failed, Succeeded};

#[test]
fn a_clean_batch_compiles_every_script_and_fills_the_bar() {
    let (events, snapshot) = parse_fixture("success.log");

    assert_eq!(
        events,
        [
            batch(1, 3),
            started("RustyPlateQuestScript"),
            succeeded("RustyPlateQuestScript"),
            started("RustyPlateArmorScript"),
            succeeded("RustyPlateArmorScript"),
            started("RustyPlateMCMScript"),
            succeeded("RustyPlateMCMScript"),
            finished(3, 3, 0),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(3, Some(3)),
            scripts: scripts(&[
                ("RustyPlateQuestScript", Succeeded),
                ("RustyPlateArmorScript", Succeeded),
                ("RustyPlateMCMScript", Succeeded)
            ]),
            files: vec![],
            errors: 0,
            warnings: 0,
            summary: Some(summary(3, 3, 0)),
        }
    );
}

#[test]
fn one_error_fails_its_script_and_points_at_line_and_column() {
    let (events, snapshot) = parse_fixture("one-error.log");

    let file = r"C:\Mods\Scripts\Source\User\MyQuestScript.psc";
    let foo = error(file, 12, 8, "variable Foo is undefined");
    assert_eq!(
        events,
        [
            batch(1, 2),
            started("MyQuestScript"),
            found(&foo),
            failed("MyQuestScript"),
            started("MyQuestAliasScript"),
            succeeded("MyQuestAliasScript"),
            finished(2, 1, 1),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(2, Some(2)),
            scripts: scripts(&[("MyQuestScript", Failed), ("MyQuestAliasScript", Succeeded)]),
            files: vec![group(Some(file), &[&foo])],
            errors: 1,
            warnings: 0,
            summary: Some(summary(2, 1, 1)),
        }
    );
}

#[test]
fn cascading_errors_are_grouped_by_file_first_error_first() {
    let (events, snapshot) = parse_fixture("cascading-errors.log");

    let root = r"C:\Mods\Settlers\Scripts\Source\User";
    let workshop = format!(r"{root}\SettlementWorkshopScript.psc");
    let vendor = format!(r"{root}\SettlementVendorScript.psc");
    let undefined = error(&workshop, 41, 12, "variable WorkshopParent is undefined");
    let mismatched = error(
        &vendor,
        17,
        4,
        "mismatched input 'EndFunction' expecting ENDIF",
    );
    let none_type = error(
        &workshop,
        41,
        27,
        "none is not a known user-defined script type",
    );
    let assign = error(
        &workshop,
        42,
        8,
        "type mismatch while assigning to a workshopscript (cast missing or types unrelated)",
    );
    let call = error(
        &workshop,
        58,
        3,
        "cannot call the member function AssignActor alone or on a type, must call it on a \
         variable",
    );
    assert_eq!(
        events,
        [
            batch(2, 4),
            started("SettlementWorkshopScript"),
            started("SettlementVendorScript"),
            found(&undefined),
            found(&mismatched),
            found(&none_type),
            found(&assign),
            found(&call),
            failed("SettlementVendorScript"),
            failed("SettlementWorkshopScript"),
            started("SettlementBedScript"),
            started("SettlementSignScript"),
            succeeded("SettlementBedScript"),
            succeeded("SettlementSignScript"),
            finished(4, 2, 2),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(4, Some(4)),
            scripts: scripts(&[
                ("SettlementWorkshopScript", Failed),
                ("SettlementVendorScript", Failed),
                ("SettlementBedScript", Succeeded),
                ("SettlementSignScript", Succeeded)
            ]),
            files: vec![
                group(Some(&workshop), &[&undefined, &none_type, &assign, &call]),
                group(Some(&vendor), &[&mismatched]),
            ],
            errors: 5,
            warnings: 0,
            summary: Some(summary(4, 2, 2)),
        }
    );
}

#[test]
fn zero_position_errors_are_about_the_whole_file() {
    let (events, snapshot) = parse_fixture("file-level.log");

    let root = r"C:\Mods\Settlers\Scripts\Source\User";
    let extra = format!(r"{root}\WorkshopNPCExtraScript.psc");
    let flag = format!(r"{root}\WorkshopNPCFlagScript.psc");
    let flags_file = Diagnostic {
        file: None,
        ..error(
            "",
            0,
            0,
            "unable to find flags file: Institute_Papyrus_Flags.flg",
        )
    };
    let no_base = error(
        &extra,
        0,
        0,
        "unable to locate script WorkshopNPCScriptBase",
    );
    let unknown = error(&extra, 5, 13, "unknown type workshopnpcscriptbase");
    let no_flag = error(&flag, 0, 0, "flag \"Conditional\" is not defined");
    assert!(no_base.is_file_level() && no_flag.is_file_level() && !unknown.is_file_level());
    assert_eq!(
        events,
        [
            found(&flags_file),
            batch(1, 2),
            started("WorkshopNPCExtraScript"),
            found(&no_base),
            found(&unknown),
            failed("WorkshopNPCExtraScript"),
            started("WorkshopNPCFlagScript"),
            found(&no_flag),
            failed("WorkshopNPCFlagScript"),
            finished(2, 0, 2),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(2, Some(2)),
            scripts: scripts(&[
                ("WorkshopNPCExtraScript", Failed),
                ("WorkshopNPCFlagScript", Failed)
            ]),
            files: vec![
                group(None, &[&flags_file]),
                group(Some(&extra), &[&no_base, &unknown]),
                group(Some(&flag), &[&no_flag]),
            ],
            errors: 4,
            warnings: 0,
            summary: Some(summary(2, 0, 2)),
        }
    );
}

#[test]
fn namespaced_scripts_keep_their_names_and_colon_positions_parse() {
    let (events, snapshot) = parse_fixture("namespaced.log");

    let file = r"C:\Mods\FarHarborTraps\Scripts\Source\User\DLC03\TrapBear.psc";
    let undefined = error(file, 44, 12, "variable akTarget is undefined");
    let cast = error(
        file,
        45,
        2,
        "cannot cast a none to a actor, types are incompatible",
    );
    assert_eq!(
        events,
        [
            batch(4, 3),
            started("DLC03:TrapBear"),
            started("DLC03:TrapBearTrigger"),
            started("DLC03:Fishing:RodScript"),
            found(&undefined),
            found(&cast),
            failed("DLC03:TrapBear"),
            succeeded("DLC03:TrapBearTrigger"),
            succeeded("DLC03:Fishing:RodScript"),
            finished(3, 2, 1),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(3, Some(3)),
            scripts: scripts(&[
                ("DLC03:TrapBear", Failed),
                ("DLC03:TrapBearTrigger", Succeeded),
                ("DLC03:Fishing:RodScript", Succeeded)
            ]),
            files: vec![group(Some(file), &[&undefined, &cast])],
            errors: 2,
            warnings: 0,
            summary: Some(summary(3, 2, 1)),
        }
    );
}

#[test]
fn paths_with_spaces_accents_and_parentheses_stay_whole() {
    let (events, snapshot) = parse_fixture("spaces-accents.log");

    let windows =
        r"D:\Mod Organizer 2\mods\Éléonore's Rüstung (WIP)\Scripts\Source\User\ÉléonoreQuest.psc";
    let unix = "/home/modder/Fallout 4 Mods/Ölwerk (WIP)/Scripts/Source/User/Ölwerk.psc";
    let key = error(windows, 7, 3, "variable Schlüssel is undefined");
    let typo = error(unix, 2, 15, "mismatched input 'Propert' expecting FUNCTION");
    assert_eq!(
        events,
        [
            batch(1, 3),
            started("ÉléonoreQuest"),
            found(&key),
            failed("ÉléonoreQuest"),
            started("Ölwerk"),
            found(&typo),
            failed("Ölwerk"),
            started("NaïveSettlerScript"),
            succeeded("NaïveSettlerScript"),
            finished(3, 1, 2),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(3, Some(3)),
            scripts: scripts(&[
                ("ÉléonoreQuest", Failed),
                ("Ölwerk", Failed),
                ("NaïveSettlerScript", Succeeded)
            ]),
            files: vec![group(Some(windows), &[&key]), group(Some(unix), &[&typo])],
            errors: 2,
            warnings: 0,
            summary: Some(summary(3, 1, 2)),
        }
    );
}

/// The snapshot `mixed-order.log` must give, whatever the interleaving of its two streams.
fn mixed_order_snapshot() -> BuildSnapshot {
    let root = r"C:\Mods\Phonetic\Scripts\Source\User";
    BuildSnapshot {
        progress: progress(3, Some(3)),
        scripts: scripts(&[("Alpha", Failed), ("Bravo", Succeeded), ("Charlie", Failed)]),
        files: vec![
            group(
                Some(&format!(r"{root}\Alpha.psc")),
                &[&error(
                    &format!(r"{root}\Alpha.psc"),
                    3,
                    5,
                    "no viable alternative at input 'Endfunction'",
                )],
            ),
            group(
                Some(&format!(r"{root}\Charlie.psc")),
                &[&error(
                    &format!(r"{root}\Charlie.psc"),
                    9,
                    1,
                    "mismatched input 'EndEvent' expecting ENDWHILE",
                )],
            ),
        ],
        errors: 2,
        warnings: 0,
        summary: Some(summary(3, 1, 2)),
    }
}

#[test]
fn late_and_early_failures_from_stderr_end_in_the_right_state() {
    let (events, snapshot) = parse_fixture("mixed-order.log");

    let expected = mixed_order_snapshot();
    let alpha = &expected.files[0].diagnostics[0];
    let charlie = &expected.files[1].diagnostics[0];
    assert_eq!(
        events,
        [
            batch(1, 3),
            found(alpha),
            started("Alpha"),
            succeeded("Alpha"),
            started("Bravo"),
            failed("Alpha"),
            found(charlie),
            failed("Charlie"),
            started("Charlie"),
            failed("Charlie"),
            succeeded("Bravo"),
            finished(3, 1, 2),
        ]
    );
    assert_eq!(snapshot, expected);
}

// Guards against the final state depending on how the two pipes happened to interleave.
#[test]
fn any_interleaving_of_stdout_and_stderr_gives_the_same_snapshot() {
    let transcript = transcript("mixed-order.log");
    let of = |stream: LogStream| {
        transcript
            .lines
            .iter()
            .filter(move |(from, _)| *from == stream)
            .cloned()
    };
    let stdout_first: Vec<_> = of(LogStream::Stdout).chain(of(LogStream::Stderr)).collect();
    let stderr_first: Vec<_> = of(LogStream::Stderr).chain(of(LogStream::Stdout)).collect();

    for (order, lines) in [
        ("stdout first", stdout_first),
        ("stderr first", stderr_first),
    ] {
        let (_, snapshot) = parse(&lines, transcript.exit_code);
        assert_eq!(snapshot, mixed_order_snapshot(), "{order}");
    }
}

#[test]
fn without_an_announced_count_progress_is_indeterminate() {
    let (events, snapshot) = parse_fixture("single-script.log");

    assert_eq!(
        events,
        [
            started("HolotapeGameScript"),
            succeeded("HolotapeGameScript")
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(1, None),
            scripts: scripts(&[("HolotapeGameScript", Succeeded)]),
            ..BuildSnapshot::default()
        }
    );
    assert_eq!(snapshot.progress.fraction(), None);
}

#[test]
fn other_tools_diagnostics_carry_severity_and_code_and_the_rest_is_plain() {
    let (events, snapshot) = parse_fixture("other-tools.log");

    let diagnostic =
        |severity, file: Option<&str>, line, column, code: Option<&str>, text| Diagnostic {
            severity,
            file: file.map(str::to_owned),
            line,
            column,
            code: code.map(str::to_owned),
            message: String::from(text),
            log_line: None,
        };
    use Severity::{Error, Warning};
    let helper = "src/f4se_helper.cpp";
    let plugin = r"C:\Users\Modder\Documents\My Games\Helper\plugin.cpp";
    let header = r"C:\Users\Modder\Documents\My Games\Helper\plugin.h";
    let mipmaps = diagnostic(
        Warning,
        None,
        None,
        None,
        None,
        r#"texture "textures\armor\rustyplate\cuirass_n.dds" has no mipmaps"#,
    );
    let undeclared = diagnostic(
        Error,
        Some(helper),
        Some(12),
        Some(3),
        None,
        "use of undeclared identifier 'PapyrusVM'",
    );
    let unused = diagnostic(
        Warning,
        Some(helper),
        Some(40),
        None,
        None,
        "unused variable 'count'",
    );
    let form_type = diagnostic(
        Error,
        Some(plugin),
        Some(88),
        Some(17),
        Some("C2065"),
        "'kFormType_Armor': undeclared identifier",
    );
    let unsafe_call = diagnostic(
        Warning,
        Some(header),
        Some(12),
        None,
        Some("C4996"),
        "'strcpy': This function or variable may be unsafe.",
    );
    let rust = diagnostic(
        Error,
        None,
        None,
        None,
        Some("E0425"),
        "cannot find value `load_order` in this scope",
    );
    assert_eq!(
        events,
        [
            found(&mipmaps),
            found(&undeclared),
            found(&unused),
            found(&form_type),
            found(&unsafe_call),
            found(&rust),
        ]
    );
    assert_eq!(
        snapshot,
        BuildSnapshot {
            progress: progress(0, None),
            scripts: scripts(&[]),
            files: vec![
                group(None, &[&mipmaps, &rust]),
                group(Some(helper), &[&undeclared, &unused]),
                group(Some(plugin), &[&form_type]),
                group(Some(header), &[&unsafe_call]),
            ],
            errors: 3,
            warnings: 3,
            summary: None,
        }
    );
}

#[test]
fn a_new_build_starts_with_empty_error_and_warning_lists() {
    let mut first = BuildTracker::new();
    for (stream, line) in transcript("cascading-errors.log").lines {
        first.feed(stream, &line);
    }
    assert_eq!(first.snapshot().errors, 5);

    let mut second = BuildTracker::new();
    assert_eq!(second.snapshot(), &BuildSnapshot::default());
    for (stream, line) in transcript("success.log").lines {
        second.feed(stream, &line);
    }
    second.finish(true);
    assert_eq!(second.snapshot(), &parse_fixture("success.log").1);
}

#[test]
fn the_tracker_gives_the_same_events_as_parser_and_state() {
    for name in ["one-error.log", "mixed-order.log", "other-tools.log"] {
        let transcript = transcript(name);
        let mut tracker = BuildTracker::new();
        let mut events = Vec::new();
        for (stream, line) in &transcript.lines {
            events.extend_from_slice(tracker.feed(*stream, line));
        }
        events.extend_from_slice(tracker.finish(transcript.exit_code == 0));

        let (expected_events, expected_snapshot) = parse_fixture(name);
        assert_eq!(events, expected_events, "{name}");
        assert_eq!(tracker.snapshot(), &expected_snapshot, "{name}");
    }
}
