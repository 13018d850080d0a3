#!/usr/bin/env bash
# Builds what the app and its tests run: the frontend (Trunk, release) and, embedding it,
# the app, the bridge simulator and the team hub in release. Both scripts/run.sh and
# scripts/test.sh call this, so there is one build for everything.
#
# `--update-test-bundles` (scripts/test.sh passes it) also builds the signed test packages
# of the updater test (scripts/update-test-bundles.sh), before the plain app build so the
# binary left in target/release is the plain one.
set -euo pipefail
cd "$(dirname "$0")/.."

update_test_bundles=false
for arg in "$@"; do
  case "$arg" in
    --update-test-bundles) update_test_bundles=true ;;
    *) echo "build: unknown option $arg" >&2; exit 2 ;;
  esac
done

# Trunk's update check would go to the network; the tools it needs are on PATH.
export TRUNK_SKIP_VERSION_CHECK=true

echo "build: the Editor panel's code editor bundle (frontend/editor-js, esbuild)"
npm run build --prefix frontend/editor-js

echo "build: frontend (trunk build --release)"
(cd frontend && trunk build --release)

if [ "$update_test_bundles" = true ]; then
  bash scripts/update-test-bundles.sh
fi

echo "build: app, bridge simulator and team hub (cargo build --release)"
cargo build --release --locked -p mossy-live --features custom-protocol -p mossy-bridge-sim \
  -p mossy-collab
