// RESOLVE_HOST as PortSentry 1.2 did it: the scanner's name as gethostbyaddr gives it (NSS:
// the hosts file, then DNS), fully qualified, in the attack line and the history. The name
// comes from a hosts file of the test's own namespace (/etc/netns/<ns>/hosts, which
// `ip netns exec` mounts over /etc/hosts for the daemon alone), never the machine's.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab } from '../support/netns-lab.js';
import { helperConfigText } from '../support/helper-config.js';

describe('RESOLVE_HOST names the scanner by its canonical name', { timeout: 120_000 }, () => {
  let lab: Lab<'target' | 'scanner'>;
  let dir: string;
  let netnsEtc: string;
  let daemon: DaemonProcess;

  before(async () => {
    lab = await createLab(['target', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-resolve-'));
    netnsEtc = join('/etc/netns', lab.hosts.target.netns);
    await mkdir(netnsEtc, { recursive: true });
    // Canonical name first, then an alias: 1.2 (gethostbyaddr's h_name) logs the canonical one.
    await writeFile(join(netnsEtc, 'hosts'), `127.0.0.1 localhost\n${lab.hosts.scanner.v4} scanner.lab.example scanner\n`);
    await writeFile(join(dir, 'ignore'), '');
    const conf = join(dir, 'portsentry.conf');
    await writeFile(conf, helperConfigText(dir, { TCP_PORTS: '1,79', RESOLVE_HOST: '1', NFT_TABLE: 'psresolve' }));
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-tcp']);
    await daemon.waitFor('PortSentry is now active and listening');
  });

  after(async () => {
    await daemon?.stop();
    await lab?.destroy();
    if (netnsEtc !== undefined) await rm(netnsEtc, { recursive: true, force: true });
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('writes the fully qualified name in the attack line and the history', async () => {
    const { target, scanner } = lab.hosts;
    await tcpReachable(lab, scanner, target.v4, 79);
    await daemon.waitFor(`attackalert: Connect from host: scanner.lab.example/${scanner.v4} to TCP port: 79`);
    let history = '';
    for (let i = 0; i < 100 && !history.includes(scanner.v4); i++) {
      history = await readFile(join(dir, 'history'), 'utf8').catch(() => '');
      if (!history.includes(scanner.v4)) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(history, new RegExp(`Host: scanner\\.lab\\.example/${scanner.v4.replace(/\./g, '\\.')} Port: 79 TCP Blocked`));
  });
});
