#!/usr/bin/env bash
# Installs the Debian packages PortSentry Desktop needs to run and to be tested. Idempotent.
#   runtime: nftables (the blackhole table), iproute2, procps, util-linux (logger, for syslog)
#   capture: tcpdump (the packet-capture layer for the stealth modes)
#   tests:   nmap and hping3 (real attackers), socat, iptables+ipset (the peer's way of
#            blocking, for the benchmark), portsentry (Debian's PortSentry 1.2, the peer),
#            chromium (renderer tests), xvfb + dbus-x11 + dunst + libnotify-bin (real
#            desktop notifications; dbus-bin's dbus-send forges a notification answer,
#            x11-utils' xdpyinfo waits for Xvfb), sqlite3 (inspecting the store), debootstrap +
#            systemd (installing the server .deb into a clean root; systemd-analyze verify)
#   logs:    fail2ban (fail2ban-regex and its stock portsentry filter) and logwatch (its
#            portsentry service) read our lines beside Debian's portsentry's in the log sample
#            test; rsyslog + rsyslog-gnutls receive our RFC 5424 over TCP and TLS in the
#            structured-output test (each test runs its own instance, never the machine's)
#   fleet:   crowdsec (its Local API and cscli, for the fleet tests) and prometheus (scrapes our
#            metrics endpoint in the tests); the tests run their own instances, never these services
#   packaging: systemd-container (systemd-nspawn: booting a Debian root with its own systemd),
#            mono-mcs + mono-runtime + libmono-system-serviceprocess4.0-cil +
#            libmono-system-core4.0-cil (compiling the Windows service host's C#)
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: run me as root" >&2
  exit 1
fi
packages=(
  nftables iproute2 procps util-linux bsdutils tcpdump
  nmap hping3 socat iptables ipset net-tools portsentry
  chromium xvfb xauth dbus-x11 dbus-bin x11-utils dunst libnotify-bin sqlite3
  debootstrap systemd python3
  fail2ban logwatch rsyslog rsyslog-gnutls
  crowdsec prometheus
  systemd-container mono-mcs mono-runtime libmono-system-serviceprocess4.0-cil libmono-system-core4.0-cil
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Debian's portsentry starts its own daemon on install; it must not run beside ours.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  # crowdsec's postinst registers with the Central API on the internet unless this file is
  # non-empty; the fleet needs only the Local API, so say so before it is installed.
  mkdir -p /etc/crowdsec
  [ -s /etc/crowdsec/online_api_credentials.yaml ] || echo '# no Central API (install-system-deps.sh): Local API only' > /etc/crowdsec/online_api_credentials.yaml
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Whatever happened before us, Debian's portsentry daemon must not hold the tripwire ports.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now portsentry >/dev/null 2>&1 || true
  # The tests start their own LAPI and Prometheus on test addresses; the packaged services stay off.
  systemctl disable --now crowdsec prometheus >/dev/null 2>&1 || true
  # fail2ban is here for fail2ban-regex only: its service would start banning (sshd jail).
  systemctl disable --now fail2ban >/dev/null 2>&1 || true
fi
pkill -x portsentry >/dev/null 2>&1 || true
echo "install-system-deps: all system packages present"
