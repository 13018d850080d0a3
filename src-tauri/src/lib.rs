//! The Mossy Live app shell.

/// Starts the app.
pub fn run() {}
