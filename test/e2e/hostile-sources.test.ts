// Attacks on the blocking itself, end to end: an IPv6 packet forged from ::ffff:a.b.c.d must
// not blackhole the IPv4 host it names; spoofed scanners from one /24 cannot add more than
// BLOCK_RATE_PER_PREFIX blocks a minute; and a KILL_RUN_CMD that prints a long multi-line
// error cannot poison the event store (every page of events.list still reads).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText, startTcpService } from '../support/helper-config.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const SPOOF_SYN = fileURLToPath(new URL('../../../test/support/spoof-syn.py', import.meta.url));
const SPOOF_SYN6 = fileURLToPath(new URL('../../../test/support/spoof-syn6.py', import.meta.url));
const CTL = fileURLToPath(new URL('../../privileged-helper/bin/portsentryctl.js', import.meta.url));
const SERVICE_PORT = 8080;
const TCP_TRIPWIRES = '79,111,143,31337';
const UDP_TRIPWIRES = '69,161,31337';

/** portsentryctl --json prints one JSON value a line. */
function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as unknown);
}

describe('hostile sources', { timeout: 300_000 }, () => {
  let lab: Lab<'target' | 'attacker' | 'victim'>;
  let target: LabHost, attacker: LabHost, victim: LabHost;
  let dir: string;
  let service: ReturnType<Lab['spawn']>;

  before(async () => {
    lab = await createLab(['target', 'attacker', 'victim']);
    ({ target, attacker, victim } = lab.hosts);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-hostile-'));
    await writeFile(join(dir, 'ignore'), '');
    service = await startTcpService(lab, target, SERVICE_PORT);
    await until('the service listens', () => tcpReachable(lab, victim, target.v4, SERVICE_PORT));
    // Spoofed scanners in 198.18.5.0/24 and 198.18.6.0/24 are routed back through the attacker.
    await lab.exec(target, ['ip', 'route', 'add', '198.18.4.0/22', 'via', attacker.v4]);
  });

  after(async () => {
    service?.kill();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  describe('an IPv6 SYN from ::ffff:<victim> (stealth modes, kernel trap armed)', () => {
    let daemon: DaemonProcess;
    const table = 'psmapped';
    before(async () => {
      const conf = join(dir, 'mapped.conf');
      await writeFile(
        conf,
        helperConfigText(join(dir), { TCP_PORTS: TCP_TRIPWIRES, UDP_PORTS: UDP_TRIPWIRES, SCAN_TRIGGER: '0', NFT_TABLE: table, STORE_FILE: join(dir, 'mapped.db'), RPC_SOCKET: '' }),
      );
      daemon = startDaemon(lab, target, ['-c', conf, '-stcp', '-sudp', '-udp']);
      await daemon.waitFor('PortSentry is now active and listening');
    });
    after(async () => {
      await daemon?.stop();
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    });

    it('blocks nothing: neither the IPv4 host it names nor the mapped address; the drop is counted in the log', async () => {
      const mapped = `::ffff:${victim.v4}`;
      await lab.exec(attacker, ['python3', SPOOF_SYN6, mapped, target.v6, '143', 'tcp', '3']);
      await lab.exec(attacker, ['python3', SPOOF_SYN6, mapped, target.v6, '31337', 'udp', '3']);
      await daemon.waitFor(/WARNING: dropped \d+ packet\(s\) from impossible source addresses .*IPv4-mapped/);
      const sets = await blockedSetsText(lab, target, table);
      assert.ok(!sets.includes(victim.v4), `the IPv4 host is not blocked:\n${sets}\n${daemon.lines.join('\n')}`);
      assert.ok(!/ffff/i.test(sets), `no mapped address in the sets:\n${sets}`);
      assert.equal(await tcpReachable(lab, victim, target.v4, SERVICE_PORT), true, 'the IPv4 host still reaches the service');
      assert.ok(!daemon.lines.some((l) => l.includes(`from host: ${victim.v4}`)), 'no alert names the IPv4 host');
      // A real scan from the attacker is still caught: the sensors are alive.
      await lab.exec(attacker, ['nmap', '-6', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', TCP_TRIPWIRES, target.v6]);
      await until('the real scanner is blocked', async () => (await blockedSetsText(lab, target, table)).includes(attacker.v6));
    });
  });

  describe('spoofed scanners from one /24 (BLOCK_RATE_PER_PREFIX)', () => {
    let daemon: DaemonProcess;
    const table = 'psrate';
    before(async () => {
      const conf = join(dir, 'rate.conf');
      // The kernel trap would add them itself; the limit is the daemon's, so it is off here.
      await writeFile(
        conf,
        helperConfigText(dir, {
          TCP_PORTS: TCP_TRIPWIRES,
          UDP_PORTS: '',
          SCAN_TRIGGER: '0',
          NFT_TABLE: table,
          KERNEL_TRAP: '0',
          BLOCK_RATE_PER_PREFIX: '5',
          STORE_FILE: join(dir, 'rate.db'),
          RPC_SOCKET: join(dir, 'rate.sock'),
        }),
      );
      daemon = startDaemon(lab, target, ['-c', conf, '-stcp']);
      await daemon.waitFor('PortSentry is now active and listening');
    });
    after(async () => {
      await daemon?.stop();
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    });

    it('at most the limit of new blocks from the /24, the limit logged once, refused probes recorded as rate-limited; another /24 is still blocked', async () => {
      await lab.exec(attacker, ['python3', SPOOF_SYN, target.v4, '143', '60', '198.18.5.1', '2000']);
      await daemon.waitFor(/WARNING: not blocking 198\.18\.5\.\d+ and others: more than 5 new blocks a minute from 198\.18\.5\.0\/24/);
      await lab.exec(attacker, ['python3', SPOOF_SYN, target.v4, '143', '1', '198.18.6.1']);
      await until('the scanner of the other /24 is blocked', async () => (await blockedSetsText(lab, target, table)).includes('198.18.6.1'));
      const sets = await blockedSetsText(lab, target, table);
      const fromPrefix = sets.match(/198\.18\.5\.\d+/g) ?? [];
      // 5 at once, plus what the minute's refill allowed while the 60 arrived (well under 1 s).
      assert.ok(fromPrefix.length >= 5 && fromPrefix.length <= 6, `blocked from 198.18.5.0/24: ${fromPrefix.length}\n${sets}`);
      assert.equal(daemon.lines.filter((l) => l.includes('more than 5 new blocks a minute from 198.18.5.0/24')).length, 1, 'logged once');
      const { stdout } = await run(process.execPath, [CTL, '--socket', join(dir, 'rate.sock'), '--json', 'events', '--limit', '200']);
      const events = jsonLines(stdout) as Array<{ action: string; source: string }>;
      assert.ok(events.filter((e) => e.action === 'rate-limited' && e.source.startsWith('198.18.5.')).length >= 50, 'the refused probes are recorded as rate-limited');
    });
  });

  describe('a KILL_RUN_CMD that prints a long multi-line error', () => {
    let daemon: DaemonProcess;
    const table = 'pschatty';
    before(async () => {
      const script = join(dir, 'chatty.sh');
      // Many lines, control characters and a last line far longer than any event may hold.
      await writeFile(
        script,
        `#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i of a chatty failure" >&2; done\nprintf 'tab\\there, escape \\033[31mred\\033[0m, cr\\r and %s\\n' "$(head -c 3000 /dev/zero | tr '\\\\0' x)" >&2\nexit 3\n`,
      );
      await chmod(script, 0o755);
      const longArgs = Array.from({ length: 60 }, (_, i) => `argument-number-${i}-padding-padding`).join(' ');
      const conf = join(dir, 'chatty.conf');
      await writeFile(
        conf,
        helperConfigText(dir, {
          TCP_PORTS: TCP_TRIPWIRES,
          UDP_PORTS: '',
          SCAN_TRIGGER: '0',
          NFT_TABLE: table,
          KILL_RUN_CMD: `${script} $TARGET$ ${longArgs}`,
          STORE_FILE: join(dir, 'chatty.db'),
          RPC_SOCKET: join(dir, 'chatty.sock'),
        }),
      );
      daemon = startDaemon(lab, target, ['-c', conf, '-tcp']);
      await daemon.waitFor('PortSentry is now active and listening');
    });
    after(async () => {
      await daemon?.stop();
      await lab.exec(target, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    });

    it('the failure is stored cleaned and bounded, and events.list still reads every page', async () => {
      // From the victim host: the attacker routes the spoofed ranges, so it is a gateway here.
      await lab.exec(victim, ['socat', '-u', 'OPEN:/dev/null', `TCP4:${target.v4}:143,connect-timeout=2`], { allowFailure: true });
      await daemon.waitFor('There was an error trying to run command');
      let events: Array<{ action: string; reason?: string; source: string }> = [];
      await until('the failure is stored', async () => {
        const result = await run(process.execPath, [CTL, '--socket', join(dir, 'chatty.sock'), '--json', 'events', '--limit', '50']).catch((error: { stderr?: string }) => {
          throw new Error(`events.list failed: ${error.stderr ?? String(error)}`);
        });
        events = jsonLines(result.stdout) as typeof events;
        return events.some((e) => e.action === 'block-failed');
      });
      const failed = events.find((e) => e.action === 'block-failed');
      assert.ok(failed?.reason !== undefined);
      assert.ok(failed.reason.length <= 1024, `bounded: ${failed.reason.length}`);
      assert.doesNotMatch(failed.reason, /[\u0000-\u001f\u007f]/);
      assert.match(failed.reason, /There was an error trying to run command/);
      // And the host was still blocked: the firewall step succeeded.
      await until('the prober is blocked', async () => (await blockedSetsText(lab, target, table)).includes(victim.v4));
    });
  });
});
