#!/bin/sh
# Desktop .deb/.rpm (electron-builder afterInstall): wire the bundled helper up as the
# systemd service portsentryd, exactly as the server package does. The unit expects the
# helper under /usr/lib/portsentry-desktop; the desktop package keeps it in the app's
# resources, so a symlink points there (unless the server package already provides it).
set -e
# electron-builder fills in the macro (the product's install directory under /opt).
HELPER='/opt/${sanitizedProductName}/resources/helper'
if [ ! -e /usr/lib/portsentry-desktop ]; then
  ln -s "$HELPER" /usr/lib/portsentry-desktop
fi
install -d -m 0755 /etc/portsentry-desktop
if [ ! -f /etc/portsentry-desktop/portsentry.conf ]; then
  "$HELPER/node/bin/node" --input-type=module -e '
    const { pathToFileURL } = await import("node:url");
    const { EMBEDDED_CONFIG_TEXT } = await import(pathToFileURL(process.argv[1]).href);
    process.stdout.write(EMBEDDED_CONFIG_TEXT);
  ' "$HELPER/dist/privileged-helper/config/default-config.js" > /etc/portsentry-desktop/portsentry.conf
fi
getent group portsentry >/dev/null || groupadd --system portsentry
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then usermod -a -G portsentry "$SUDO_USER" || true; fi
install -d -m 0750 -o root -g portsentry /var/lib/portsentry-desktop
if [ ! -f /lib/systemd/system/portsentryd.service ]; then
  install -m 0644 "$HELPER/systemd/portsentryd.service" /etc/systemd/system/portsentryd.service
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  systemctl enable --now portsentryd.service || true
fi
exit 0
