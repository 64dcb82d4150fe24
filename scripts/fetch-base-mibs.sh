#!/usr/bin/env bash
# Puts the three IETF base MIB modules that VETTIME-MIB imports (SNMPv2-SMI,
# SNMPv2-TC, SNMPv2-CONF), plus SNMPv2-MIB for snmpTrapOID and sysUpTime,
# into one folder, and prints that folder's path on stdout.
#
# Why: Debian ships net-snmp and libsmi without the IETF modules (they are
# kept out of main), so snmptranslate, snmptrapd and smilint cannot load a
# MIB that imports them. The npm package net-snmp carries them as text in
# lib/mibs/. `npm pack` fetches the tarball (or takes it from npm's cache
# when offline); nothing is installed and nothing is executed from it.
#
# Usage: scripts/fetch-base-mibs.sh [DIR]      (default build/mibs)
# Exit status: 0 done (path on stdout); 69 (EX_UNAVAILABLE) npm missing or
# the package neither reachable nor cached: the message says so, and tests
# that need the MIBs skip with it.
set -euo pipefail

VERSION=3.29.2               # the net-snmp npm release the files come from
MODULES=(SNMPv2-SMI SNMPv2-TC SNMPv2-CONF SNMPv2-MIB)
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/mibs}

have_all() {
  local m
  for m in "${MODULES[@]}"; do [[ -s $dir/$m.txt ]] || return 1; done
}

if have_all; then echo "$dir"; exit 0; fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-base-mibs: npm is not installed; cannot get the IETF base MIBs (apt-get install npm)" >&2
  exit 69
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# --prefer-offline: the cache first, the registry only when not cached.
if ! (cd "$work" && timeout 120 npm pack --silent --prefer-offline "net-snmp@$VERSION" >/dev/null 2>"$work/npm.err"); then
  if ! (cd "$work" && timeout 60 npm pack --silent --offline "net-snmp@$VERSION" >/dev/null 2>>"$work/npm.err"); then
    echo "fetch-base-mibs: npm pack net-snmp@$VERSION failed (registry unreachable and not in npm's cache):" >&2
    tail -n 3 "$work/npm.err" >&2
    exit 69
  fi
fi
tar -xzf "$work"/net-snmp-"$VERSION".tgz -C "$work"
mkdir -p "$dir"
for m in "${MODULES[@]}"; do
  src=$work/package/lib/mibs/$m.mib
  [[ -s $src ]] || { echo "fetch-base-mibs: $m is not in net-snmp@$VERSION's lib/mibs/" >&2; exit 69; }
  # .txt: the name both net-snmp and libsmi look for.
  cp "$src" "$dir/$m.txt"
done
echo "$dir"
