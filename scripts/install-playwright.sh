#!/usr/bin/env bash
# Installs playwright-core (npm, pinned) into build/node/ for the browser
# test and the dashboard benchmark, unless that version is already there.
# Only the driver: the browser is Debian's chromium (scripts/install-deps.sh),
# so nothing but the npm package is downloaded. Prints nothing on success.
set -euo pipefail
VERSION=1.65.1
cd "$(dirname "$0")/.."
dir=build/node
have() { [[ $(node -p "require('./$dir/node_modules/playwright-core/package.json').version" 2>/dev/null) == "$VERSION" ]]; }
have && exit 0
command -v npm >/dev/null || { echo "install-playwright: npm is missing (make deps installs it)" >&2; exit 1; }
mkdir -p "$dir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! timeout 180 npm install --prefix "$dir" --no-save --no-audit --no-fund --silent \
     "playwright-core@$VERSION" > "$log" 2>&1 || ! have; then
  cat "$log" >&2
  echo "install-playwright: could not install playwright-core@$VERSION into $dir" >&2
  exit 1
fi
