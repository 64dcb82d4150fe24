#!/usr/bin/env bash
# Installs the Debian packages vettime needs to build, test and run its demo.
# The one list of packages for the whole project: every make target that
# needs a package calls this script. It only calls apt-get when something is
# missing, so it is cheap to run on every `make test`.
set -euo pipefail

packages=(
  # build
  build-essential pkg-config
  # libraries (see Makefile)
  libsqlite3-dev libjson-c-dev libcurl4-openssl-dev libsnmp-dev
  libmicrohttpd-dev libssl-dev nettle-dev
  # sd_notify readiness and watchdog (lib/sdnotify.c)
  libsystemd-dev
  # tools used by tests and the demo
  sqlite3 chrony faketime procps iproute2 python3
  # NTPsec's ntpd and ntpdig, fetched by test_ntp_server.sh with apt-get
  # download (Debian's ntpsec conflicts with chrony), need these libraries
  libbsd0 libcap2 curl
  # receivers: gpsd fed by gpsfake, kernel PPS headers (RFC 2783)
  gpsd gpsd-clients gpsd-tools python3-gps pps-tools
  # alerting: trap receiver and tools, MIB checker, SMTP server
  snmp snmptrapd smitools python3-aiosmtpd
  # SNMP polling: snmpd as the AgentX master in tests/system/test_agentx.sh
  snmpd
  # /metrics: `promtool check metrics` (tests/system/test_http_access.sh);
  # the package's server is never started (policy-rc.d below)
  prometheus
  # the dashboard's browser test (tests/system/test_dashboard.sh): headless
  # chromium driven by playwright-core from npm (installed by the test)
  chromium
  # install checks (tests/system/test_install.sh): systemd-analyze verify on
  # the unit, man --warnings on the man pages
  systemd man-db
  # the Debian package (make test-long: tests/long/test_deb.sh):
  # dpkg-buildpackage with debhelper, lintian, adduser for the postinst
  dpkg-dev debhelper lintian adduser
  # fuzzing (make fuzz): clang's libFuzzer
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# npm fetches the IETF base MIBs (scripts/fetch-base-mibs.sh), the
# dashboard's charting library at build time (scripts/vendor-uplot.sh) and
# playwright-core for the browser test. A machine
# with Node.js from elsewhere already has npm, and Debian's npm package
# would conflict with it: install it only when there is no npm at all.
command -v npm >/dev/null 2>&1 || missing+=(npm)

# tests/system/test_ntp_server.sh fetches NTPsec with `apt-get download`
# (Debian's ntpsec conflicts with chrony, so it is never installed): that
# needs the package lists.
lists_missing=0
compgen -G '/var/lib/apt/lists/*_Packages*' > /dev/null || lists_missing=1

if [[ ${#missing[@]} -eq 0 && $lists_missing -eq 0 ]]; then exit 0; fi
if [[ ${#missing[@]} -eq 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -q || echo "install-deps: apt-get update failed: NTPsec cannot be fetched" >&2
  else
    echo "install-deps: no apt package lists (run apt-get update as root for the NTPsec tests)" >&2
  fi
  exit 0
fi

echo "install-deps: missing Debian packages: ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

# Packaged daemons (chrony) must not start system services here: the tests
# start their own instances on loopback ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
