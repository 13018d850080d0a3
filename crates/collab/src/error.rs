//! Error types of the hub, its store and the Rust client.

use std::net::SocketAddr;

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The bind address is reachable from other machines and no token was configured.
    #[error("refusing to listen on {0} without a token: set a token or bind to 127.0.0.1")]
    UnprotectedBind(SocketAddr),
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address we tried to bind.
        addr: SocketAddr,
        /// Underlying socket error.
        source: std::io::Error,
    },
    /// The data directory or database could not be opened.
    #[error("cannot open the hub store: {0}")]
    Store(#[from] StoreError),
}

/// A failure of the SQLite update log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create data directory: {0}")]
    Io(#[from] std::io::Error),
    /// SQLite refused an operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored update could not be decoded or merged.
    #[error("stored update is corrupt: {0}")]
    Corrupt(String),
    /// The blocking task running the query was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
}

/// Why a [`HubClient`](crate::HubClient) call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The room name is not one the hub accepts.
    #[error("invalid room name: {0:?}")]
    InvalidRoom(String),
    /// A local edit fell outside the text.
    #[error("edit out of range: index {index} with text length {len}")]
    OutOfRange {
        /// Requested index.
        index: u32,
        /// Length of the text at the time.
        len: u32,
    },
    /// The awareness state could not be serialised.
    #[error("awareness state is not valid JSON: {0}")]
    Awareness(String),
}
