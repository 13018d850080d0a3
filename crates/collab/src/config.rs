//! Hub settings and the checks made on every handshake: room names and tokens.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use crate::DEFAULT_PORT;

/// Largest WebSocket message the hub accepts. A pasted Papyrus script or a long changelog is
/// well under a megabyte; 4 MiB leaves room for a first sync of a large document while
/// keeping one hostile client from making the hub buffer arbitrary amounts.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Sustained awareness updates per second allowed from one connection. A y-websocket client
/// sends one per cursor move or selection change, so fast typing stays near 20 a second.
pub const AWARENESS_PER_SECOND: u32 = 50;

/// Awareness updates a connection may send in a burst above the sustained rate, for example
/// when a peer reconnects and replays its state while the cursor is moving.
pub const AWARENESS_BURST: u32 = 100;

/// Limits applied to every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubLimits {
    /// Largest accepted WebSocket message (and frame), in bytes.
    pub max_message_bytes: usize,
    /// Sustained awareness updates per second per connection before it is dropped.
    pub awareness_per_second: u32,
    /// Awareness burst allowance per connection.
    pub awareness_burst: u32,
}

impl Default for HubLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: MAX_MESSAGE_BYTES,
            awareness_per_second: AWARENESS_PER_SECOND,
            awareness_burst: AWARENESS_BURST,
        }
    }
}

/// Everything [`Hub::start`](crate::Hub::start) needs.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Address to listen on; port 0 picks a free port. Defaults to loopback.
    pub bind: SocketAddr,
    /// Folder holding the SQLite database (`hub.sqlite3`); created when missing.
    pub data_dir: PathBuf,
    /// Shared secret a client must send as `?token=...`. Required off loopback.
    pub token: Option<String>,
    /// Per-connection limits.
    pub limits: HubLimits,
}

impl HubConfig {
    /// A loopback configuration on [`DEFAULT_PORT`] storing its database in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            data_dir: data_dir.into(),
            token: None,
            limits: HubLimits::default(),
        }
    }
}

/// Longest accepted room name, in bytes (all accepted characters are ASCII).
pub const MAX_ROOM_NAME: usize = mossy_protocol::editor::MAX_ROOM_NAME;

/// Checks a room name: 1 to [`MAX_ROOM_NAME`] letters, digits, `-`, `_` or `.`, and never
/// `.`, `..` or anything containing `..`. The name is used as a database key only, but a
/// strict rule keeps it safe if it ever becomes a file name or a log field. The rule lives in
/// the protocol crate so the Editor panel checks a name the same way before connecting.
pub fn validate_room_name(name: &str) -> bool {
    mossy_protocol::editor::is_valid_room_name(name)
}

/// Splits a request target such as `/room-1?token=abc` into the room name and the decoded
/// `token` query parameter.
pub(crate) fn parse_target(target: &str) -> (&str, Option<String>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let room = path.strip_prefix('/').unwrap_or(path);
    let token = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(percent_decode);
    (room, token)
}

/// Decodes `%XX` escapes and `+` as produced by `encodeURIComponent` and URL builders. Bad
/// escapes are kept literally, so they simply fail the token comparison.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Compares a presented token with the configured one without an early exit, so response
/// timing does not reveal how many leading bytes matched.
pub(crate) fn token_matches(expected: &str, presented: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), presented.as_bytes());
    let mut diff = a.len() ^ b.len();
    for (i, byte) in a.iter().enumerate() {
        diff |= usize::from(byte ^ b.get(i).copied().unwrap_or(!byte));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_follow_the_documented_rule() {
        for good in [
            "a",
            "mod-notes",
            "Sim_Settlements.2",
            "x".repeat(128).as_str(),
        ] {
            assert!(validate_room_name(good), "{good:?} should be accepted");
        }
        let long = "x".repeat(129);
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a..b",
            "é",
            "a b",
            long.as_str(),
        ] {
            assert!(!validate_room_name(bad), "{bad:?} should be refused");
        }
    }

    #[test]
    fn target_yields_room_and_decoded_token() {
        assert_eq!(
            parse_target("/notes?token=a%2Bb%20c"),
            ("notes", Some("a+b c".into()))
        );
        assert_eq!(
            parse_target("/notes?x=1&token=t"),
            ("notes", Some("t".into()))
        );
        assert_eq!(parse_target("/notes"), ("notes", None));
        assert_eq!(parse_target("/"), ("", None));
    }

    #[test]
    fn token_comparison_needs_exact_match() {
        assert!(token_matches("secret", Some("secret")));
        assert!(!token_matches("secret", Some("secreT")));
        assert!(!token_matches("secret", Some("secret2")));
        assert!(!token_matches("secret", Some("")));
        assert!(!token_matches("secret", None));
    }
}
