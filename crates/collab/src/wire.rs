//! Frame decoding and encoding for the y-websocket wire format, on top of yrs' `sync` module.
//!
//! One WebSocket binary message carries one or more y-protocols messages back to back. yrs'
//! own `MessageReader` stops quietly at a truncated tail, so this module decodes message by
//! message and treats leftover or cut-off bytes as an error: a hub must drop such a peer, not
//! guess. Document updates inside sync messages are decoded too, so only well-formed updates
//! ever reach a room or the store.

use yrs::encoding::read::Cursor;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::{Decode, Decoder, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{StateVector, Update};

/// Why a frame was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame had no bytes at all.
    #[error("empty frame")]
    Empty,
    /// The bytes are not a sequence of complete y-protocols messages.
    #[error("malformed message: {0}")]
    Malformed(#[from] yrs::encoding::read::Error),
    /// A sync message carried bytes that are not a Yjs v1 update.
    #[error("malformed document update: {0}")]
    BadUpdate(yrs::encoding::read::Error),
}

/// Decodes every message in one binary frame, validating embedded document updates.
pub fn decode_frame(data: &[u8]) -> Result<Vec<Message>, FrameError> {
    if data.is_empty() {
        return Err(FrameError::Empty);
    }
    let mut messages = Vec::with_capacity(1);
    let mut offset = 0;
    while offset < data.len() {
        let mut decoder = DecoderV1::new(Cursor::new(&data[offset..]));
        let message = Message::decode(&mut decoder)?;
        let rest = decoder.read_to_end()?.len();
        offset = data.len() - rest;

        if let Message::Sync(SyncMessage::SyncStep2(update) | SyncMessage::Update(update)) =
            &message
        {
            Update::decode_v1(update).map_err(FrameError::BadUpdate)?;
        }
        messages.push(message);
    }
    Ok(messages)
}

/// Encodes a document update as a sync `Update` message.
pub fn encode_update(update: &[u8]) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update.to_vec())).encode_v1()
}

/// Encodes a `SyncStep1` carrying the sender's state vector.
pub fn encode_sync_step1(state_vector: StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(state_vector)).encode_v1()
}

/// Encodes a `SyncStep2` carrying the update the other side is missing.
pub fn encode_sync_step2(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(update)).encode_v1()
}

/// True when a v1 update carries no insertions and no deletions, such as the `SyncStep2`
/// a peer with nothing new sends. Such updates are neither stored nor forwarded.
pub fn is_empty_update(update: &[u8]) -> bool {
    Update::decode_v1(update).is_ok_and(|u| u.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::sync::AwarenessUpdate;
    use yrs::{Doc, ReadTxn, Text, Transact};

    fn sample_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text(crate::TEXT_NAME);
        text.insert(&mut doc.transact_mut(), 0, "load order");
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    #[test]
    fn every_message_kind_round_trips() {
        let update = sample_update();
        let messages = vec![
            Message::Sync(SyncMessage::SyncStep1(StateVector::default())),
            Message::Sync(SyncMessage::SyncStep2(update.clone())),
            Message::Sync(SyncMessage::Update(update)),
            Message::Awareness(AwarenessUpdate {
                clients: Default::default(),
            }),
            Message::AwarenessQuery,
            Message::Auth(None),
        ];
        for message in messages {
            let frame = message.encode_v1();
            assert_eq!(decode_frame(&frame).expect("decodes"), vec![message]);
        }
    }

    #[test]
    fn two_messages_in_one_frame_both_decode() {
        let mut frame = encode_sync_step1(StateVector::default());
        frame.extend(encode_update(&sample_update()));
        assert_eq!(decode_frame(&frame).expect("decodes").len(), 2);
    }

    // Guards against yrs' MessageReader behaviour of treating a cut-off tail as end of input.
    #[test]
    fn truncated_frame_is_an_error() {
        let frame = encode_update(&sample_update());
        for cut in 1..frame.len() {
            assert!(
                decode_frame(&frame[..cut]).is_err(),
                "cut at {cut} accepted"
            );
        }
        assert!(matches!(decode_frame(&[]), Err(FrameError::Empty)));
    }

    #[test]
    fn garbage_inside_a_sync_update_is_rejected() {
        let frame = encode_update(b"\xff\xff\xff\xff not an update");
        assert!(decode_frame(&frame).is_err());
    }

    #[test]
    fn empty_update_is_recognised() {
        let empty = Doc::new()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        assert!(is_empty_update(&empty));
        assert!(!is_empty_update(&sample_update()));
    }
}
