// The helper as a service, with real processes and sockets: who may use the control socket,
// what each method really does to the firewall, fuzzing the socket, kill -9 and restart,
// and block expiry.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { HelperClient, HelperError } from '../../shared/rpc/helper-client.js';
import { ErrorCode } from '../../shared/protocol/json-rpc.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { DAEMON_SCRIPT, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, tcpReachable, type Lab, type LabHost } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText, startTcpService } from '../support/helper-config.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const CTL = fileURLToPath(new URL('../../privileged-helper/bin/portsentryctl.js', import.meta.url));
const SPOOF = fileURLToPath(new URL('../../../test/support/spoof-syn.py', import.meta.url));
const TABLE = 'psctl';
const SERVICE_PORT = 8080;
const suffix = String(process.pid);
const GROUP = `psg${suffix}`;
const MEMBER = `psm${suffix}`;
const OUTSIDER = `pso${suffix}`;

async function nftSet(lab: Lab, host: LabHost): Promise<string> {
  return blockedSetsText(lab, host, TABLE);
}

describe('the helper as a service: control socket, store, expiry', { timeout: 300_000 }, () => {
  let lab: Lab<'target' | 'scanner' | 'flooder' | 'gateway'>;
  let dir: string;
  let socketPath: string;
  let conf: string;
  let daemon: DaemonProcess;
  let service: ReturnType<Lab['spawn']>;

  const start = async (modes: string[] = ['-tcp', '-stcp']) => {
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, ...modes]);
    await daemon.waitFor('Control socket listening on', 60_000);
  };
  const ctl = (args: string[], user?: string) => {
    const argv = [process.execPath, CTL, '--socket', socketPath, ...args];
    const [program, ...rest] = user === undefined ? argv : ['runuser', '-u', user, '--', ...argv];
    return run(program!, rest).then(
      (r) => ({ code: 0, stdout: String(r.stdout), stderr: String(r.stderr) }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') }),
    );
  };

  before(async () => {
    await run('groupadd', ['-f', GROUP]);
    await run('useradd', ['-M', '-N', '-G', GROUP, MEMBER]).catch(() => undefined);
    await run('useradd', ['-M', '-N', OUTSIDER]).catch(() => undefined);
    lab = await createLab(['target', 'scanner', 'flooder', 'gateway']);
    // The target's default gateway, v4 and v6: a host that must never be blocked.
    await lab.exec(lab.hosts.target, ['ip', 'route', 'add', 'default', 'via', lab.hosts.gateway.v4]);
    await lab.exec(lab.hosts.target, ['ip', '-6', 'route', 'add', 'default', 'via', lab.hosts.gateway.v6]);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-ctl-'));
    await chmod(dir, 0o755); // the socket directory inside decides who gets in, not this one
    socketPath = join(dir, 'run', 'helper.sock');
    conf = join(dir, 'portsentry.conf');
    await writeFile(join(dir, 'ignore'), '# test ignore list\n');
    await writeFile(conf, helperConfigText(dir, { TCP_PORTS: '1,11,15,79,111,143,31337', UDP_PORTS: '1,7,9', NFT_TABLE: TABLE, RPC_SOCKET: socketPath, RPC_GROUP: GROUP }, '# control-service test'));
    service = await startTcpService(lab, lab.hosts.target, SERVICE_PORT);
    await start();
  });

  after(async () => {
    service?.kill();
    await daemon?.stop();
    await lab?.destroy();
    await run('userdel', [MEMBER]).catch(() => undefined);
    await run('userdel', [OUTSIDER]).catch(() => undefined);
    await run('groupdel', [GROUP]).catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a user outside the group and serves one inside it', async () => {
    const outsider = await ctl(['status'], OUTSIDER);
    assert.equal(outsider.code, 3, outsider.stderr);
    assert.match(outsider.stderr, /permission denied/);
    const member = await ctl(['--json', 'status'], MEMBER);
    assert.equal(member.code, 0, member.stderr);
    const status = JSON.parse(member.stdout);
    assert.deepEqual([status.running, status.paused, status.modes, status.captureActive, status.backend], [true, false, ['tcp', 'stcp'], true, 'nftables']);
  });

  it('blocks and unblocks by hand: the firewall really changes, and protected addresses are refused', async () => {
    const { target, scanner } = lab.hosts;
    const blocked = await ctl(['block', scanner.v4, '--reason', 'test by hand']);
    assert.equal(blocked.code, 0, blocked.stderr);
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false);
    const list = JSON.parse((await ctl(['--json', 'blocks'])).stdout) as Array<{ address: string; reason: string }>;
    assert.ok(list.some((b) => b.address === scanner.v4 && b.reason === 'test by hand'));
    const unblocked = await ctl(['unblock', scanner.v4]);
    assert.equal(unblocked.code, 0, unblocked.stderr);
    assert.match(unblocked.stdout, /unblocked/);
    assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true, 'traffic passes again');
    const own = await ctl(['block', target.v4]);
    assert.equal(own.code, 1);
    assert.match(own.stderr, /own address|never blocked/);
    const hostile = await ctl(['block', '198.18.0.1;reboot']);
    assert.equal(hostile.code, 1);
    assert.match(hostile.stderr, /invalid params/);
    assert.doesNotMatch(await nftSet(lab, target), /elements/);
  });

  it('never blocks its default gateway, whether it scans or an RPC asks, and says why', async () => {
    const { target, gateway } = lab.hosts;
    await lab.exec(gateway, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79', target.v4]);
    await lab.exec(gateway, ['nmap', '-6', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79', target.v6]);
    await daemon.waitFor(new RegExp(`Host: ${gateway.v4} is .*gateway.*Ignoring`));
    await daemon.waitFor(new RegExp(`Host: ${gateway.v6} is .*gateway.*Ignoring`));
    const refused = await ctl(['block', gateway.v4]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /gateway/);
    const set = await nftSet(lab, target);
    assert.ok(!set.includes(gateway.v4) && !set.includes(gateway.v6));
    const client = await HelperClient.connect(socketPath);
    const { events } = await client.call('events.list', { host: gateway.v4, limit: 5 });
    client.close();
    assert.ok(
      events.some((e) => e.type === 'scan' && e.action === 'ignored' && /gateway/.test(e.reason ?? '')),
      JSON.stringify(events),
    );
  });

  it('edits the ignore list and the config through the socket, validated and atomic', async () => {
    const added = await ctl(['ignore', 'add', '198.18.7.0/24', '--comment', 'lab friends']);
    assert.equal(added.code, 0, added.stderr);
    assert.match(await readFile(join(dir, 'ignore'), 'utf8'), /^198\.18\.7\.0\/24 {2}# lab friends$/m);
    await daemon.waitFor('Configuration reloaded');
    const blockFriend = await ctl(['block', '198.18.7.9']);
    assert.equal(blockFriend.code, 1);
    assert.match(blockFriend.stderr, /ignore/);
    assert.equal((await ctl(['ignore', 'remove', '198.18.7.0/24'])).code, 0);

    const before = await readFile(conf, 'utf8');
    const bad = await ctl(['config', 'set', 'SCAN_TRIGGER=lots']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SCAN_TRIGGER/);
    assert.equal(await readFile(conf, 'utf8'), before, 'a rejected change leaves the file untouched');
    const unknown = await ctl(['config', 'set', 'NO_SUCH_KEY=1']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown key NO_SUCH_KEY/);

    const good = await ctl(['config', 'set', 'SCAN_TRIGGER=2', 'BLOCK_TIMEOUT=3600']);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /BLOCK_TIMEOUT, SCAN_TRIGGER/);
    assert.equal(await readFile(conf, 'utf8'), before, "tunables go to the operator settings file; root's own file is untouched");
    const text = await readFile(join(dir, 'operator-settings.conf'), 'utf8');
    assert.match(text, /^# PortSentry Desktop operator settings/m);
    assert.match(text, /^SCAN_TRIGGER="2"$/m);
    assert.equal((await ctl(['config', 'get', 'SCAN_TRIGGER'])).stdout.trim(), '2');
    assert.equal((await ctl(['config', 'set', 'SCAN_TRIGGER=0', 'BLOCK_TIMEOUT=0'])).code, 0);
  });

  it('stores scan events, streams them to subscribers, and pages through them', async () => {
    const { target, scanner } = lab.hosts;
    const client = await HelperClient.connect(socketPath);
    const live: StoredEvent[] = [];
    await client.subscribe((event) => live.push(event));
    await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,15,79', target.v4]);
    await until('the scan and the block arrive live', () => live.some((e) => e.type === 'block' && e.address === scanner.v4));
    const scan = live.find((e) => e.type === 'scan' && e.source === scanner.v4 && e.action === 'blocked');
    assert.ok(scan !== undefined && scan.type === 'scan' && scan.kind === 'syn', JSON.stringify(live));
    const first = live.find((e) => e.type === 'scan' && e.source === scanner.v4);
    assert.equal(first?.type === 'scan' ? first.action : null, 'blocked', 'the triggering event comes first, not an "already blocked" one');
    const page = await client.call('events.list', { host: scanner.v4, limit: 1 });
    assert.equal(page.events.length, 1);
    assert.notEqual(page.nextCursor, null);
    const older = await client.call('events.list', { host: scanner.v4, limit: 100, before: page.nextCursor! });
    assert.ok(older.events.every((e) => e.id < page.nextCursor!));
    await assert.rejects(client.call('events.list', { limit: 5000 }), (e: unknown) => e instanceof HelperError && e.code === ErrorCode.INVALID_PARAMS);
    await client.call('unblock', { address: scanner.v4 });
    client.close();
  });

  it('survives 100,000 malformed, oversized and hostile frames: no crash, no block, an error for each bad request', async () => {
    const { target } = lab.hosts;
    const before = await nftSet(lab, target);
    const hostile = ['$(reboot)', '`id`', '; rm -rf /', '198.18.0.1 && halt', '../../etc/passwd', '\u0000', 'example.com', '::1%eth0', '999.1.1.1', '198.18.0.0/16'];
    const methods = ['block', 'unblock', 'ignore.add', 'config.set', 'events.list', 'status', 'nope', '__proto__', 'constructor'];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const frame = (i: number): string => {
      switch (i % 8) {
        case 0:
          return JSON.stringify({
            jsonrpc: '2.0',
            id: i,
            method: pick(methods),
            params: { address: pick(hostile), entry: pick(hostile), changes: { [pick(['KILL_RUN_CMD', 'X', 'TCP_PORTS'])]: pick(hostile) } },
          });
        case 1:
          return `{"jsonrpc":"2.0","id":${i},"method":"block","params":{"address":"${pick(hostile).replace(/"/g, '')}"`; // truncated
        case 2:
          // Random bytes; the leading "~" keeps the line from being blank (blank lines are not requests and get no answer).
          return `~${Array.from({ length: 1 + Math.floor(random() * 40) }, () => String.fromCharCode(Math.floor(random() * 256)))
            .join('')
            .replace(/\n/g, ' ')}`;
        case 3:
          return JSON.stringify([{ jsonrpc: '2.0', id: i, method: 'status' }]);
        case 4:
          return JSON.stringify({ jsonrpc: '2.0', id: i, method: 'block', params: { address: '198.18.0.50', timeoutSeconds: -5 } });
        case 5:
          return JSON.stringify({ jsonrpc: '1.0', id: i, method: 'status' });
        case 6:
          return JSON.stringify({ jsonrpc: '2.0', id: i, method: 'unblock', params: { address: pick(hostile), extra: true } });
        default:
          return i % 800 === 7 ? `{"jsonrpc":"2.0","id":${i},"method":"status","params":{"pad":"${'x'.repeat(70_000)}"}}` : 'null';
      }
    };
    const TOTAL = 100_000;
    const CONNECTIONS = 8;
    const perConnection = TOTAL / CONNECTIONS;
    const results = await Promise.all(
      Array.from(
        { length: CONNECTIONS },
        (_, c) =>
          new Promise<{ sent: number; errors: number; results: number }>((resolve, reject) => {
            const socket = createConnection(socketPath);
            let buffer = '';
            let errors = 0;
            let results = 0;
            socket.on('data', (chunk) => {
              buffer += chunk.toString('utf8');
              let newline: number;
              while ((newline = buffer.indexOf('\n')) >= 0) {
                const message = JSON.parse(buffer.slice(0, newline)) as { error?: unknown; result?: unknown };
                buffer = buffer.slice(newline + 1);
                if (message.error !== undefined) errors += 1;
                else results += 1;
                if (errors + results === perConnection) socket.end();
              }
            });
            socket.on('close', () => resolve({ sent: perConnection, errors, results }));
            socket.on('error', reject);
            socket.on('connect', async () => {
              for (let i = 0; i < perConnection; i += 500) {
                const chunk = Array.from({ length: 500 }, (_, k) => frame(c * perConnection + i + k)).join('\n') + '\n';
                if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
              }
            });
          }),
      ),
    );
    const errors = results.reduce((n, r) => n + r.errors, 0);
    const answered = results.reduce((n, r) => n + r.errors + r.results, 0);
    assert.equal(answered, TOTAL, 'every frame got exactly one answer');
    assert.equal(errors, TOTAL, 'every frame was a bad request and got a JSON-RPC error');
    assert.equal(daemon.child.exitCode, null, 'the helper is still running');
    assert.equal(await nftSet(lab, target), before, 'nothing was blocked');
    assert.equal((await ctl(['status'])).code, 0, 'and it still answers');
  });

  it('after kill -9 during a flood, every stored block comes back and no acknowledged event is lost', async () => {
    const { target, flooder } = lab.hosts;
    const client = await HelperClient.connect(socketPath);
    const acknowledged: StoredEvent[] = [];
    await client.subscribe((event) => acknowledged.push(event));
    const flood = lab.exec(flooder, ['python3', SPOOF, target.v4, '1', '3000', '198.19.0.1', '1500'], { timeoutMs: 60_000 });
    await until('a few hundred sources are blocked', () => acknowledged.filter((e) => e.type === 'block').length >= 300);
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    client.close();
    await flood;
    const store = new DatabaseSync(join(dir, 'events.db'), { readOnly: true });
    const storedBlocks = (store.prepare('SELECT address FROM blocks').all() as Array<{ address: string }>).map((r) => r.address);
    const storedIds = new Set((store.prepare('SELECT id FROM events').all() as Array<{ id: number }>).map((r) => Number(r.id)));
    store.close();
    const missing = acknowledged.filter((e) => !storedIds.has(e.id));
    assert.deepEqual(missing, [], 'every event a subscriber saw is in the store');
    assert.ok(storedBlocks.length >= 300);
    // A killed helper cannot disarm its kernel trap; what the systemd unit runs after every
    // stop (ExecStopPost) does, and keeps the blocks.
    const trapRules = async () =>
      (await lab.exec(target, ['nft', 'list', 'chain', 'inet', TABLE, 'trap'], { allowFailure: true })).stdout.split('\n').filter((line) => /@blocked[46]/.test(line)).length;
    assert.ok((await trapRules()) > 0, 'the killed helper left its trap armed');
    const blocksBefore = await nftSet(lab, target);
    const disarm = await lab.exec(target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--disarm-trap']);
    assert.match(disarm.stdout, new RegExp(`WARNING: the helper left its kernel trap in table inet ${TABLE} armed`));
    assert.equal(await trapRules(), 0, 'no trap rule is left');
    assert.equal(await nftSet(lab, target), blocksBefore, 'every block stays');
    assert.match((await lab.exec(target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--disarm-trap'])).stdout, /was not armed/);
    // Simulate a reboot: the kernel's table is gone; only the store remembers.
    await lab.exec(target, ['nft', 'delete', 'table', 'inet', TABLE]);
    assert.match((await lab.exec(target, [process.execPath, DAEMON_SCRIPT, '-c', conf, '--disarm-trap'])).stdout, /nothing to disarm/);
    assert.notEqual((await lab.exec(target, ['nft', 'list', 'table', 'inet', TABLE], { allowFailure: true })).code, 0, 'disarming creates no table');
    await start();
    await daemon.waitFor(/blocks at start: \d+ re-applied/);
    const set = await nftSet(lab, target);
    const notBack = storedBlocks.filter((address) => !set.includes(address));
    assert.deepEqual(notBack, [], 'every stored block is back in the firewall');
  });

  it('a timed pause ends by itself: a scan during it is reported, not blocked; after it, blocked again', async () => {
    const { target, scanner } = lab.hosts;
    const client = await HelperClient.connect(socketPath);
    try {
      // Hostile or silly durations are refused and change nothing.
      for (const durationSeconds of [0, -1, 1.5, 604_801, 1e12]) {
        await assert.rejects(client.call('pause', { durationSeconds } as never), (e: unknown) => e instanceof HelperError || e instanceof Error);
      }
      assert.equal((await client.call('status', {})).paused, false);
      const untilResumed = await client.call('pause', {});
      assert.deepEqual(untilResumed, { paused: true, pausedUntil: null });
      // The command line takes the same duration, and refuses nonsense as a usage error.
      const ctlPause = await ctl(['pause', '--for', '600']);
      assert.equal(ctlPause.code, 0, ctlPause.stderr);
      assert.match(ctlPause.stdout, /^protection paused until \d{4}-\d\d-\d\dT/);
      assert.equal((await ctl(['pause', '--for', 'soon'])).code, 2);
      const before = Date.now();
      // Long enough that the scan below surely falls inside it on a loaded machine.
      const paused = await client.call('pause', { durationSeconds: 8 });
      assert.equal(paused.paused, true);
      assert.ok(paused.pausedUntil !== null && paused.pausedUntil !== undefined && paused.pausedUntil >= before + 8000 - 1000, String(paused.pausedUntil));
      assert.equal((await client.call('status', {})).pausedUntil, paused.pausedUntil);
      await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '11', target.v4]);
      await until('the paused scan is stored as reported only', async () =>
        (await client.call('events.list', { host: scanner.v4, limit: 5 })).events.some((e) => e.type === 'scan' && e.action === 'alert-only'),
      );
      assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), true, 'not blocked while paused');
      await until('the pause ended by itself', async () => !(await client.call('status', {})).paused);
      assert.equal((await client.call('status', {})).pausedUntil, null);
      await daemon.waitFor('protection resumed');
      await lab.exec(scanner, ['nmap', '-sS', '-Pn', '-n', '--max-retries', '0', '-p', '15', target.v4]);
      await until('blocked again', async () => (await nftSet(lab, target)).includes(scanner.v4));
      assert.equal(await tcpReachable(lab, scanner, target.v4, SERVICE_PORT), false);
      await client.call('unblock', { address: scanner.v4 });
    } finally {
      client.close();
    }
  });

  it('lifts an expired block and records when and why', async () => {
    const { target, scanner } = lab.hosts;
    const client = await HelperClient.connect(socketPath);
    const result = await client.call('block', { address: scanner.v6, timeoutSeconds: 2 });
    assert.ok(result.until !== null);
    assert.equal(await tcpReachable(lab, scanner, target.v6, SERVICE_PORT), false);
    await until('the block expired', async () => !(await nftSet(lab, target)).includes(scanner.v6));
    await until('the store recorded the expiry', async () => {
      const { events } = await client.call('events.list', { host: scanner.v6, limit: 10 });
      return events.some((e) => e.type === 'block' && e.change === 'removed' && e.reason === 'expired');
    });
    assert.ok(!(await client.call('blocks.list', {})).blocks.some((b) => b.address === scanner.v6));
    assert.equal(await tcpReachable(lab, scanner, target.v6, SERVICE_PORT), true);
    client.close();
  });
});
