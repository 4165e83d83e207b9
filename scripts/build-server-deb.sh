#!/usr/bin/env bash
# Builds the headless server package dist-packages/portsentry-desktop-server_<version>_<arch>.deb
# from the compiled dist/ (run `npm run build` first): the helper, portsentryctl and shared/,
# the runtime packages they import (nothing else from node_modules), a bundled Node 24
# (Debian 12 ships Node 18), the systemd unit, and the config as a conffile generated from
# the embedded defaults. No Electron. Needs dpkg-deb; does not need root.
#
#   PORTSENTRY_NODE=/path/to/node   Node binary to bundle (default: the npm "node" package's)
#   PORTSENTRY_DEB_OUT=dir          output directory (default: dist-packages/)
#   PORTSENTRY_DEB_COMPRESSION=xz   dpkg-deb compressor: xz (default, Debian's), zstd, gzip
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

node=$(readlink -f "${PORTSENTRY_NODE:-$repo/node_modules/node/bin/node}")
out=${PORTSENTRY_DEB_OUT:-$repo/dist-packages}
prefix=/usr/lib/portsentry-desktop

die() { echo "build-server-deb: $*" >&2; exit 1; }
[ -x "$node" ] || die "no Node binary at $node (npm ci installs the \"node\" package)"
[ -f dist/privileged-helper/bin/portsentryd.js ] || die "dist/ is not built: run npm run build first"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (apt-get install dpkg)"

node_major=$("$node" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 24 ] || die "$node is Node $node_major; the helper needs Node 24 (node:sqlite)"
version=$("$node" -p 'require("./package.json").version')
case $("$node" -p process.arch) in
  x64) arch=amd64 ;;
  arm64) arch=arm64 ;;
  *) die "no Debian architecture for Node's $("$node" -p process.arch)" ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
lib=$root$prefix
mkdir -p "$lib" "$root/DEBIAN"

# 1. Compiled JavaScript: the helper and shared/, without tests or source maps.
mkdir -p "$lib/dist"
(cd dist && find privileged-helper shared -type f -name '*.js' -exec cp --parents -p -t "$lib/dist" {} +)
# The compiled files are ES modules: the nearest package.json must say so.
"$node" -e '
  const [file, version] = process.argv.slice(1);
  require("node:fs").writeFileSync(file, JSON.stringify({ name: "portsentry-desktop-server", version, private: true, type: "module" }, null, 2) + "\n");
' "$lib/package.json" "$version"

# 2. Runtime packages: every bare import in the shipped code (node: builtins aside), and
#    their own dependencies, copied from node_modules. Nothing the helper does not import.
mapfile -t wanted < <(grep -rhoE "(from|import\() *['\"][^'\"./][^'\"]*['\"]" "$lib/dist" \
  | sed -E "s/^(from|import\() *['\"]//; s/['\"]$//" | grep -v '^node:' \
  | sed -E 's#^(@[^/]+/[^/]+|[^@/][^/]*).*#\1#' | sort -u)
copied=()
while [ "${#wanted[@]}" -gt 0 ]; do
  pkg=${wanted[0]}
  wanted=("${wanted[@]:1}")
  case " ${copied[*]-} " in *" $pkg "*) continue ;; esac
  [ -f "node_modules/$pkg/package.json" ] || die "the helper imports \"$pkg\" but node_modules/$pkg is missing"
  mkdir -p "$lib/node_modules/$(dirname "$pkg")"
  cp -a "node_modules/$pkg" "$lib/node_modules/$pkg"
  copied+=("$pkg")
  mapfile -t -O "${#wanted[@]}" wanted < <("$node" -p '
    Object.keys(require(process.argv[1]).dependencies ?? {}).join("\n")' "$repo/node_modules/$pkg/package.json" | grep -v '^$' || true)
done
echo "build-server-deb: runtime packages: ${copied[*]-none}"

# 3. Node itself, with its licence.
install -D -m 0755 "$node" "$lib/node/bin/node"
node_licence=$(dirname "$(dirname "$node")")/LICENSE
[ -f "$node_licence" ] && install -D -m 0644 "$node_licence" "$lib/node/LICENSE"

# 4. Commands on PATH: thin wrappers, so the bundled Node is always the one used.
wrapper() { # name, script under dist/, target dir, node flags
  install -d "$root/$3"
  printf '#!/bin/sh\nexec %s/node/bin/node %s%s/dist/%s "$@"\n' "$prefix" "$4" "$prefix" "$2" > "$root/$3/$1"
  chmod 0755 "$root/$3/$1"
}
# A small young generation keeps the daemon's memory bounded under floods (see README, memory).
wrapper portsentryd privileged-helper/bin/portsentryd.js usr/sbin "--max-semi-space-size=2 "
if [ -f "$lib/dist/privileged-helper/bin/portsentryctl.js" ]; then
  wrapper portsentryctl privileged-helper/bin/portsentryctl.js usr/bin ""
else
  echo "build-server-deb: note: dist/privileged-helper/bin/portsentryctl.js not built yet; no portsentryctl" >&2
fi

# 5. Configuration (conffiles): the embedded defaults, written by the compiled module itself
#    so the file and the no-config behaviour can never disagree.
install -d "$root/etc/portsentry-desktop"
"$node" --input-type=module -e '
  const { pathToFileURL } = await import("node:url");
  const { EMBEDDED_CONFIG_TEXT } = await import(pathToFileURL(process.argv[1]).href);
  process.stdout.write("# /etc/portsentry-desktop/portsentry.conf, installed by portsentry-desktop-server.\n# Edit freely: package upgrades keep your changes. Check with: portsentryd --check-config -c THIS_FILE\n" + EMBEDDED_CONFIG_TEXT);
' "$lib/dist/privileged-helper/config/default-config.js" > "$root/etc/portsentry-desktop/portsentry.conf"
install -m 0644 build/debian/portsentry.ignore "$root/etc/portsentry-desktop/portsentry.ignore"
chmod 0644 "$root/etc/portsentry-desktop/portsentry.conf"

# 6. The service, documentation, maintainer scripts.
install -D -m 0644 build/systemd/portsentryd.service "$root/lib/systemd/system/portsentryd.service"
doc=$root/usr/share/doc/portsentry-desktop-server
install -D -m 0644 README.md "$doc/README.md"
install -m 0644 build/README.md "$doc/PACKAGING.md"
cat > "$doc/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: portsentry-desktop

Files: *
License: MIT

Files: usr/lib/portsentry-desktop/node/*
License: MIT and others; see /usr/lib/portsentry-desktop/node/LICENSE

Files: usr/lib/portsentry-desktop/node_modules/*
License: see each package's LICENSE file
EOF
install -m 0755 build/debian/postinst build/debian/prerm build/debian/postrm "$root/DEBIAN/"
printf '/etc/portsentry-desktop/portsentry.conf\n/etc/portsentry-desktop/portsentry.ignore\n' > "$root/DEBIAN/conffiles"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: portsentry-desktop-server
Version: $version
Architecture: $arch
Maintainer: PortSentry Desktop maintainers <portsentry-desktop@localhost>
Installed-Size: $installed_size
Depends: libc6 (>= 2.28), libstdc++6 (>= 6), libgcc-s1, nftables, tcpdump, util-linux, passwd
Section: net
Priority: optional
Description: port-scan detector and blackholer (headless PortSentry Desktop helper)
 portsentryd listens on tripwire ports and watches for stealth scans; a scanning
 host is blocked in its own nftables table within milliseconds. Reads the classic
 portsentry.conf syntax. This package is the privileged helper and portsentryctl
 with a bundled Node.js runtime, without the desktop app; it runs as the systemd
 service portsentryd.service.
EOF

# Ownership root:root whoever builds; modes normalised so a umask cannot leak in.
find "$root" -type d -exec chmod 0755 {} +
mkdir -p "$out"
deb=$out/portsentry-desktop-server_${version}_${arch}.deb
dpkg-deb --root-owner-group "-Z${PORTSENTRY_DEB_COMPRESSION:-xz}" --build "$root" "$deb" >/dev/null
echo "$deb"
