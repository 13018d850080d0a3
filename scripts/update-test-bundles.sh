#!/usr/bin/env bash
# Builds the signed packages the updater test (tests/tests/updater_deb.rs) installs, into
# target/update-test/:
#   test.key, test.key.pub   a signing key made for this run (no password)
#   old/                     the .deb of version 0.1.0-test.1
#   new/                     the .deb of version 0.1.0-test.2 and its .sig
#   foreign/                 a .sig of that same .deb by another key, which must be refused
# Both builds carry the test public key and accept plain-http update addresses (the test's
# server is on loopback); the release configuration has neither.
#
# Called by `scripts/build.sh --update-test-bundles` BEFORE its plain release build: each
# build here compiles the app crate with another configuration and the bundler patches the
# binary in target/release, so the plain build that follows must put the real one back.
# Each variant costs one rebuild of the app crate, not of its dependencies: it uses exactly
# the cargo command of scripts/build.sh, so cargo resolves the same features.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
target_dir=${CARGO_TARGET_DIR:-target}
# Absolute: tauri-cli runs from src-tauri (TAURI_APP_PATH), and it reads a
# TAURI_SIGNING_PRIVATE_KEY that is not an existing path as the key itself.
target_dir=$(realpath -m "$target_dir")
out="$target_dir/update-test"
bundle_dir="$target_dir/release/bundle/deb"
# tauri-cli looks for its config in src-tauri (see TOOLCHAIN.md, section 2).
export TAURI_APP_PATH=src-tauri

rm -rf "$out"
mkdir -p "$out/old" "$out/new" "$out/foreign"
cargo tauri signer generate --ci --password '' --write-keys "$out/test.key" >/dev/null
cargo tauri signer generate --ci --password '' --write-keys "$out/foreign.key" >/dev/null
pubkey=$(cat "$out/test.key.pub")

build_variant() {
  local version=$1 dest=$2
  local config
  config=$(printf '{"version":"%s","bundle":{"createUpdaterArtifacts":true},"plugins":{"updater":{"pubkey":"%s","dangerousInsecureTransportProtocol":true}}}' \
    "$version" "$pubkey")
  echo "build: update test package $version"
  # tauri-build and generate_context! merge TAURI_CONFIG into tauri.conf.json, as
  # `cargo tauri build --config` would; the bundle step below gets the same patch.
  TAURI_CONFIG=$config cargo build --release --locked \
    -p mossy-live --features custom-protocol -p mossy-bridge-sim
  rm -rf "$bundle_dir"
  TAURI_SIGNING_PRIVATE_KEY="$out/test.key" TAURI_SIGNING_PRIVATE_KEY_PASSWORD='' \
    cargo tauri bundle --bundles deb --config "$config" >/dev/null
  cp "$bundle_dir"/*.deb "$bundle_dir"/*.deb.sig "$dest/"
}

build_variant 0.1.0-test.1 "$out/old"
build_variant 0.1.0-test.2 "$out/new"

# The foreign signature: a valid minisign signature of the same file for the same version,
# by a key the app does not trust.
new_deb=$(ls "$out/new/"*.deb)
cp "$new_deb" "$out/foreign/"
foreign_deb="$out/foreign/$(basename "$new_deb")"
cargo tauri signer sign --private-key-path "$out/foreign.key" --password '' \
  --app-version 0.1.0-test.2 "$foreign_deb" >/dev/null
rm "$foreign_deb"

echo "build: update test packages in $out ($((SECONDS - started)) s)"
