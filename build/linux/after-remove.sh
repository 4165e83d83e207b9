#!/bin/sh
# Desktop .deb/.rpm (electron-builder afterRemove): undo after-install.sh. Blocks stay in
# the nftables table (classic behaviour); config and state stay for a reinstall.
set -e
if [ -d /run/systemd/system ] && [ -f /etc/systemd/system/portsentryd.service ]; then
  systemctl disable --now portsentryd.service || true
fi
rm -f /etc/systemd/system/portsentryd.service
if [ -L /usr/lib/portsentry-desktop ]; then rm -f /usr/lib/portsentry-desktop; fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
exit 0
