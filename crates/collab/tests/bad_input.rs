//! Bad input: refused handshakes, and misbehaving clients that are dropped with one warning
//! while other peers and the stored document carry on.

#[path = "support/hub.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::{SinkExt, StreamExt};
use mossy_collab::{HubClient, HubConfig, HubError, HubLimits, wire};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};
use yrs::sync::{Awareness, Message};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

/// Log lines written by the hub, captured once for the whole test binary.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .init();
        buffer
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Warn lines that mention `room`.
fn warnings_for(room: &str) -> Vec<String> {
    let logs = logs();
    let text = String::from_utf8_lossy(&logs.lock().expect("log buffer")).into_owned();
    let (field, last) = (format!("room={room} "), format!("room={room}"));
    let mentions = |l: &&str| l.contains(&field) || l.ends_with(&last);
    text.lines()
        .filter(|l| l.contains(" WARN "))
        .filter(mentions)
        .map(str::to_owned)
        .collect()
}

/// Sends a raw upgrade request and returns the HTTP status code of the answer.
async fn handshake_status(addr: std::net::SocketAddr, target: &str) -> u16 {
    let mut tcp = TcpStream::connect(addr).await.expect("tcp connects");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut head = [0u8; 12];
    tcp.read_exact(&mut head).await.expect("status line");
    std::str::from_utf8(&head[9..12])
        .expect("ascii")
        .parse()
        .expect("status code")
}

type Raw = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn raw(addr: std::net::SocketAddr, room: &str) -> Raw {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/{room}"))
        .await
        .expect("raw client connects");
    ws
}

/// True once the hub has closed the raw connection.
async fn is_dropped(ws: &mut Raw) -> bool {
    let closed = async {
        loop {
            match ws.next().await {
                Some(Ok(WsMessage::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    };
    tokio::time::timeout(support::SETTLE, closed).await.is_ok()
}

fn update_frame(text: &str) -> Vec<u8> {
    let doc = Doc::new();
    doc.get_or_insert_text(mossy_collab::TEXT_NAME)
        .push(&mut doc.transact_mut(), text);
    wire::encode_update(
        &doc.transact()
            .encode_state_as_update_v1(&StateVector::default()),
    )
}

/// Runs one misbehaving raw client against a room with a well-behaved writer and watcher, and
/// checks that only the bad client went away.
async fn bad_client_is_dropped_alone(room: &str, limits: HubLimits, misbehave: Vec<Vec<u8>>) {
    logs();
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = HubConfig::new(data.path());
    config.bind = "127.0.0.1:0".parse().expect("addr");
    config.limits = limits;
    let hub = mossy_collab::Hub::start(config.clone())
        .await
        .expect("hub starts");
    let addr = hub.local_addr();

    let writer = support::client(addr, room, None).await;
    let watcher = support::client(addr, room, None).await;
    writer.push("load order: ");
    assert!(
        watcher
            .wait_until(support::SETTLE, |c| c.text() == "load order: ")
            .await
    );

    let mut bad = raw(addr, room).await;
    for frame in misbehave {
        if bad.send(WsMessage::Binary(frame.into())).await.is_err() {
            break;
        }
    }
    assert!(
        is_dropped(&mut bad).await,
        "misbehaving client was not dropped"
    );

    writer.push("Unofficial Patch.esp");
    let expected = "load order: Unofficial Patch.esp";
    assert!(
        watcher
            .wait_until(support::SETTLE, |c| c.text() == expected)
            .await
    );
    assert!(
        writer
            .wait_until(support::SETTLE, |c| c.acknowledged() == c.sent())
            .await
    );
    assert_eq!(
        warnings_for(room).len(),
        1,
        "want one warning: {:?}",
        warnings_for(room)
    );

    drop((writer, watcher));
    hub.shutdown().await;
    let hub = mossy_collab::Hub::start(config)
        .await
        .expect("hub restarts");
    let reader = support::client(hub.local_addr(), room, None).await;
    assert!(
        reader
            .wait_until(support::SETTLE, |c| c.text() == expected)
            .await,
        "stored doc"
    );
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_frame_drops_only_that_client() {
    let frame = update_frame("Sanctuary Hills");
    let truncated = frame[..frame.len() - 3].to_vec();
    bad_client_is_dropped_alone("truncated", HubLimits::default(), vec![truncated]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_drop_only_that_client() {
    let garbage = b"\x00\x02\x0cnot an update at all".to_vec();
    bad_client_is_dropped_alone("garbage", HubLimits::default(), vec![garbage]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_tag_garbage_drops_only_that_client() {
    let garbage = vec![
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    bad_client_is_dropped_alone("garbage2", HubLimits::default(), vec![garbage]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_update_is_dropped_and_not_stored() {
    let limits = HubLimits {
        max_message_bytes: 64 * 1024,
        ..HubLimits::default()
    };
    let huge = update_frame(&"x".repeat(100 * 1024));
    bad_client_is_dropped_alone("oversized", limits, vec![huge]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awareness_flood_is_dropped() {
    let mut flood = Vec::new();
    for i in 0..500 {
        let mut awareness_state = Awareness::new(Doc::with_client_id(4242));
        awareness_state.set_local_state_raw(format!("{{\"cursor\":{i}}}"));
        let update = awareness_state.update().expect("awareness update");
        flood.push(Message::Awareness(update).encode_v1());
    }
    bad_client_is_dropped_alone("flood", HubLimits::default(), flood).await;
}

// Guards the hub-side cleanup: a peer that vanishes without clearing its awareness state must
// still disappear from the others' view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_peer_awareness_is_removed_for_others() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(data.path(), None).await;
    let watcher = support::client(hub.local_addr(), "presence", None).await;

    let mut ghost = raw(hub.local_addr(), "presence").await;
    let mut awareness = Awareness::new(Doc::with_client_id(777));
    awareness.set_local_state_raw(r#"{"user":{"name":"Nick"}}"#);
    let frame = Message::Awareness(awareness.update().expect("update")).encode_v1();
    ghost
        .send(WsMessage::Binary(frame.into()))
        .await
        .expect("sent");
    assert!(
        watcher
            .wait_until(support::SETTLE, |c| c.peers().contains_key(&777))
            .await
    );

    drop(ghost);
    assert!(
        watcher
            .wait_until(support::SETTLE, |c| c.peers().is_empty())
            .await
    );
    hub.shutdown().await;
}

// y-websocket clients pass on every awareness state they learn. When such a bystander goes,
// the peers whose states it passed on are still here and must stay listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bystander_leaving_does_not_remove_others() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(data.path(), None).await;
    let watcher = support::client(hub.local_addr(), "presence", None).await;
    let nora = support::client(hub.local_addr(), "presence", None).await;
    nora.set_awareness(&serde_json::json!({"user": {"name": "Nora"}}))
        .expect("awareness set");
    let nora_id = nora.client_id();
    assert!(
        watcher
            .wait_until(support::SETTLE, |c| c.peers().contains_key(&nora_id))
            .await
    );

    // The bystander hears Nora's state when it joins and passes it on, as y-websocket does.
    let mut bystander = raw(hub.local_addr(), "presence").await;
    let passed_on = async {
        while let Some(Ok(WsMessage::Binary(bytes))) = bystander.next().await {
            if let Ok(Message::Awareness(update)) = Message::decode_v1(&bytes)
                && update.clients.keys().any(|id| id.get() == nora_id)
            {
                return Some(bytes);
            }
        }
        None
    };
    let frame = tokio::time::timeout(support::SETTLE, passed_on)
        .await
        .ok()
        .flatten()
        .expect("the bystander hears Nora's state");
    bystander
        .send(WsMessage::Binary(frame))
        .await
        .expect("passed on");
    drop(bystander);

    let lost = watcher
        .wait_until(std::time::Duration::from_secs(2), |c| {
            !c.peers().contains_key(&nora_id)
        })
        .await;
    assert!(!lost, "Nora is still listed after the bystander left");
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_token_is_refused_with_401() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(data.path(), Some("right")).await;
    let addr = hub.local_addr();

    for target in [
        "/notes",
        "/notes?token=wrong",
        "/notes?token=righ",
        "/notes?token=right2",
    ] {
        assert_eq!(handshake_status(addr, target).await, 401, "{target}");
    }
    assert_eq!(handshake_status(addr, "/notes?token=right").await, 101);

    let refused = tokio_tungstenite::connect_async(format!("ws://{addr}/notes?token=nope")).await;
    match refused {
        Err(WsError::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected HTTP 401, got {other:?}"),
    }
    let ok = support::client(addr, "notes", Some("right")).await;
    ok.push("still works");
    assert!(
        ok.wait_until(support::SETTLE, |c| c.acknowledged() == 1)
            .await
    );
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_room_names_are_refused_with_400() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(data.path(), None).await;
    let addr = hub.local_addr();

    let long = format!("/{}", "a".repeat(200));
    for target in [
        "/../x",
        "/a/b",
        "/",
        "/.",
        "/..",
        "/a\\b",
        "/a..b",
        "/%2e%2e",
        long.as_str(),
    ] {
        assert_eq!(handshake_status(addr, target).await, 400, "{target}");
    }
    assert_eq!(
        handshake_status(addr, &format!("/{}", "a".repeat(128))).await,
        101
    );
    assert_eq!(handshake_status(addr, "/Fallout4.esm-notes_2").await, 101);
    hub.shutdown().await;
}

#[tokio::test]
async fn public_bind_without_token_refuses_to_start() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut config = HubConfig::new(data.path());
    config.bind = "0.0.0.0:0".parse().expect("addr");
    match mossy_collab::Hub::start(config).await {
        Err(error @ HubError::UnprotectedBind(_)) => {
            assert!(error.to_string().contains("without a token"), "{error}");
        }
        other => panic!("expected UnprotectedBind, got {other:?}"),
    }
}

#[test]
fn invalid_room_is_refused_by_the_client_too() {
    let config = mossy_collab::HubClientConfig::new("ws://127.0.0.1:1", "../x");
    let refused = HubClient::connect(config).map(|_| ());
    assert!(matches!(refused, Err(mossy_collab::ClientError::InvalidRoom(room)) if room == "../x"));
}
