//! What the collaboration benchmarks share: starting each server under test on a free
//! loopback port and reading its resident memory.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server gets to start listening before the benchmark gives up.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free loopback port")
}

fn wait_listening(addr: SocketAddr) {
    let deadline = Instant::now() + LISTEN_TIMEOUT;
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server at {addr} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Resident memory of a process in MiB, from `/proc`; NaN where that cannot be read.
pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// Starts the `mossy-hub` binary with its store in `data_dir`.
pub fn spawn_mossy(data_dir: &Path) -> (Child, SocketAddr) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(env!("CARGO_BIN_EXE_mossy-hub"))
        .args(["--bind", &addr.to_string(), "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("mossy-hub starts");
    wait_listening(addr);
    (child, addr)
}

/// Starts the reference server from npm `@y/websocket-server` (in memory, no persistence).
pub fn spawn_node() -> (Child, SocketAddr) {
    let interop = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop");
    let server = interop.join("node_modules/@y/websocket-server/src/server.js");
    assert!(
        server.is_file(),
        "run `npm ci --prefix crates/collab/interop` first"
    );
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new("node")
        .arg(server)
        .env("HOST", "127.0.0.1")
        .env("PORT", addr.port().to_string())
        .stdout(Stdio::null())
        .spawn()
        .expect("node server starts");
    wait_listening(addr);
    (child, addr)
}
