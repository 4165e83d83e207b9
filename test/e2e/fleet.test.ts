// Two hosts in one CrowdSec fleet, end to end with the real Debian packages: a LAPI of the
// test's own in its own namespace, set up with the README's own commands (TLS with a private
// CA, cscli machines add -f /dev/null, the systemd drop-in's NODE_EXTRA_CA_CERTS, the
// portsentry.conf lines), portsentryd on hosts A and B, nmap against A. B blocks
// the scanner without being touched, records it as from the fleet with A as the origin,
// lifts it when the decision is deleted, and never blocks its own or ignored addresses,
// whatever the fleet says. With the LAPI down, A keeps detecting and blocking, and its alert
// arrives once the LAPI is back. A real Prometheus scrapes A and counts the blocks.

import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import type { StatusResult } from '../../shared/protocol/schemas.js';
import { CrowdsecLapi } from '../support/crowdsec-lapi.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { PrometheusServer } from '../support/prometheus-server.js';
import { readmeBlock, readmeCommands, substitute } from '../support/readme-blocks.js';
import { until } from '../support/wait.js';

const TABLE = 'psfleet';
const TCP_TRIPWIRES = '1,11,15,79,111,119,143,540,635,1080,1524,2000,5742,6667,12345,31337';
const METRICS_PORT = 9469;
const SCENARIO = 'portsentry/port-scan';

function inSet(text: string, address: string): boolean {
  return new RegExp(`(^|[\\s{,])${address.replace(/[.]/g, '\\.')}([\\s},]|$)`, 'm').test(text);
}

describe('a fleet of two hosts through a CrowdSec LAPI, and Prometheus', { timeout: 600_000 }, () => {
  let lab: Lab<'lapi' | 'hostA' | 'hostB' | 'scanner' | 'lateScanner' | 'friendOfB'>;
  let dir: string;
  let lapi: CrowdsecLapi;
  let a: DaemonProcess, b: DaemonProcess;
  let hostA: LabHost, hostB: LabHost, scanner: LabHost, lateScanner: LabHost, friendOfB: LabHost;
  let prometheus: PrometheusServer | null = null;
  /** The bouncer keys cscli printed (secrets: never in a log, config.get or the metrics). */
  let keyA = '';
  let keyB = '';
  const socket = (name: 'a' | 'b') => join(dir, name, 'run', 'helper.sock');
  const setOf = (host: LabHost) => blockedSetsText(lab, host, TABLE);
  const status = async (name: 'a' | 'b'): Promise<StatusResult> => {
    const client = await HelperClient.connect(socket(name));
    try {
      return await client.call('status', {});
    } finally {
      client.close();
    }
  };
  const nmap = (from: LabHost, target: LabHost) => lab.exec(from, ['nmap', '-n', '-Pn', '-sS', '-p', TCP_TRIPWIRES, '--max-retries', '0', target.v4], { timeoutMs: 120_000, allowFailure: true });

  before(async () => {
    lab = await createLab(['lapi', 'hostA', 'hostB', 'scanner', 'lateScanner', 'friendOfB']);
    ({ hostA, hostB, scanner, lateScanner, friendOfB } = lab.hosts);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-fleet-'));
    lapi = await CrowdsecLapi.create(lab, lab.hosts.lapi, join(dir, 'lapi'), { tls: true });
    const ownCredentials = await readFile(lapi.credentialsFile, 'utf8');
    // The README's registration, for each host: a machine (-f /dev/null) and a bouncer whose key cscli prints.
    const register = async (machine: string, password: string): Promise<string> => {
      const words = substitute([
        ['web-01-portsentry', `bouncer-${machine}`],
        ['web-01', machine],
        ['a-long-random-password', password],
      ]);
      let printed = '';
      for (const [program, ...argv] of readmeCommands('register', words)) {
        assert.equal(program, 'cscli');
        printed = await lapi.cscli(argv);
      }
      const key = /^\s*([A-Za-z0-9+/=_-]{20,})\s*$/m.exec(printed)?.[1];
      assert.ok(key !== undefined, `cscli bouncers add printed no key: ${printed}`);
      return key;
    };
    keyA = await register('hostA', 'passwordA-0123456789');
    keyB = await register('hostB', 'passwordB-0123456789');
    assert.equal(await readFile(lapi.credentialsFile, 'utf8'), ownCredentials, "-f /dev/null left the LAPI host's own login alone");
    await lapi.start();

    const helper = async (name: 'a' | 'b', machine: string, password: string, key: string, ignore: readonly string[], extra: Record<string, string>) => {
      const hostDir = join(dir, name);
      await writeFile(join(dir, `${name}.ignore`), `${ignore.join('\n')}\n`);
      await mkdir(hostDir, { recursive: true });
      // The README's lines for portsentry.conf, with this host's machine, password and key.
      const words = substitute([
        ['10.0.0.5', lapi.host.v4],
        ['web-01', machine],
        ['a-long-random-password', password],
        ['THE-KEY-CSCLI-PRINTED', key],
      ]);
      const fleetLines = Object.fromEntries(readmeBlock('portsentry.conf').map((line) => /^(\w+)="(.*)"$/.exec(words(line))!.slice(1, 3) as [string, string]));
      await writeFile(
        join(hostDir, 'portsentry.conf'),
        helperConfigText(hostDir, { TCP_PORTS: TCP_TRIPWIRES, NFT_TABLE: TABLE, IGNORE_FILE: join(dir, `${name}.ignore`), FLEET_DECISION_DURATION: '3600', ...fleetLines, ...extra }),
      );
      return join(hostDir, 'portsentry.conf');
    };
    // A ignores B (the admin's ban of B's address below must not cut A off from it either).
    const confA = await helper('a', 'hostA', 'passwordA-0123456789', keyA, [hostB.v4], { METRICS_ADDRESS: hostA.v4, METRICS_PORT: String(METRICS_PORT) });
    const confB = await helper('b', 'hostB', 'passwordB-0123456789', keyB, [friendOfB.v4], {});
    // The README's systemd drop-in: the CA copied to where it says, the variable it sets.
    const env: Record<string, string> = {};
    for (const line of readmeBlock('drop-in')) {
      const setting = /^Environment=(\w+)=(.*)$/.exec(line);
      if (setting !== null) env[setting[1]!] = setting[2]!.replace('/etc/portsentry-desktop/', `${dir}/`);
    }
    assert.ok(env['NODE_EXTRA_CA_CERTS'] !== undefined, 'the drop-in sets NODE_EXTRA_CA_CERTS');
    await copyFile(lapi.caFile, env['NODE_EXTRA_CA_CERTS']!);
    a = startDaemon(lab, hostA, ['-stcp', '-c', confA], { env });
    b = startDaemon(lab, hostB, ['-stcp', '-c', confB], { env });
    await a.waitFor('Control socket listening');
    await b.waitFor('Control socket listening');
    await until('both helpers reached the LAPI', async () => (await status('a')).fleet?.connected === true && (await status('b')).fleet?.connected === true);
  });

  after(async () => {
    await prometheus?.stop();
    await a?.stop();
    await b?.stop();
    await lapi?.stop();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('blocks on B a scanner caught by A, without B being touched', async (t) => {
    const started = Date.now();
    await nmap(scanner, hostA);
    await until('A blocks the scanner', async () => inSet(await setOf(hostA), scanner.v4));
    const blockedOnA = Date.now();
    await until('B blocks the scanner', async () => inSet(await setOf(hostB), scanner.v4));
    t.diagnostic(`A blocked ${blockedOnA - started} ms after the scan began, B ${Date.now() - blockedOnA} ms later (figures: npm run bench)`);
    assert.ok(!b.lines.some((line) => line.includes(`/${scanner.v4} to`)), 'B saw no probe from the scanner');
  });

  it('is a live member: cscli machines list shows a heartbeat from each helper after any moment one picks', async () => {
    // A moment on the LAPI's own clock: the creation time of a machine added now. Both
    // helpers logged in before it (a login also stamps the heartbeat); only a heartbeat
    // sent afterwards is later.
    await lapi.addMachine('clock-mark', 'clock-mark-password-0123456789');
    const mark = Date.parse((await lapi.machines()).find((m) => m.machineId === 'clock-mark')!.created_at);
    let last = '';
    await until(
      'both helpers sent a heartbeat after the mark',
      async () => {
        const machines = await lapi.machines();
        last = JSON.stringify(machines.map((m) => [m.machineId, m.last_heartbeat]));
        return ['hostA', 'hostB'].every((id) => Date.parse(machines.find((m) => m.machineId === id)?.last_heartbeat ?? '') > mark);
      },
      90_000,
      () => `mark ${new Date(mark).toISOString()}, machines ${last}`,
    );
    await lapi.cscli(['machines', 'delete', 'clock-mark']);
  });

  it('shows the ban in cscli decisions list with our scenario', async () => {
    const decisions = await lapi.decisions();
    const ban = decisions.find((d) => d.value === scanner.v4);
    assert.ok(ban !== undefined, `no decision for ${scanner.v4}: ${JSON.stringify(decisions)}`);
    assert.equal(ban.scenario, SCENARIO);
    assert.equal(ban.type, 'ban');
  });

  it('records the block on B as from the fleet, with A as the origin machine', async () => {
    const client = await HelperClient.connect(socket('b'));
    try {
      const { blocks } = await client.call('blocks.list', {});
      const block = blocks.find((entry) => entry.address === scanner.v4);
      assert.deepEqual(block?.fleet, { machine: 'hostA', scenario: SCENARIO });
      assert.ok(block !== undefined && block.until !== null, 'a fleet block lapses with its decision');
      const { events } = await client.call('events.list', { host: scanner.v4 });
      assert.ok(
        events.some((e) => e.type === 'block' && e.change === 'added' && e.fleet?.machine === 'hostA'),
        JSON.stringify(events),
      );
    } finally {
      client.close();
    }
    const fleet = (await status('b')).fleet;
    assert.equal(fleet?.pulling, true);
    assert.ok((fleet?.fleetBlocks ?? 0) >= 1);
  });

  it("never applies a fleet ban on its own address, an ignored one or the LAPI's (the attack: a ban aimed at the host itself, or at what it needs to stay in the fleet)", async () => {
    const refusedBefore = (await status('b')).fleet?.refused ?? 0;
    await lapi.cscli(['decisions', 'add', '--ip', hostB.v4, '--reason', 'aimed at B itself', '--duration', '1h']);
    await lapi.cscli(['decisions', 'add', '--ip', friendOfB.v4, '--reason', 'aimed at a host B ignores', '--duration', '1h']);
    // A ban of the LAPI itself would cut every host off from the fleet, and from the ban's withdrawal.
    await lapi.cscli(['decisions', 'add', '--ip', lab.hosts.lapi.v4, '--reason', 'aimed at the LAPI', '--duration', '1h']);
    await until('B refused the three bans', async () => ((await status('b')).fleet?.refused ?? 0) >= refusedBefore + 3);
    const set = await setOf(hostB);
    assert.ok(!inSet(set, hostB.v4), 'B did not block itself');
    assert.ok(!inSet(set, friendOfB.v4), 'B did not block the host on its ignore list');
    assert.ok(!inSet(set, lab.hosts.lapi.v4), 'B did not block the LAPI');
    await b.waitFor(`${lab.hosts.lapi.v4} is the CrowdSec LAPI's address`);
    assert.ok(
      b.lines.some((line) => line.includes(`ban of ${hostB.v4}`) && /own address|this host/.test(line)),
      'B said why',
    );
    // A ignores B's address: the same ban is refused there too.
    await until('A refused the ban of B and of the LAPI', async () => ((await status('a')).fleet?.refused ?? 0) >= 2);
    assert.ok(!inSet(await setOf(hostA), hostB.v4));
    assert.ok(!inSet(await setOf(hostA), lab.hosts.lapi.v4));
  });

  it('never blocks the LAPI itself, not even for a scan from its address (one spoofed scan would cut the host off the fleet)', async () => {
    await nmap(lab.hosts.lapi, hostA);
    await a.waitFor(`Host: ${lab.hosts.lapi.v4} is the fleet's CrowdSec LAPI. Ignoring`);
    assert.ok(!inSet(await setOf(hostA), lab.hosts.lapi.v4), 'A did not block the LAPI');
    await until('A still reaches the LAPI', async () => (await status('a')).fleet?.connected === true);
  });

  it('lifts the ban on B when the decision is deleted, and A keeps its own block', async () => {
    await lapi.cscli(['decisions', 'delete', '--ip', scanner.v4]);
    await until('B lifts the ban', async () => !inSet(await setOf(hostB), scanner.v4));
    assert.ok(inSet(await setOf(hostA), scanner.v4), 'A still blocks what it caught itself');
    await b.waitFor(`Host ${scanner.v4} has been unblocked (the fleet withdrew its ban)`);
  });

  it('keeps detecting and blocking with the LAPI down, and sends the alert once it is back', async () => {
    await lapi.stop();
    await nmap(lateScanner, hostA);
    await until('A blocks the late scanner without the LAPI', async () => inSet(await setOf(hostA), lateScanner.v4));
    await until('A has the alert queued', async () => {
      const fleet = (await status('a')).fleet;
      return fleet?.connected === false && fleet.queued >= 1;
    });
    await lapi.start();
    await until('the alert reached the LAPI', async () => (await lapi.decisions()).some((d) => d.value === lateScanner.v4 && d.scenario === SCENARIO), 150_000);
    await until('B blocks the late scanner', async () => inSet(await setOf(hostB), lateScanner.v4), 60_000);
    assert.equal((await status('a')).fleet?.queued, 0);
  });

  it('is scraped by a real Prometheus, whose query returns the blocks A made', async () => {
    prometheus = await PrometheusServer.start(lab, lab.hosts.lapi, join(dir, 'prometheus'), [`${hostA.v4}:${METRICS_PORT}`]);
    // The test caused two blocks on A by detection: the scanner and the late scanner.
    let last: number[] = [];
    await until(
      'Prometheus has scraped the two blocks',
      async () => {
        last = await prometheus!.query(`portsentry_blocks_added_total{origin="detection"}`);
        return last.length === 1 && last[0] === 2;
      },
      60_000,
    ).catch((error: Error) => assert.fail(`${error.message}; last answer ${JSON.stringify(last)}`));
    // A also holds one ban from the fleet: the admin's ban of B's friend (only B ignores it).
    assert.deepEqual(await prometheus.query('portsentry_blocks_added_total{origin="fleet"}'), [1]);
    assert.deepEqual(await prometheus.query('portsentry_blocks_held{family="ipv4"}'), [(await status('a')).blockedCount]);
    assert.deepEqual(await prometheus.query('portsentry_build_info{classic="1.2"}'), [1], 'Prometheus reads which build runs');
    assert.ok(((await prometheus.query('sum(portsentry_probes_total{mode="stcp"})'))[0] ?? 0) >= 2);
    const page = await lab.exec(lab.hosts.lapi, [process.execPath, '-e', `fetch('http://${hostA.v4}:${METRICS_PORT}/metrics').then(r => r.text()).then(t => process.stdout.write(t))`]);
    for (const name of [
      'portsentry_probes_total',
      'portsentry_blocks_added_total',
      'portsentry_blocks_removed_total',
      'portsentry_blocks_failed_total',
      'portsentry_blocks_held',
      'portsentry_block_set_used_ratio',
      'portsentry_rpc_connections',
      'portsentry_store_bytes',
    ]) {
      assert.match(page.stdout, new RegExp(`^# HELP ${name} \\S`, 'm'), name);
    }
    assert.ok(!/password/i.test(page.stdout) && !page.stdout.includes(keyA), 'no secret in the metrics');
  });

  it('lets the operator switch sharing off and on through config.set, and refuses the redacted placeholder as a secret', async () => {
    const client = await HelperClient.connect(socket('a'));
    try {
      await client.call('config.set', { changes: { FLEET_SHARING: '0' } });
      const off = (await status('a')).fleet;
      assert.equal(off?.sharing, false);
      assert.equal(off?.pushing, false);
      assert.equal(off?.pulling, false);
      await client.call('config.set', { changes: { FLEET_SHARING: '1' } });
      await until('A is back in the fleet', async () => (await status('a')).fleet?.connected === true);
      await assert.rejects(client.call('config.set', { changes: { FLEET_MACHINE_PASSWORD: '(secret, set)' } }), /secret|printable/);
      assert.equal((await client.call('config.get', {})).values['FLEET_MACHINE_PASSWORD'], '(secret, set)');
    } finally {
      client.close();
    }
    await a.waitFor('fleet: CrowdSec LAPI', 1000);
  });

  it('never shows the fleet secrets in config.get or the log', async () => {
    const client = await HelperClient.connect(socket('a'));
    try {
      const config = await client.call('config.get', {});
      assert.ok(!config.text.includes('passwordA') && !config.text.includes(keyA), 'file text redacted');
      assert.equal(config.values['FLEET_MACHINE_PASSWORD'], '(secret, set)');
      assert.equal(config.values['FLEET_BOUNCER_KEY'], '(secret, set)');
      assert.equal(config.values['FLEET_MACHINE_ID'], 'hostA');
    } finally {
      client.close();
    }
    for (const process of [a, b]) assert.ok(!process.lines.some((line) => /password[AB]-/.test(line) || line.includes(keyA) || line.includes(keyB)), 'no secret in the log');
  });
});
