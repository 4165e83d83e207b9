// Capture from netfilter's log, seen from outside: once a scanner is blocked, its packets
// cost user space nothing (the helper's capture frame counter does not grow while it floods),
// and a fragmented probe (nmap -sS -f), which the kernel reassembles before our rules see it,
// is logged with its kind and its sender blocked at the first probe, in the stealth and
// advanced modes. IPv4 only: nmap cannot fragment IPv6, and Linux drops an IPv6 first fragment
// that does not hold the whole TCP header (RFC 7112), so the 8-byte evasion has no IPv6 form.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText } from '../support/helper-config.js';
import { startOwnHelper, type OwnHelper } from '../support/own-helper.js';

const HOSTS = ['target', 'flooder', 'sentinel', 'frag4', 'flooder2', 'sentinel2', 'frag4b'] as const;
const METRICS_PORT = 9471;

function escaped(address: string): string {
  return address.replace(/[.]/g, '\\.');
}

describe('capture from netfilter: blocked sources cost nothing, fragments are seen whole', { timeout: 600_000 }, () => {
  let lab: Lab<(typeof HOSTS)[number]>;
  let dir: string;

  before(async () => {
    lab = await createLab(HOSTS);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-nflog-'));
  });

  after(async () => {
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** The helper's count of frames read from capture, from its Prometheus endpoint. */
  const frames = async (target: LabHost): Promise<number> => {
    const script = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then(r => r.text()).then(t => process.stdout.write(t))`;
    const page = (await lab.exec(target, [process.execPath, '-e', script])).stdout;
    const match = /^portsentry_capture_frames_total (\d+)$/m.exec(page);
    assert.ok(match !== null, `no capture frame count in:\n${page}`);
    return Number(match[1]);
  };

  for (const [modes, names] of [
    ['stcp sudp', { flooder: 'flooder', sentinel: 'sentinel', frag4: 'frag4' }],
    ['atcp audp', { flooder: 'flooder2', sentinel: 'sentinel2', frag4: 'frag4b' }],
  ] as const) {
    describe(`portsentryd with ${modes}`, () => {
      let helper: OwnHelper | undefined;
      let daemon: DaemonProcess;
      const table = `psnflog${modes.split(' ')[0]}`;

      before(async () => {
        helper = await startOwnHelper(lab, lab.hosts.target, join(dir, table), {
          keys: {
            NFT_TABLE: table,
            MODES: modes,
            TCP_PORTS: '1,79,111,31337',
            UDP_PORTS: '1,31337',
            ADVANCED_PORTS_TCP: '1024',
            ADVANCED_PORTS_UDP: '1024',
            SCAN_TRIGGER: '0',
            METRICS_ADDRESS: '127.0.0.1',
            METRICS_PORT: String(METRICS_PORT),
          },
        });
        daemon = helper.daemon;
      });

      after(async () => {
        await helper?.stop();
      });

      it("a blocked scanner's flood never reaches user space", async () => {
        const { target } = lab.hosts;
        const flooder = lab.hosts[names.flooder];
        const sentinel = lab.hosts[names.sentinel];
        await lab.exec(flooder, ['hping3', '-q', '-S', '-c', '1', '-p', '79', target.v4], { allowFailure: true });
        await daemon.waitFor(new RegExp(`Host ${escaped(flooder.v4)} has been blocked`));
        const before = await frames(target);
        // 3,000 probes of kinds the capture rules take, to watched ports, from the blocked scanner.
        await lab.exec(flooder, ['hping3', '-q', '-S', '-c', '1000', '-i', 'u200', '-p', '79', target.v4], { allowFailure: true });
        await lab.exec(flooder, ['hping3', '-q', '-F', '-c', '1000', '-i', 'u200', '-p', '111', target.v4], { allowFailure: true });
        await lab.exec(flooder, ['hping3', '-q', '--udp', '-c', '1000', '-i', 'u200', '-p', '1', target.v4], { allowFailure: true });
        // The barrier: a probe from a fresh source, sent after the flood, handled in order after it.
        await lab.exec(sentinel, ['hping3', '-q', '-S', '-c', '1', '-p', '111', target.v4], { allowFailure: true });
        await daemon.waitFor(new RegExp(`Host ${escaped(sentinel.v4)} has been blocked`));
        const grown = (await frames(target)) - before;
        // The sentinel's one probe, give or take the lab's own chatter (neighbour discovery is not captured).
        assert.ok(grown <= 5, `capture read ${grown} frames while a blocked source sent 3,000 probes`);
      });

      for (const family of [4] as const) {
        it(`logs a fragmented SYN scan (nmap -sS -f) over IPv${family} with its kind and blocks at the first probe`, async () => {
          const { target } = lab.hosts;
          const scanner = lab.hosts[names.frag4];
          const [source, address] = [scanner.v4, target.v4];
          await lab.exec(scanner, ['nmap', `-${family}`, '-sS', '-f', '-Pn', '-n', '--max-retries', '0', '-p', '1,79,111,31337', address], { timeoutMs: 60_000, allowFailure: true });
          await daemon.waitFor(new RegExp(`TCP SYN/Normal scan from host: ${escaped(source)}/${escaped(source)} to TCP port: \\d+`));
          await daemon.waitFor(new RegExp(`Host ${escaped(source)} has been blocked`));
          const sets = await blockedSetsText(lab, target, table);
          assert.ok(sets.includes(source), `the scanner is in a blocked set:\n${sets}`);
          const alerts = daemon.lines.filter((l) => l.includes(`from host: ${source}/`));
          assert.equal(alerts.length, 1, `one alert, the first probe's:\n${alerts.join('\n')}`);
        });
      }
    });
  }
});
