#!/usr/bin/env bash
# Prepares a release: `scripts/release.sh <version>`, such as `scripts/release.sh 0.2.0`.
#
# The version lives in one place, `[workspace.package] version` in the root Cargo.toml:
# every crate inherits it and tauri.conf.json has no version of its own, so the app, its
# About text, the .deb and the NSIS installer all follow. This script
#   1. writes the new version there and into Cargo.lock (offline; no dependency changes),
#   2. puts a section for it at the top of CHANGELOG.md, one line per commit since the last
#      tag (all commits when there is none),
#   3. prints what it did and what to run next.
# It does not commit, tag or build: review the changelog first.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/release.sh <version>   (semantic version, such as 0.2.0 or 1.0.0-rc.1)" >&2
  exit 2
}
[ $# -eq 1 ] || usage
version=$1
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
if ! [[ "$version" =~ $semver ]]; then
  echo "release: '$version' is not a semantic version" >&2
  usage
fi

# The version line of [workspace.package]: the first `version =` after that header.
old=$(awk '
  /^\[/ { in_package = ($0 == "[workspace.package]") }
  in_package && /^version *= *"/ { gsub(/^version *= *"|".*$/, ""); print; exit }
' Cargo.toml)
if [ -z "$old" ]; then
  echo "release: no version in [workspace.package] of Cargo.toml" >&2
  exit 1
fi
if [ "$old" = "$version" ]; then
  echo "release: the version already is $version" >&2
  exit 1
fi
if git rev-parse -q --verify "refs/tags/v$version" >/dev/null; then
  echo "release: tag v$version already exists" >&2
  exit 1
fi

# 1. The version, then the lock file's entries for the workspace's own crates.
awk -v new="$version" '
  /^\[/ { in_package = ($0 == "[workspace.package]") }
  in_package && !done && /^version *= *"/ { sub(/"[^"]*"/, "\"" new "\""); done = 1 }
  { print }
' Cargo.toml >Cargo.toml.release
mv Cargo.toml.release Cargo.toml
cargo update --workspace --offline --quiet

# 2. The changelog section: commits since the last tag, newest first.
last_tag=$(git describe --tags --abbrev=0 2>/dev/null || true)
if [ -n "$last_tag" ]; then
  range="$last_tag..HEAD"
  since="since $last_tag"
else
  range="HEAD"
  since="(no earlier tag: every commit)"
fi
commits=$(git log --no-merges --format='- %s (%h)' "$range")
count=$(printf '%s' "$commits" | grep -c '^- ' || true)
{
  echo "## $version ($(date -u +%Y-%m-%d))"
  echo
  if [ -n "$commits" ]; then echo "$commits"; else echo "- No changes since $last_tag."; fi
  echo
} >CHANGELOG.section

header="# Changelog"
if [ -f CHANGELOG.md ]; then
  # Keep the title (and anything before the first release section) on top.
  awk -v section_file=CHANGELOG.section '
    !inserted && /^## / {
      while ((getline line < section_file) > 0) print line
      inserted = 1
    }
    { print }
    END {
      if (!inserted) {
        print ""
        while ((getline line < section_file) > 0) print line
      }
    }
  ' CHANGELOG.md >CHANGELOG.release
else
  { echo "$header"; echo; cat CHANGELOG.section; } >CHANGELOG.release
fi
mv CHANGELOG.release CHANGELOG.md
rm -f CHANGELOG.section

# 3. Report.
echo "release: version $old -> $version in Cargo.toml (every crate and the app inherit it)"
echo "release: Cargo.lock updated for the workspace crates"
echo "release: CHANGELOG.md has a $version section with $count commit(s) $since"
echo "next: review CHANGELOG.md, then"
echo "  git commit -am \"Release $version\" && git tag v$version"
echo "  build the signed packages with TAURI_SIGNING_PRIVATE_KEY(_PASSWORD) set:"
echo "  TAURI_APP_PATH=src-tauri cargo tauri build --config '{\"bundle\":{\"createUpdaterArtifacts\":true}}'"
