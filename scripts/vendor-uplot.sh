#!/usr/bin/env bash
# Vendors the dashboard's charting library, uPlot (MIT, npm package
# "uplot"), into web/ui/vendor/ at build time: the pinned version's tarball
# from the npm registry (`npm pack`), its integrity checked against the
# sha512 below (the registry's own `dist.integrity`), then dist/uPlot.iife.min.js,
# dist/uPlot.min.css and the LICENSE copied out. The files are never
# committed (.gitignore); scripts/embed-ui.sh compiles them into vettimed.
#
# Offline-safe: when web/ui/vendor/VERSION already names this version and
# integrity, nothing is fetched (so `make all` works without the network once
# the files are there). To move to another version, change both lines below.
set -euo pipefail
VERSION=1.6.32
INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==

cd "$(dirname "$0")/.."
out=web/ui/vendor
stamp="uplot $VERSION $INTEGRITY"
files=(uPlot.iife.min.js uPlot.min.css uPlot.LICENSE)

have_all() {
  local f
  for f in "${files[@]}"; do [[ -s $out/$f ]] || return 1; done
  [[ -f $out/VERSION && $(cat "$out/VERSION") == "$stamp" ]]
}
if have_all; then
  touch "${files[@]/#/$out/}" # newer than this script, so make is satisfied
  exit 0
fi

command -v npm >/dev/null || { echo "vendor-uplot: npm is missing (make deps installs it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "vendor-uplot: fetching uplot@$VERSION" >&2
(cd "$tmp" && npm pack "uplot@$VERSION" --silent --cache "$tmp/cache" > /dev/null)
tgz=$tmp/uplot-$VERSION.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [[ $got != "$INTEGRITY" ]]; then
  echo "vendor-uplot: uplot-$VERSION.tgz has integrity $got, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE
mkdir -p "$out"
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$out/"
cp "$tmp/package/LICENSE" "$out/uPlot.LICENSE"
echo "$stamp" > "$out/VERSION"
echo "vendor-uplot: uplot $VERSION in $out/" >&2
