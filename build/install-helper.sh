#!/bin/sh
# Installs and starts the PortSentry helper from this app's own resources: the installer the
# desktop app runs (through sudo-prompt, after the user agreed) when the helper is missing.
# It ships as resources/install-helper.sh beside resources/helper (build/electron-builder.yml)
# and works wherever the app was put:
#   .deb/.rpm  (/opt/PortSentry Desktop, root-owned): /usr/lib/portsentry-desktop links there,
#              as build/linux/after-install.sh does;
#   tarball or AppImage (a home directory, a temporary AppImage mount): REFUSED. Root must never
#              run code its user (or anything running as that user) can rewrite, and that starts
#              with this very script: the app does not offer it from there (main/install-helper.ts)
#              and it stops here too, pointing to the system package.
# Then: the config (kept if present), the portsentry group with the desktop user in it, the
# state directory, the systemd unit, and the service enabled and started.
# Usage (as root): install-helper.sh [--user NAME]
set -eu

die() {
  echo "install-helper: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
USER_NAME=""
while [ $# -gt 0 ]; do
  case "$1" in
    --user)
      [ $# -ge 2 ] || die "--user needs a name"
      USER_NAME=$2
      shift 2
      ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [ -n "$USER_NAME" ]; then
  # Portable user names only: the name goes into usermod's argv, never through a shell.
  case "$USER_NAME" in
    [a-z_]*) ;;
    *) die "not a user name: $USER_NAME" ;;
  esac
  case "$USER_NAME" in
    *[!a-z0-9_-]*) die "not a user name: $USER_NAME" ;;
  esac
  [ "${#USER_NAME}" -le 32 ] || die "not a user name: $USER_NAME"
  id -u -- "$USER_NAME" >/dev/null 2>&1 || die "no such user: $USER_NAME"
fi

HERE=$(cd -- "$(dirname -- "$0")" && pwd -P)
SELF="$HERE/$(basename -- "$0")"
HELPER="$HERE/helper"
TARGET=/usr/lib/portsentry-desktop
MARK=.installed-by-portsentry-desktop-app
[ -x "$HELPER/node/bin/node" ] || die "no helper next to the installer: $HELPER/node/bin/node is missing"
[ -f "$HELPER/dist/privileged-helper/bin/portsentryd.js" ] || die "no helper next to the installer: $HELPER/dist is missing"

# Linking is safe only when nothing below the helper (and the helper directory itself) can be
# changed by anyone but root: a package's tree under /opt or /usr.
root_only() {
  case "$1" in
    /opt/* | /usr/*) ;;
    *) return 1 ;;
  esac
  [ -z "$(find "$1" \( ! -user root -o -perm /022 \) -print -quit 2>/dev/null)" ] || return 1
  dir=$(dirname -- "$1")
  while [ "$dir" != / ]; do
    [ "$(stat -c %u -- "$dir")" = 0 ] || return 1
    # drwxrwxrwx: the 6th character is group write, the 9th other write.
    case "$(stat -c %A -- "$dir")" in
      ?????w* | ????????w*) return 1 ;;
    esac
    dir=$(dirname -- "$dir")
  done
  return 0
}

if [ -d "$TARGET" ] && [ ! -L "$TARGET" ] && [ ! -e "$TARGET/$MARK" ]; then
  # The server package (or an admin) put a helper there: it stays, ours is not needed.
  echo "install-helper: keeping the helper already in $TARGET"
elif root_only "$HELPER" && root_only "$SELF"; then
  rm -rf -- "$TARGET"
  ln -s -- "$HELPER" "$TARGET"
  echo "install-helper: $TARGET -> $HELPER"
else
  die "this copy of the app ($HERE) is not root's alone, so root will not install a service from it: install the portsentry-desktop package (.deb or .rpm) for your system instead"
fi

install -d -m 0755 /etc/portsentry-desktop
if [ ! -f /etc/portsentry-desktop/portsentry.conf ]; then
  "$TARGET/node/bin/node" --input-type=module -e '
    const { pathToFileURL } = await import("node:url");
    const { EMBEDDED_CONFIG_TEXT } = await import(pathToFileURL(process.argv[1]).href);
    process.stdout.write(EMBEDDED_CONFIG_TEXT);
  ' "$TARGET/dist/privileged-helper/config/default-config.js" >/etc/portsentry-desktop/portsentry.conf.new
  mv /etc/portsentry-desktop/portsentry.conf.new /etc/portsentry-desktop/portsentry.conf
  echo "install-helper: wrote the default /etc/portsentry-desktop/portsentry.conf"
fi
getent group portsentry >/dev/null || groupadd --system portsentry
if [ -n "$USER_NAME" ]; then
  usermod -a -G portsentry -- "$USER_NAME"
  echo "install-helper: $USER_NAME is in the portsentry group (effective at the next login)"
fi
install -d -m 0750 -o root -g portsentry /var/lib/portsentry-desktop
if [ ! -f /lib/systemd/system/portsentryd.service ] && [ ! -f /usr/lib/systemd/system/portsentryd.service ]; then
  install -D -m 0644 "$TARGET/systemd/portsentryd.service" /etc/systemd/system/portsentryd.service
fi
"$TARGET/node/bin/node" "$TARGET/dist/privileged-helper/bin/portsentryd.js" --check-config -c /etc/portsentry-desktop/portsentry.conf >/dev/null \
  || die "the installed helper does not accept /etc/portsentry-desktop/portsentry.conf"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now portsentryd.service
  echo "install-helper: portsentryd is enabled and started"
else
  echo "install-helper: no systemd running here; start portsentryd with your init system"
fi
