// One scan is one record, not one per probe: a real nmap scan of several tripwires from a lab
// host against a real helper (stealth mode, capture from netfilter) is pushed to a subscriber
// as one record that grows, served by `scans.list` and printed by `portsentryctl scans` as one
// line, first report-only (every probe handled: all ports, every probe counted, "reported")
// and then with blocking on ("blocked"). Each verdict waits on a barrier: a later probe from
// a sentinel host, whose record is pushed only after the scanner's last probe was folded in.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import type { ScanRecord } from '../../shared/domain/scan-record.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { helperConfigText } from '../support/helper-config.js';
import { portsentryctl, type Ctl } from '../support/portsentryctl.js';
import { until } from '../support/wait.js';

const HOSTS = ['target', 'reporting', 'sentinel', 'blocking', 'sentinel2'] as const;
const PORTS = [1, 79, 111, 31337] as const;
const TABLE = 'psscanrec';

describe('scan records: one record per scan, pushed as it grows', { timeout: 600_000 }, () => {
  let lab: Lab<(typeof HOSTS)[number]>;
  let dir: string;
  let daemon: DaemonProcess;
  let client: HelperClient;
  let ctl: Ctl;
  const pushed: ScanRecord[] = [];

  before(async () => {
    lab = await createLab(HOSTS);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-scanrec-'));
    await writeFile(join(dir, 'ignore'), '');
    await mkdir(join(dir, 'run'), { recursive: true });
    const conf = join(dir, 'portsentry.conf');
    await writeFile(
      conf,
      helperConfigText(dir, {
        NFT_TABLE: TABLE,
        MODES: 'stcp',
        TCP_PORTS: PORTS.join(','),
        UDP_PORTS: '1',
        SCAN_TRIGGER: '0',
        // Report only first: every probe reaches the helper, so the record counts them all.
        BLOCK_TCP: '0',
      }),
    );
    const socket = join(dir, 'run', 'admin', 'helper.sock');
    ctl = portsentryctl(socket);
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf]);
    await daemon.waitFor('PortSentry is now active and listening');
    await daemon.waitFor('Admin control socket (root only) listening on');
    client = await HelperClient.connect(socket);
    await client.subscribeScans((record) => pushed.push(record));
  });

  after(async () => {
    client?.close();
    await daemon?.stop();
    await lab?.exec(lab.hosts.target, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** nmap -sS of the tripwires from `scanner`, then a probe from `sentinel`; resolves once the sentinel's record was pushed. */
  const scanThenBarrier = async (scanner: LabHost, sentinel: LabHost) => {
    const target = lab.hosts.target;
    await lab.exec(scanner, ['nmap', '-sS', '-4', '-Pn', '-n', '--max-retries', '0', '-p', PORTS.join(','), target.v4], { timeoutMs: 60_000 });
    await lab.exec(sentinel, ['hping3', '-q', '-S', '-c', '1', '-p', '31337', target.v4], { allowFailure: true });
    await until(`the sentinel ${sentinel.v4}'s record is pushed`, () => pushed.some((r) => r.scanner === sentinel.v4));
  };

  /** The scanner's records as `portsentryctl --json scans` prints them. */
  const listed = async (scanner: string): Promise<ScanRecord[]> => {
    const result = await ctl(['--json', 'scans', '--limit', '100']);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ScanRecord)
      .filter((record) => record.scanner === scanner);
  };

  it('a report-only nmap scan is one record: every port, every probe, "reported"; pushed as it grew, listed and printed as one line', async () => {
    const scanner = lab.hosts.reporting.v4;
    await scanThenBarrier(lab.hosts.reporting, lab.hosts.sentinel);
    const records = await listed(scanner);
    assert.equal(records.length, 1, `one record for the whole scan: ${JSON.stringify(records)}`);
    const record = records[0]!;
    assert.deepEqual(record.ports, { tcp: [...PORTS], udp: [] });
    assert.deepEqual(record.kinds, ['syn']);
    assert.ok(record.probes >= PORTS.length, `every probe counted: ${record.probes}`);
    assert.equal(record.reason, 'report only (BLOCK_TCP=0)', "and why, in the helper's words");
    assert.equal(record.outcome, 'reported', daemon.lines.filter((l) => l.includes(scanner)).join('\n'));
    const mine = pushed.filter((r) => r.scanner === scanner);
    assert.ok(mine.length >= 1, 'the record was pushed');
    assert.deepEqual(new Set(mine.map((r) => r.id)), new Set([record.id]), 'every push is of the one record');
    assert.deepEqual(mine.at(-1), record, 'the last push is the record as stored');
    const text = await ctl(['scans']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n').filter((line) => line.includes(` ${scanner} `));
    assert.equal(lines.length, 1, text.stdout);
    assert.match(lines[0]!, new RegExp(`reported +${scanner.replaceAll('.', '\\.')}  ${record.probes} probes  TCP 1,79,111,31337  \\(syn\\): not blocked: report only \\(BLOCK_TCP=0\\)$`));
  });

  it('with blocking on, a scan is still one record, "blocked"', async () => {
    const set = await ctl(['config', 'set', 'BLOCK_TCP=1']);
    assert.equal(set.code, 0, set.stderr);
    const scanner = lab.hosts.blocking.v4;
    await scanThenBarrier(lab.hosts.blocking, lab.hosts.sentinel2);
    const records = await listed(scanner);
    assert.equal(records.length, 1, `one record for the whole scan: ${JSON.stringify(records)}`);
    assert.equal(records[0]!.outcome, 'blocked');
    assert.equal(records[0]!.reason, undefined);
    assert.deepEqual(records[0]!.kinds, ['syn']);
    assert.deepEqual(new Set(pushed.filter((r) => r.scanner === scanner).map((r) => r.id)), new Set([records[0]!.id]));
  });
});
