#!/usr/bin/env bash
# Sets up what is missing and runs every check and test: rustfmt, clippy (warnings are
# errors), unit and integration tests, and the webview end-to-end tests against the
# release app under Xvfb. Fails if any of them cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says how far into the run it starts, and the list is printed again at the end
# (CI shows only the tail of a run), so a slow run shows where its time went.
timeline=()
step() {
  local at="$((SECONDS / 60))m$((SECONDS % 60))s"
  timeline+=("$at $*")
  echo "test: $* (at $at)"
}

bash scripts/setup.sh
step "setup finished"

# Disk use is printed along the way: a CI run once stopped on a full disk.
disk() { echo "test: disk: $(df -h --output=avail . | tail -1 | tr -d ' ') free, target $(du -sh target 2>/dev/null | cut -f1)"; }
disk

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings

# The app is compiled and linted for Windows too (job objects for build cancel,
# console-less children, the tray, the WebView2 shell); the installer itself is made on a
# Windows runner (.github/workflows/windows-installer.yml, see README "Installers").
step "clippy for x86_64-pc-windows-gnu (the app and its crates)"
cargo clippy --locked --target x86_64-pc-windows-gnu -p mossy-live -p mossy-core -- -D warnings

# Also the signed test packages of the updater test (tests/tests/updater_deb.rs).
step "release build: frontend, app, packages"
bash scripts/build.sh --update-test-bundles

# And linked: a Windows .exe proves the cross build works to the end (mingw, WebView2 loader,
# the manifest and icon resources, the frontend built above embedded, no console window).
# Unoptimised, as it is never run here.
step "link mossy-live.exe for x86_64-pc-windows-gnu"
cargo build --locked --target x86_64-pc-windows-gnu --profile windows-link-check -p mossy-live \
  --features custom-protocol
exe=target/x86_64-pc-windows-gnu/windows-link-check/mossy-live.exe
if [ "$(head -c 2 "$exe")" != "MZ" ]; then
  echo "test: $exe is not a Windows executable" >&2
  exit 1
fi
echo "test: $exe ($(du -m "$exe" | cut -f1) MB)"

# CI builds a clean clone once (.ci/run sets MOSSY_TEST_TIDY=1): what only the builds above
# needed goes before the test binaries are built, about 4 GB. The tests run the finished
# release binaries in target/release and the packages in target/update-test and
# target/release/bundle, which stay.
if [ "${MOSSY_TEST_TIDY:-}" = 1 ]; then
  echo "test: removing the Windows and release build folders (MOSSY_TEST_TIDY=1)"
  rm -rf target/x86_64-pc-windows-gnu target/windows-link-check \
    target/release/deps target/release/build target/release/.fingerprint \
    target/release/incremental
fi
disk

# The webview tests need an X display. Start a private Xvfb unless one is given.
xvfb_pid=""
cleanup() {
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
if [ -z "${DISPLAY:-}" ] || ! xdpyinfo >/dev/null 2>&1; then
  display=99
  while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do
    display=$((display + 1))
  done
  Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  export DISPLAY=":$display"
  for _ in $(seq 50); do
    [ -e "/tmp/.X11-unix/X$display" ] && break
    sleep 0.1
  done
  [ -e "/tmp/.X11-unix/X$display" ] || { echo "test: Xvfb did not start" >&2; exit 1; }
fi
echo "test: X display $DISPLAY"

# Integration tests run the release binaries built above rather than building their own.
export MOSSY_BRIDGE_SIM_BIN="$PWD/target/release/mossy-bridge-sim"
export MOSSY_LIVE_BIN="$PWD/target/release/mossy-live"
export MOSSY_HUB_BIN="$PWD/target/release/mossy-hub"

step "unit, integration and webview tests"
# Output goes to a file, not a pipe: a crashed webview test can leave a browser process
# holding the pipe open, which would hang the run instead of failing it.
log=$(mktemp)
status=0
# One D-Bus session for the whole run: WebKit starts a bus per app when there is none, and
# it went away with the first app to close, failing a second app still running beside it.
run_tests=(cargo test --locked --workspace --no-fail-fast)
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  run_tests=(dbus-run-session -- "${run_tests[@]}")
fi
"${run_tests[@]}" >"$log" 2>&1 || status=$?
cat "$log"
disk
passed=$(awk '/^test result:/ { sum += $4 } END { print sum + 0 }' "$log")
failed=$(awk '/^test result:/ { sum += $6 } END { print sum + 0 }' "$log")
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1  # cargo failed before or outside a test (a build error, a crashed test binary)
fi
step "tests finished"
printf 'test: timeline: %s\n' "${timeline[@]}"
echo "tests: $passed passed, $failed failed"
exit "$status"
