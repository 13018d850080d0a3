#!/usr/bin/env bash
# Sets up what is missing, builds, and starts Mossy Live. Unless a real bridge is
# configured (MOSSY_BRIDGE_URL is set, or something already listens on Mossy's port), the
# bridge simulator plays the demo scenario in a loop so every panel has something to show.
# Extra arguments go to the app (see `target/release/mossy-live --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh

MOSSY_PORT=54321
sim_pid=""
stop_sim() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; fi
}
trap stop_sim EXIT

if [ -n "${MOSSY_BRIDGE_URL:-}" ]; then
  echo "run: using the bridge at $MOSSY_BRIDGE_URL"
elif (exec 3<>"/dev/tcp/127.0.0.1/$MOSSY_PORT") 2>/dev/null; then
  echo "run: something already listens on 127.0.0.1:$MOSSY_PORT; using it as Mossy's bridge"
else
  echo "run: no Mossy bridge found; starting the simulator with the demo scenario"
  ./target/release/mossy-bridge-sim --listen "127.0.0.1:$MOSSY_PORT" \
    --scenario tests/fixtures/bridge/demo.jsonl --loop &
  sim_pid=$!
fi

./target/release/mossy-live "$@"
