// Each OS's default control channel, checked on any machine (the platform is a parameter),
// and the places that must agree with it: the helper's default, the app's, the systemd unit's
// runtime directory and the macOS daemon.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RPC_SOCKET } from '../../privileged-helper/config/config.js';
import { DEFAULT_SOCKET_PATH } from '../../shared/rpc/helper-client.js';
import { defaultSocketPath, LINUX_SOCKET, MACOS_SOCKET, WINDOWS_PIPE } from '../../shared/socket-paths.js';

const repoFile = (path: string) => readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');

describe('default control channel per OS', () => {
  it("Linux: under /run, in the unit's RuntimeDirectory", () => {
    assert.equal(defaultSocketPath('linux'), '/run/portsentry-desktop/helper.sock');
    assert.equal(LINUX_SOCKET, '/run/portsentry-desktop/helper.sock');
    assert.match(repoFile('build/systemd/portsentryd.service'), /^RuntimeDirectory=portsentry-desktop$/m);
  });

  it('macOS: under /var/run (macOS has no /run), which the launchd daemon leaves to the default', () => {
    assert.equal(defaultSocketPath('darwin'), '/var/run/portsentry-desktop/helper.sock');
    assert.equal(MACOS_SOCKET.startsWith('/run/'), false);
    // The daemon runs with the config the .pkg writes; neither names another socket.
    assert.doesNotMatch(repoFile('build/launchd/org.portsentry.desktop.helper.plist'), /RPC_SOCKET|\.sock/);
    assert.doesNotMatch(repoFile('build/mac/postinstall'), /RPC_SOCKET|\/run\//);
  });

  it('Windows: the named pipe the service host secures', () => {
    assert.equal(defaultSocketPath('win32'), '\\\\.\\pipe\\portsentry-desktop-helper');
    assert.equal(WINDOWS_PIPE, defaultSocketPath('win32'));
  });

  it('other Unixes use the Linux path; the helper, portsentryctl and the app share one default', () => {
    assert.equal(defaultSocketPath('freebsd'), LINUX_SOCKET);
    assert.equal(DEFAULT_RPC_SOCKET, defaultSocketPath(process.platform));
    assert.equal(DEFAULT_SOCKET_PATH, DEFAULT_RPC_SOCKET);
    assert.match(repoFile('main/electron/main.ts'), /defaultSocketPath\(process\.platform\)/);
  });
});
