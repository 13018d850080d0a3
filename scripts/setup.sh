#!/usr/bin/env bash
# Installs everything Mossy Live needs to build, run and test on Debian/Ubuntu:
# apt packages, the wasm32 target and the cargo tools (Trunk, tauri-cli, tauri-driver,
# wasm-bindgen-cli at the version Cargo.lock pins). Every step is skipped when its result
# is already there, so running it twice costs seconds. Nothing is fetched from anywhere
# but the package registries (Debian, crates.io, npm).
set -euo pipefail

cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev build-essential pkg-config libssl-dev file
  xvfb xauth x11-utils xdotool webkit2gtk-driver at-spi2-core dbus dbus-x11 imagemagick
  gcc-mingw-w64-x86-64
  # Embedded panels are tested in headless Chromium, the engine of Mossy's Electron window.
  chromium chromium-driver
  # The updater installs a downloaded .deb with pkexec, else sudo; CI has no polkit agent.
  sudo
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_apt=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing_apt+=("$pkg")
  fi
done
if [ ${#missing_apt[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing_apt[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing_apt[@]}"
fi

# wasm32 for the frontend; Windows (GNU, with mingw above) so the Windows-only code is
# checked on every run.
for target in wasm32-unknown-unknown x86_64-pc-windows-gnu; do
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "setup: adding the $target target"
    rustup target add "$target"
  fi
done

# Installs a cargo tool unless cargo already installed that crate at that version.
installed_tools=$(cargo install --list)
tool_build_dir="${TMPDIR:-/tmp}/mossy-live-tool-build"
cargo_tool() {
  local crate=$1 version=$2 locked=$3
  if grep -qx "$crate v$version:" <<<"$installed_tools"; then
    return 0
  fi
  echo "setup: cargo install $crate $version"
  # One build folder for every tool: trunk, tauri-cli and tauri-driver share many crates
  # (tokio, hyper, serde, clap), which are then compiled once instead of once per tool.
  CARGO_TARGET_DIR="$tool_build_dir" cargo install $locked "$crate" --version "$version"
}

# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock, or Trunk tries to
# download one. Its own lockfile pins a yanked crate, so it installs without --locked.
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" ""
# Trunk 0.22 needs a newer rustc than 1.95; 0.21.14 is the newest that builds here.
cargo_tool trunk 0.21.14 --locked
cargo_tool tauri-driver 2.1.0 --locked
cargo_tool tauri-cli 2.12.4 --locked
# The tools are installed; their shared build folder (gigabytes) is no longer needed.
rm -rf "$tool_build_dir"

# Node.js runs the collaboration hub's interop test: a stock Yjs client (npm `yjs` and
# `y-websocket`) and the reference server for the hub benchmark. Debian's node is enough.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: installing nodejs and npm"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    nodejs npm
fi
interop=crates/collab/interop
if [ ! -d "$interop/node_modules" ] || [ "$interop/package-lock.json" -nt "$interop/node_modules" ]; then
  echo "setup: npm ci in $interop"
  npm ci --prefix "$interop" --no-audit --no-fund
fi
# The Editor panel's code editor (CodeMirror, Yjs) is bundled from npm packages by esbuild.
editor_js=frontend/editor-js
if [ ! -d "$editor_js/node_modules" ] || [ "$editor_js/package-lock.json" -nt "$editor_js/node_modules" ]; then
  echo "setup: npm ci in $editor_js"
  npm ci --prefix "$editor_js" --no-audit --no-fund
fi

echo "setup: done"
