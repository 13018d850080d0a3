//! The bridge simulator: scenario files, looping, floods, and the `mossy-bridge-sim`
//! binary as a real process, each checked through the real bridge client.
//!
//! The binary tests need `mossy-bridge-sim` built first: `cargo build -p mossy-bridge-sim`
//! puts it beside this test in the target folder (or point `MOSSY_BRIDGE_SIM_BIN` at it).
//! They fail, not skip, when it is missing.

use mossy_core::bridge::{Frame, parse_frame, spawn_bridge_client};
use mossy_core::bus::Bus;
use mossy_core::clock::now_ms;
use mossy_core::sim::{Action, Playback};
use mossy_protocol::bridge::{BridgeMessage, EventTime};
use mossy_protocol::ipc::BridgeStatus;
use mossy_tests::{
    LOOPBACK_ANY_PORT, bare_build_progress, bare_tool_detected, bridge_fixture, client_config,
    load_scenario, next_message, sim_binary, start_playback, start_sim, wait_retrying, within,
};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn loops_a_scenario_and_floods_with_stamped_messages() {
    let looped = Playback::Scenario {
        scenario: load_scenario("bare.jsonl"),
        looping: true,
    };
    let flood = Playback::Flood {
        per_second: 500,
        duration: std::time::Duration::from_secs(2),
    };
    let looped = start_playback(looped, LOOPBACK_ANY_PORT).await;
    let flood = start_playback(flood, LOOPBACK_ANY_PORT).await;
    let bus = Bus::new();
    let mut events = bus.subscribe();

    let looping_client = spawn_bridge_client(client_config(&looped.url()), bus.clone());
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(next_message(&mut events).await.0);
    }
    drop(looping_client);
    assert_eq!(
        seen,
        [
            bare_tool_detected(),
            bare_build_progress(),
            bare_tool_detected(),
            bare_build_progress()
        ]
    );

    let _flood_client = spawn_bridge_client(client_config(&flood.url()), bus);
    let mut flood_messages = Vec::new();
    while flood_messages.len() < 4 {
        let (message, received_at_ms) = next_message(&mut events).await;
        let (BridgeMessage::ToolDetected { tool, pid, at }
        | BridgeMessage::ToolExited { tool, pid, at }) = &message
        else {
            // A message from the looping scenario still in flight.
            assert!(message == bare_tool_detected() || message == bare_build_progress());
            continue;
        };
        if pid.is_none() {
            continue; // the looping scenario's bare tool_detected
        }
        let Some(EventTime::UnixMs(at)) = at else {
            panic!("flood message without a Unix-ms stamp: {message:?}");
        };
        assert_eq!(tool, "Blender");
        assert!(
            *at <= received_at_ms,
            "stamped {at}, received {received_at_ms}"
        );
        flood_messages.push((matches!(message, BridgeMessage::ToolDetected { .. }), *pid));
    }
    // A start and an exit per pid, then the next pid: every message changes the monitor.
    assert_eq!(
        flood_messages,
        [
            (true, Some(1_000_000)),
            (false, Some(1_000_000)),
            (true, Some(1_000_001)),
            (false, Some(1_000_001))
        ]
    );
}

#[tokio::test]
async fn demo_scenario_sends_only_messages_the_client_accepts() {
    let scenario = load_scenario("demo.jsonl");
    let mut kinds = Vec::new();
    for step in scenario.steps() {
        let Action::Send {
            message,
            pad_to_bytes: None,
        } = &step.action
        else {
            panic!("the demo should only send plain messages: {step:?}");
        };
        let mut message = message.clone();
        if message.get("at").and_then(serde_json::Value::as_str) == Some("now") {
            message.insert("at".into(), serde_json::Value::from(now_ms()));
        }
        let text = serde_json::Value::Object(message).to_string();
        match parse_frame(&text) {
            Ok(Frame::Message(_)) => kinds.push(text),
            other => panic!("{text} gave {other:?}"),
        }
    }
    for kind in [
        "tool_detected",
        "tool_exited",
        "build_started",
        "build_progress",
        "build_log",
        "build_complete",
        "asset_changed",
        "generation_progress",
        "generation_complete",
    ] {
        let tag = format!(r#""type":"{kind}""#);
        assert!(
            kinds.iter().any(|text| text.contains(&tag)),
            "the demo never sends {kind}"
        );
    }
}

#[tokio::test]
async fn every_shipped_scenario_parses() {
    let dir = bridge_fixture("");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixture folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".jsonl") {
            load_scenario(&name);
            names.push(name);
        }
    }
    for shipped in [
        "bad-frames.jsonl",
        "bare.jsonl",
        "demo.jsonl",
        "die-mid-frame.jsonl",
        "tools.jsonl",
    ] {
        assert!(
            names.iter().any(|name| name == shipped),
            "{shipped} is missing"
        );
    }
}

#[tokio::test]
async fn sim_binary_serves_a_scenario_to_the_client() {
    let mut sim = tokio::process::Command::new(sim_binary())
        .args(["--listen", LOOPBACK_ANY_PORT, "--scenario"])
        .arg(bridge_fixture("bare.jsonl"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("mossy-bridge-sim starts");
    let stdout = sim.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = within("the listening line", lines.next_line())
        .await
        .expect("read stdout");
    let url = first
        .as_deref()
        .and_then(|line| line.strip_prefix("listening on "))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let bus = Bus::new();
    let mut events = bus.subscribe();

    let _client = spawn_bridge_client(client_config(&url), bus);

    assert!(
        url.starts_with("ws://127.0.0.1:") && url.ends_with("/bridge"),
        "{url}"
    );
    assert_eq!(next_message(&mut events).await.0, bare_tool_detected());
    assert_eq!(next_message(&mut events).await.0, bare_build_progress());
    sim.kill().await.expect("stop mossy-bridge-sim");
}

#[tokio::test]
async fn sim_binary_refuses_a_non_loopback_address() {
    let output = tokio::process::Command::new(sim_binary())
        .args(["--listen", "0.0.0.0:0", "--scenario"])
        .arg(bridge_fixture("bare.jsonl"))
        .kill_on_drop(true)
        .output();

    let output = within("mossy-bridge-sim to exit", output)
        .await
        .expect("it runs");

    assert!(!output.status.success(), "it started anyway");
    assert_eq!(output.stdout, b"", "it printed a listening line");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0.0.0.0:0 is not a loopback address"),
        "{stderr}"
    );
}

#[tokio::test]
async fn serves_only_the_bridge_path() {
    let sim = start_sim("bare.jsonl", LOOPBACK_ANY_PORT).await;
    let url = format!("ws://{}/execute", sim.local_addr());
    let client = spawn_bridge_client(client_config(&url), Bus::new());

    let retrying = wait_retrying(&mut client.watch()).await;

    match retrying.status {
        BridgeStatus::Retrying {
            attempt, reason, ..
        } => {
            assert_eq!(
                (attempt, reason.as_str()),
                (1, "not a bridge: http 404 on upgrade")
            );
        }
        other => panic!("expected a retry, got {other:?}"),
    }
}
