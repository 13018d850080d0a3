//! The bridge client against real WebSocket servers on loopback.
//!
//! Most tests run the simulator in-process (`mossy_core::sim`) with the scenario files in
//! `tests/fixtures/bridge/`; a bare tokio-tungstenite server ([`RawBridge`]) covers what a
//! scenario cannot express, such as reading what the client sends or a frame over the socket
//! cap. The simulator itself, and its binary, are tested in `bridge_sim.rs`.

use futures_util::SinkExt;
use mossy_core::bridge::{
    APP_NAME, BridgeConfig, SOCKET_MAX_MESSAGE_BYTES, SendError, spawn_bridge_client,
};
use mossy_core::bus::{Bus, BusEvent};
use mossy_core::clock::now_ms;
use mossy_protocol::bridge::{BridgeMessage, ClientMessage, EventTime};
use mossy_protocol::ipc::{BridgeCounters, BridgeStatus, BridgeUpdate};
use mossy_tests::{
    FAST_RETRY, LOOPBACK_ANY_PORT, RawBridge, bare_build_progress, bare_tool_detected,
    client_config, next_event, next_from_client, next_message, refused_addr, start_sim,
    wait_connected, wait_for_update, wait_retrying,
};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn receives_the_two_bare_messages_mossy_sends_today() {
    let sim = start_sim("bare.jsonl", LOOPBACK_ANY_PORT).await;
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let before = now_ms();

    let client = spawn_bridge_client(client_config(&sim.url()), bus);

    let mut statuses = Vec::new();
    let mut messages = Vec::new();
    while messages.len() < 2 {
        match next_event(&mut events, "two messages", Some).await {
            BusEvent::BridgeStatusChanged(status) => statuses.push(status),
            BusEvent::BridgeMessageReceived {
                message,
                received_at_ms,
            } => {
                assert!(
                    (before..=now_ms()).contains(&received_at_ms),
                    "{received_at_ms}"
                );
                messages.push(message);
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(
        statuses,
        [
            BridgeStatus::Connecting { url: sim.url() },
            BridgeStatus::Connected { url: sim.url() }
        ]
    );
    assert_eq!(messages, [bare_tool_detected(), bare_build_progress()]);

    let update = wait_for_update(&mut client.watch(), "two accepted", |u| {
        u.counters.accepted == 2
    })
    .await;
    assert_eq!(
        update,
        BridgeUpdate {
            status: BridgeStatus::Connected { url: sim.url() },
            counters: BridgeCounters {
                accepted: 2,
                unknown: 0,
                dropped: 0
            },
        }
    );
    client.shutdown().await;
    sim.stop().await;
}

#[tokio::test]
async fn resolves_explicit_event_times_from_the_tools_fixture() {
    let sim = start_sim("tools.jsonl", LOOPBACK_ANY_PORT).await;
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let _client = spawn_bridge_client(client_config(&sim.url()), bus);

    let (detected, _) = next_message(&mut events).await;
    let (exited, _) = next_message(&mut events).await;

    assert_eq!(
        [detected, exited],
        [
            BridgeMessage::ToolDetected {
                tool: "Blender".into(),
                pid: Some(4242),
                at: Some(EventTime::UnixMs(1_796_378_400_000)),
            },
            BridgeMessage::ToolExited {
                tool: "Blender".into(),
                pid: Some(4242),
                at: Some(EventTime::UnixMs(1_796_378_700_500)),
            },
        ]
    );
}

// Guards against a bad frame closing the connection or hiding the good frames around it.
#[tokio::test]
async fn drops_bad_frames_and_keeps_the_connection() {
    let sim = start_sim("bad-frames.jsonl", LOOPBACK_ANY_PORT).await;
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let client = spawn_bridge_client(client_config(&sim.url()), bus);
    let last = BridgeMessage::ToolExited {
        tool: "Blender".into(),
        pid: None,
        at: None,
    };

    let mut statuses = Vec::new();
    let mut messages = Vec::new();
    while messages.last() != Some(&last) {
        match next_event(&mut events, "the last good frame", Some).await {
            BusEvent::BridgeStatusChanged(status) => statuses.push(status),
            BusEvent::BridgeMessageReceived { message, .. } => messages.push(message),
            other => panic!("unexpected event {other:?}"),
        }
    }

    assert_eq!(
        statuses,
        [
            BridgeStatus::Connecting { url: sim.url() },
            BridgeStatus::Connected { url: sim.url() }
        ]
    );
    assert_eq!(
        messages,
        [bare_tool_detected(), bare_build_progress(), last]
    );
    let update = wait_for_update(&mut client.watch(), "all counted", |u| {
        u.counters.accepted == 3
    })
    .await;
    assert_eq!(
        update,
        BridgeUpdate {
            status: BridgeStatus::Connected { url: sim.url() },
            counters: BridgeCounters {
                accepted: 3,
                unknown: 2,
                dropped: 10
            },
        }
    );
}

#[tokio::test]
async fn reconnects_after_bridge_restart() {
    let sim = start_sim("bare.jsonl", LOOPBACK_ANY_PORT).await;
    let addr = sim.local_addr().to_string();
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let client = spawn_bridge_client(client_config(&sim.url()), bus);
    let mut updates = client.watch();
    assert_eq!(next_message(&mut events).await.0, bare_tool_detected());
    assert_eq!(next_message(&mut events).await.0, bare_build_progress());

    sim.stop().await;
    let retrying = wait_retrying(&mut updates).await;
    let sim = start_sim("bare.jsonl", &addr).await;
    wait_connected(&mut updates).await;

    assert!(
        matches!(retrying.status, BridgeStatus::Retrying { attempt: 1, .. }),
        "{retrying:?}"
    );
    assert_eq!(next_message(&mut events).await.0, bare_tool_detected());
    assert_eq!(next_message(&mut events).await.0, bare_build_progress());
    let update = wait_for_update(&mut updates, "four accepted", |u| u.counters.accepted == 4).await;
    assert_eq!(
        update.counters,
        BridgeCounters {
            accepted: 4,
            unknown: 0,
            dropped: 0
        }
    );
    sim.stop().await;
}

#[tokio::test]
async fn reconnects_after_the_bridge_dies_mid_frame() {
    let sim = start_sim("die-mid-frame.jsonl", LOOPBACK_ANY_PORT).await;
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let client = spawn_bridge_client(client_config(&sim.url()), bus);
    let mut updates = client.watch();
    let xedit = BridgeMessage::ToolDetected {
        tool: "xEdit".into(),
        pid: None,
        at: None,
    };

    assert_eq!(next_message(&mut events).await.0, xedit);
    let retrying = wait_retrying(&mut updates).await;
    wait_connected(&mut updates).await;
    assert_eq!(next_message(&mut events).await.0, xedit);

    match retrying.status {
        BridgeStatus::Retrying {
            url,
            attempt,
            reason,
            ..
        } => {
            assert_eq!(
                (url, attempt, reason.as_str()),
                (sim.url(), 1, "connection dropped without a close")
            );
        }
        other => panic!("expected a retry, got {other:?}"),
    }
    assert_eq!(
        updates.borrow().counters.dropped,
        0,
        "a cut frame is not a dropped frame"
    );
}

#[tokio::test]
async fn retries_a_refused_connection_with_growing_capped_delay() {
    let url = format!("ws://{}/bridge", refused_addr().await);
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let _client = spawn_bridge_client(client_config(&url), bus);

    let mut retries = Vec::new();
    while retries.len() < 6 {
        let status = next_event(&mut events, "six retries", |event| match event {
            BusEvent::BridgeStatusChanged(status @ BridgeStatus::Retrying { .. }) => Some(status),
            BusEvent::BridgeStatusChanged(BridgeStatus::Connected { .. }) => {
                panic!("connected to a closed port")
            }
            _ => None,
        })
        .await;
        retries.push((status, now_ms()));
    }

    let delays: Vec<i64> = (1..=6)
        .map(|failures| millis(FAST_RETRY.delay(failures)))
        .collect();
    assert_eq!(
        delays,
        [50, 100, 200, 200, 200, 200],
        "doubling, capped at 200 ms"
    );
    let mut previous_start: Option<(i64, i64)> = None;
    for (index, (status, seen_at)) in retries.into_iter().enumerate() {
        let BridgeStatus::Retrying {
            url: got_url,
            retry_at_ms,
            attempt,
            reason,
        } = status
        else {
            panic!("not a retry: {status:?}");
        };
        let failures = u32::try_from(index + 1).expect("small");
        assert_eq!(
            (got_url.as_str(), attempt, reason.as_str()),
            (url.as_str(), failures, "connection refused")
        );

        // The announced wait is this attempt's delay, measured from when it was announced.
        let delay = delays[index];
        assert!(
            retry_at_ms - seen_at <= delay,
            "attempt {attempt} waits past {delay} ms"
        );
        let started = retry_at_ms - delay;
        // The client really waited out the previous delay (1 ms for clock rounding).
        if let Some((previous_started, previous_delay)) = previous_start {
            assert!(
                started - previous_started + 1 >= previous_delay,
                "attempt {attempt} came {} ms after the previous, before its {previous_delay} ms",
                started - previous_started
            );
        }
        previous_start = Some((started, delay));
    }
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).expect("a short duration")
}

#[tokio::test]
async fn says_hello_then_sends_what_the_app_queues() {
    let server = RawBridge::bind().await;
    let client = spawn_bridge_client(client_config(&server.url()), Bus::new());
    let mut socket = server.accept().await;

    let hello = next_from_client(&mut socket).await;
    wait_connected(&mut client.watch()).await;
    let preview = ClientMessage::GeneratePreview {
        request_id: "r1".into(),
        asset: "Textures/Armor/cuirass_d.dds".into(),
        prompt: "rusty".into(),
    };
    client
        .send(preview.clone())
        .expect("queued while connected");
    let sent = next_from_client(&mut socket).await;

    let decode = |message: Option<Message>| -> ClientMessage {
        let Some(Message::Text(text)) = message else {
            panic!("not text: {message:?}")
        };
        serde_json::from_str(text.as_str()).expect("a client message")
    };
    assert_eq!(
        decode(hello),
        ClientMessage::Hello {
            app: APP_NAME.into(),
            version: env!("CARGO_PKG_VERSION").into()
        }
    );
    assert_eq!(decode(sent), preview);
}

#[tokio::test]
async fn refuses_to_send_while_not_connected() {
    let url = format!("ws://{}/bridge", refused_addr().await);
    let client = spawn_bridge_client(client_config(&url), Bus::new());
    wait_retrying(&mut client.watch()).await;

    let hello = ClientMessage::Hello {
        app: APP_NAME.into(),
        version: "0".into(),
    };
    assert_eq!(client.send(hello), Err(SendError::NotConnected));
}

#[tokio::test]
async fn disabled_bridge_never_connects() {
    let server = RawBridge::bind().await;
    let config = BridgeConfig {
        enabled: false,
        ..client_config(&server.url())
    };

    let client = spawn_bridge_client(config, Bus::new());

    assert_eq!(
        client.current(),
        BridgeUpdate {
            status: BridgeStatus::Disabled,
            counters: BridgeCounters::default()
        }
    );
    let stray = server
        .try_accept(std::time::Duration::from_millis(300))
        .await;
    assert!(stray.is_none(), "a disabled client connected");
}

#[tokio::test]
async fn shutdown_closes_the_socket_politely() {
    let server = RawBridge::bind().await;
    let client = spawn_bridge_client(client_config(&server.url()), Bus::new());
    let mut socket = server.accept().await;
    next_from_client(&mut socket).await;

    client.shutdown().await;

    assert_eq!(
        next_from_client(&mut socket).await,
        Some(Message::Close(None))
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_client() {
    let server = RawBridge::bind().await;
    let client = spawn_bridge_client(client_config(&server.url()), Bus::new());
    let mut socket = server.accept().await;
    next_from_client(&mut socket).await;

    drop(client);

    assert_eq!(
        next_from_client(&mut socket).await,
        Some(Message::Close(None))
    );
    let again = server.try_accept(FAST_RETRY.max * 3).await;
    assert!(again.is_none(), "a dropped client reconnected");
}

// Guards the documented cap: above SOCKET_MAX_MESSAGE_BYTES the socket errors and the client
// reconnects instead of buffering without end.
#[tokio::test]
async fn reconnects_when_a_frame_exceeds_the_socket_cap() {
    let server = RawBridge::bind().await;
    let bus = Bus::new();
    let mut events = bus.subscribe();
    let client = spawn_bridge_client(client_config(&server.url()), bus);
    let mut updates = client.watch();

    let mut socket = server.accept().await;
    next_from_client(&mut socket).await;
    let huge = "x".repeat(SOCKET_MAX_MESSAGE_BYTES + 1);
    let _ = socket.send(Message::text(huge)).await;
    let retrying = wait_retrying(&mut updates).await;

    let mut socket = server.accept().await;
    socket
        .send(Message::text(
            r#"{"type":"tool_detected","tool":"Blender"}"#,
        ))
        .await
        .expect("send");
    assert_eq!(next_message(&mut events).await.0, bare_tool_detected());
    match retrying.status {
        BridgeStatus::Retrying {
            attempt, reason, ..
        } => assert_eq!(
            (attempt, reason.as_str()),
            (1, "frame over the socket cap: 16777217 bytes, cap 16777216")
        ),
        other => panic!("expected a retry, got {other:?}"),
    }
}
