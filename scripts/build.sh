#!/usr/bin/env bash
# Builds what the app and its tests run: the frontend (Trunk, release) and, embedding it,
# the app and the bridge simulator in release. Both scripts/run.sh and scripts/test.sh call
# this, so there is one build for everything.
set -euo pipefail
cd "$(dirname "$0")/.."

# Trunk's update check would go to the network; the tools it needs are on PATH.
export TRUNK_SKIP_VERSION_CHECK=true

echo "build: frontend (trunk build --release)"
(cd frontend && trunk build --release)

echo "build: app and bridge simulator (cargo build --release)"
cargo build --release --locked -p mossy-live --features custom-protocol -p mossy-bridge-sim
