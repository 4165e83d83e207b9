#!/usr/bin/env bash
# Sets up PortSentry Desktop on a fresh Debian machine and runs its detector, portsentryd,
# in the foreground on the embedded defaults (classic tripwire ports, TCP and UDP, IPv4 and
# IPv6, scanners blackholed in the nftables table `inet portsentry`). Run as root from the
# repository. Extra arguments go to portsentryd (e.g. -c /etc/portsentry/portsentry.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-and-run: run me as root (sudo bash scripts/setup-and-run.sh): the detector binds ports below 1024 and changes the firewall" >&2
  exit 1
fi
bash scripts/install-system-deps.sh
npm ci
echo "setup-and-run: starting portsentryd; Ctrl-C stops it (blocks stay; remove them with: npx portsentryd --remove-firewall)" >&2
# A small young generation keeps the daemon's memory bounded under floods (README, memory).
exec node_modules/.bin/node --max-semi-space-size=2 dist/privileged-helper/bin/portsentryd.js "$@"
