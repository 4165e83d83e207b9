// The daemon on the dry-run firewall (no kernel, no sockets: probes are handed to it as the
// sensors would): what it says about a host, blocked or only reported, is what the firewall
// holds, and "not protecting" is said whenever nothing would be blocked.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Daemon } from '../../../privileged-helper/daemon/daemon.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { parseIgnoreText } from '../../../privileged-helper/config/ignore-list.js';
import { HistoryWriter } from '../../../privileged-helper/reporters/history-file.js';
import { BlockLedger } from '../../../privileged-helper/firewall/block-ledger.js';
import { DryRunBackend } from '../../../privileged-helper/firewall/dry-run-backend.js';
import { FirewallOwner } from '../../../privileged-helper/firewall/firewall-owner.js';
import type { HelperEvent } from '../../../shared/domain/detection-event.js';
import type { Probe } from '../../../shared/domain/types.js';

function daemonWith(keys: string, ignoreText = '') {
  const dir = mkdtempSync(join(tmpdir(), 'daemon-unit-'));
  const config = parseConfig(`TCP_PORTS="31337"\nUDP_PORTS="31337"\nSCAN_TRIGGER="0"\nHISTORY_FILE="${dir}/history"\nBLOCKED_FILE="${dir}/blocked"\n${keys}`, 'unit.conf');
  let now = 5_000_000;
  const clock = () => now;
  const backend = new DryRunBackend(clock);
  const ledger = new BlockLedger();
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  const owner = new FirewallOwner(backend, ledger, { log, clock, checkIntervalMs: 3_600_000 });
  const daemon = new Daemon(
    { config, ignore: parseIgnoreText(ignoreText, 'ignore'), modes: ['tcp', 'udp'] },
    {
      clock,
      log,
      actions: { firewall: owner, runCommand: async () => ({ ok: true, detail: '' }), addHostsDenyLine: async () => undefined },
      history: new HistoryWriter(join(dir, 'history'), join(dir, 'blocked'), log),
      hostAddresses: async () => ({ own: ['198.18.0.1'] }),
      ledger,
    },
  );
  const events: HelperEvent[] = [];
  daemon.onEvent((event) => events.push(event));
  /** Hands a probe to the daemon and waits until its response is done. */
  const probe = async (source: string, protocol: 'tcp' | 'udp' = 'udp') => {
    const p: Probe = { source, family: 4, port: 31337, protocol, kind: protocol === 'udp' ? 'udp' : 'connect', mode: protocol, at: now };
    const before = events.length;
    daemon.handleProbe(p);
    // Its event comes after the history file is written (real I/O): wait for it (a safety net of 10 s, never the verdict).
    for (let i = 0; i < 10_000 && events.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    now += 10;
  };
  return { daemon, backend, owner, lines, events, probe, ledger, clock };
}

describe('daemon: one truth for "blocked"', () => {
  it('a report-only host (BLOCK_UDP=0) is never called blocked: not in the log, the events, the count or the firewall', async () => {
    const { daemon, backend, lines, events, probe } = daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="0"');
    await probe('198.18.0.5');
    await probe('198.18.0.5');
    assert.deepEqual(backend.held(), []);
    assert.deepEqual(daemon.heldBlocks(), []);
    assert.doesNotMatch(lines.join('\n'), /already blocked|has been blocked/);
    assert.match(lines.join('\n'), /Host: 198\.18\.0\.5 was reported already and is not blocked \(report only \(BLOCK_UDP=0\)\)/);
    const actions = events.filter((e) => e.type === 'scan').map((e) => (e.type === 'scan' ? [e.action, e.reason] : []));
    assert.deepEqual(actions, [
      ['alert-only', 'not blocked: report only (BLOCK_UDP=0)'],
      ['alert-only', 'reported already, not blocked: report only (BLOCK_UDP=0)'],
    ]);
    // The same host over TCP, where blocking is on, is blocked for real.
    await probe('198.18.0.5', 'tcp');
    assert.deepEqual(backend.held(), ['198.18.0.5']);
    assert.deepEqual(
      daemon.heldBlocks().map((b) => b.key),
      ['198.18.0.5'],
    );
  });

  it('a block holds in the kernel and in what the daemon says after another program flushes the firewall', async () => {
    const { daemon, backend, owner, probe } = daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"');
    await owner.start();
    await probe('198.18.0.5');
    backend.otherProgram.flushRuleset();
    await new Promise((resolve) => setTimeout(resolve, 40));
    await owner.check(null);
    assert.deepEqual(backend.held(), ['198.18.0.5']);
    assert.deepEqual(
      daemon.heldBlocks().map((b) => b.key),
      backend.held(),
    );
    await owner.stop();
  });

  it('says "not protecting", with why, when blocking is off, when paused and when everything is ignored', async () => {
    assert.deepEqual(daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"').daemon.protection(), { protecting: true, reason: null });
    assert.match(daemonWith('BLOCK_TCP="0"\nBLOCK_UDP="2"').daemon.protection().reason ?? '', /blocking is off \(BLOCK_TCP=0, BLOCK_UDP=2\)/);
    assert.match(daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"', '0.0.0.0/0\n::/0\n').daemon.protection().reason ?? '', /the ignore list covers every IPv4 and IPv6 address/);
    assert.equal(daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"', '0.0.0.0/0\n').daemon.protection().protecting, true, 'IPv6 is still watched');
    const { daemon } = daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"');
    await daemon.setPaused(true);
    assert.deepEqual(daemon.protection(), { protecting: false, reason: 'protection is paused' });
  });
});

describe('daemon: REPEAT_LOG, how probes from an already blocked host are logged', () => {
  const at = (source: string, port: number): Probe => ({ source, family: 4, port, protocol: 'tcp', kind: 'connect', mode: 'tcp', at: 5_000_100 + port });
  const connect = (source: string, port: number) => `attackalert: Connect from host: ${source}/${source} to TCP port: ${port}`;
  const repeat = (source: string) => `attackalert: Host: ${source} is already blocked. Ignoring`;

  it('absent (a PortSentry 1.2 config): every probe is logged with its port, then "already blocked", as 1.2 does', async () => {
    const { daemon, lines, probe } = daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"');
    await probe('198.18.0.5', 'tcp');
    const start = lines.length;
    for (const port of [1, 11, 15]) daemon.handleProbe(at('198.18.0.5', port));
    assert.deepEqual(lines.slice(start), [connect('198.18.0.5', 1), repeat('198.18.0.5'), connect('198.18.0.5', 11), repeat('198.18.0.5'), connect('198.18.0.5', 15), repeat('198.18.0.5')]);
  });

  it('"minute": one "already blocked" line a minute, no port', async () => {
    const { lines, probe, daemon } = daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"\nREPEAT_LOG="minute"');
    await probe('198.18.0.5', 'tcp');
    const start = lines.length;
    for (const port of [1, 11, 15]) daemon.handleProbe(at('198.18.0.5', port));
    assert.deepEqual(lines.slice(start), [repeat('198.18.0.5')]);
  });

  it('"every": probes that arrive while the block is being applied are logged after its lines, not lost', async () => {
    const { daemon, lines, events } = daemonWith('BLOCK_TCP="1"\nBLOCK_UDP="1"');
    daemon.handleProbe(at('198.18.0.7', 31337));
    daemon.handleProbe(at('198.18.0.7', 79));
    // The block's event comes after the history write (real I/O); the held probe is logged
    // right after: wait for its line (a safety net of 10 s, never the verdict).
    for (let i = 0; i < 10_000 && !lines.includes(repeat('198.18.0.7')); i++) await new Promise((resolve) => setTimeout(resolve, 1));
    const blocked = lines.findIndex((line) => line.startsWith('attackalert: Host 198.18.0.7 has been blocked'));
    assert.ok(blocked >= 0, lines.join('\n'));
    assert.deepEqual(lines.slice(blocked + 1), [connect('198.18.0.7', 79), repeat('198.18.0.7')]);
    assert.equal(events.filter((e) => e.type === 'scan' && e.action === 'blocked').length, 1);
  });

  it('refuses a value it does not know', () => {
    assert.throws(() => parseConfig('REPEAT_LOG="always"', 'unit.conf'), /REPEAT_LOG must be "every".*or "minute"/);
  });
});
