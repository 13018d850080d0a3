//! A client alone in a room still hears from the hub: its own awareness comes back to it, as
//! from the reference y-websocket server. y-websocket closes a connection that received
//! nothing for 30 s; without the echo an editor alone in a room would reconnect, and sync the
//! whole document again, twice a minute.

#[path = "support/hub.rs"]
mod support;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use yrs::Doc;
use yrs::sync::{Awareness, Message};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

/// The lone client's Yjs client id.
const LONE_CLIENT: u64 = 4321;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_clients_awareness_comes_back_to_it() {
    let data = tempfile::tempdir().expect("temp dir");
    let hub = support::start_hub(data.path(), None).await;
    let (mut lone, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/alone", hub.local_addr()))
            .await
            .expect("connects");

    let mut awareness = Awareness::new(Doc::with_client_id(LONE_CLIENT));
    awareness.set_local_state_raw(r#"{"user":{"name":"Solo"}}"#);
    let frame = Message::Awareness(awareness.update().expect("update")).encode_v1();
    lone.send(WsMessage::Binary(frame.into()))
        .await
        .expect("sent");

    let echoed = async {
        while let Some(Ok(message)) = lone.next().await {
            let WsMessage::Binary(bytes) = message else {
                continue;
            };
            if let Ok(Message::Awareness(update)) = Message::decode_v1(&bytes)
                && update.clients.keys().any(|id| id.get() == LONE_CLIENT)
            {
                return true;
            }
        }
        false
    };
    let echoed = tokio::time::timeout(support::SETTLE, echoed).await;
    assert_eq!(
        echoed,
        Ok(true),
        "the hub sends the lone client's awareness back"
    );
    hub.shutdown().await;
}
