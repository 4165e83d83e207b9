// The trust boundary, tried as a local attacker would: a real unprivileged user in the
// control group (what every desktop user is) runs portsentryctl against a real helper and
// tries every root-only key and every path and template trick. Nothing may run, no file may
// appear, root's config must stay byte for byte; the same user keeps every operator right;
// root's own socket keeps working while the operator socket is full; and directories and
// files that others could write are refused rather than "fixed".

import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CONFIG_KEYS, CONFIG_KEY_NAMES } from '../../shared/domain/config-keys.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { blockedSetsText, helperConfigText } from '../support/helper-config.js';

const run = promisify(execFile);
const CTL = fileURLToPath(new URL('../../privileged-helper/bin/portsentryctl.js', import.meta.url));
const DAEMON = fileURLToPath(new URL('../../privileged-helper/bin/portsentryd.js', import.meta.url));
const TABLE = 'pstrust';
const suffix = String(process.pid);
const GROUP = `pstg${suffix}`;
const MEMBER = `pstm${suffix}`;

interface CtlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(join(entry.parentPath, entry.name));
  return out.sort();
}

describe('trust boundary: an operator steers detection, never the machine', { timeout: 300_000 }, () => {
  let lab: Lab<'target' | 'scanner'>;
  let dir: string;
  let rootOnly: string;
  let conf: string;
  let operatorSocket: string;
  let adminSocket: string;
  let daemon: DaemonProcess;

  /** portsentryctl as root on the admin socket, or as the group member on the operator socket. */
  const ctl = (args: readonly string[], as: 'member' | 'root'): Promise<CtlResult> => {
    const argv = [process.execPath, CTL, '--socket', as === 'member' ? operatorSocket : adminSocket, ...args];
    const [program, ...rest] = as === 'member' ? ['setpriv', `--reuid=${MEMBER}`, `--regid=${MEMBER}`, '--init-groups', '--no-new-privs', '--', ...argv] : argv;
    return run(program!, rest).then(
      (r) => ({ code: 0, stdout: String(r.stdout), stderr: String(r.stderr) }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') }),
    );
  };

  before(async () => {
    await run('groupadd', ['-f', GROUP]);
    await run('useradd', ['-M', '-U', '-G', GROUP, MEMBER]).catch(() => undefined);
    lab = await createLab(['target', 'scanner']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-trust-'));
    await chmod(dir, 0o755); // the member must reach the socket directory inside
    rootOnly = join(dir, 'root-only');
    await mkdir(rootOnly, { mode: 0o700 });
    operatorSocket = join(dir, 'run', 'helper.sock');
    adminSocket = join(dir, 'run', 'admin', 'helper.sock');
    conf = join(dir, 'portsentry.conf');
    await writeFile(join(dir, 'ignore'), '# test ignore list\n');
    await writeFile(conf, helperConfigText(dir, { TCP_PORTS: '1,11,79', UDP_PORTS: '1,7', NFT_TABLE: TABLE, RPC_GROUP: GROUP }, '# trust-boundary test: root wrote this'));
    daemon = startDaemon(lab, lab.hosts.target, ['-c', conf, '-tcp']);
    await daemon.waitFor('Admin control socket (root only) listening on');
  });

  after(async () => {
    await daemon?.stop();
    await lab?.destroy();
    await run('userdel', [MEMBER]).catch(() => undefined);
    await run('groupdel', [MEMBER]).catch(() => undefined);
    await run('groupdel', [GROUP]).catch(() => undefined);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('the member reaches only the operator socket; the admin socket is root 0600 in a 0700 directory', async () => {
    const status = await ctl(['--json', 'status'], 'member');
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).role, 'operator');
    const sneaky = await run('setpriv', [`--reuid=${MEMBER}`, `--regid=${MEMBER}`, '--init-groups', '--', process.execPath, CTL, '--socket', adminSocket, 'status']).then(
      () => 0,
      (e: { code?: number; stderr?: string }) => e.code ?? -1,
    );
    assert.equal(sneaky, 3, 'the kernel refuses the member on the admin socket');
    assert.equal((await stat(adminSocket)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'run', 'admin'))).mode & 0o777, 0o700);
    const root = await ctl(['--json', 'status'], 'root');
    assert.equal(JSON.parse(root.stdout).role, 'admin');
  });

  it('refuses every root-only key and every trick to the member: nothing runs, no file appears, the config stays byte for byte', async () => {
    const confBefore = await readFile(conf);
    const treeBefore = await listTree(dir);
    const marker = join(dir, 'pwned');
    const tricks: Record<string, string> = {
      KILL_ROUTE: `/bin/sh -c 'id > ${marker}' sh $TARGET$`,
      KILL_RUN_CMD: `/usr/bin/touch ${marker}`,
      KILL_RUN_CMD_FIRST: '1',
      KILL_HOSTS_DENY: 'ALL: $TARGET$',
      HOSTS_DENY_FILE: join(rootOnly, 'ld.so.preload'),
      IGNORE_FILE: join(rootOnly, 'ld.so.preload'),
      HISTORY_FILE: join(rootOnly, 'history'),
      BLOCKED_FILE: join(rootOnly, 'blocked'),
      STORE_FILE: join(rootOnly, 'events.db'),
      SYSLOG_SOCKET: join(rootOnly, 'log'),
      RPC_SOCKET: '/tmp/helper.sock',
      RPC_ADMIN_SOCKET: '/tmp/admin.sock',
      RPC_GROUP: 'users',
      NFT_TABLE: 'other',
      BLOCK_BACKEND: 'command',
      STATE_MAX_SOURCES: '50000000',
      OPERATOR_SETTINGS_FILE: join(rootOnly, 'op.conf'),
      // Where the helper connects and listens, the fleet credentials, and what it tells the fleet.
      FLEET_LAPI_URL: 'http://198.18.0.250:8080',
      FLEET_MACHINE_ID: 'attacker',
      FLEET_MACHINE_PASSWORD: 'attacker-password',
      FLEET_BOUNCER_KEY: 'attacker-key',
      FLEET_SCENARIO: 'evil/scan',
      FLEET_ORIGIN: 'evil',
      FLEET_DECISION_DURATION: '60',
      METRICS_ADDRESS: '0.0.0.0',
      METRICS_PORT: '80',
      // How much the firewall holds and how wide one block reaches.
      BLOCK_SET_SIZE: '1024',
      // No limit on new blocks per /24: a spoofed flood would fill the sets and evict real blocks.
      BLOCK_RATE_PER_PREFIX: '0',
      BLOCK_PREFIX6: '16',
      // How much of the network the member may block or ignore.
      OPERATOR_BLOCK_PREFIX4: '0',
      OPERATOR_BLOCK_PREFIX6: '0',
      OPERATOR_IGNORE_PREFIX4: '0',
      OPERATOR_IGNORE_PREFIX6: '0',
      OPERATOR_RANGE_TOTAL4: '0',
      OPERATOR_RANGE_TOTAL6: '0',
      // What counts as a scan: a member could make every neighbour's touch "only reported".
      SCAN_SCORING: 'classic',
      SCAN_SCORE_THRESHOLD: '100',
      SCAN_SCORE_PORT: '1',
      SCAN_SCORE_LAN_SERVICE: '0',
      LAN_SERVICE_PORTS_TCP: '1-65535',
      LAN_SERVICE_PORTS_UDP: '1-65535',
      // Every protocol "in use": nmap -sO would go unseen.
      IP_PROTOCOLS_IN_USE: '3,5,7,8,9,99,100,253,254',
      // A member could switch sweep reports off, or have every off-link pinger blackholed.
      HOST_DISCOVERY: 'off',
      // How long a repeat offender stays blocked.
      BLOCK_REPEAT_FACTOR: '0',
      BLOCK_REPEAT_FORMULA: 'linear',
      BLOCK_REPEAT_MAX: '1',
      // Files root writes and where the log is sent.
      JSON_LOG_FILE: join(rootOnly, 'ld.so.preload'),
      RFC5424_FILE: join(rootOnly, 'ld.so.preload'),
      SYSLOG_REMOTE: '198.18.0.250:514',
      SYSLOG_REMOTE_TLS: '0',
      SYSLOG_REMOTE_CA: join(rootOnly, 'ca.pem'),
    };
    const rootKeys = CONFIG_KEY_NAMES.filter((key) => CONFIG_KEYS[key].access === 'root');
    assert.deepEqual(Object.keys(tricks).sort(), [...rootKeys].sort(), 'every root-only key is tried');
    for (const [key, value] of Object.entries(tricks)) {
      const result = await ctl(['config', 'set', `${key}=${value}`], 'member');
      assert.equal(result.code, 1, `${key}: ${result.stdout}`);
      assert.match(result.stderr, new RegExp(`${key} names .*only root may change it`), key);
    }
    // A tunable smuggled beside a root-only key: the whole request is refused.
    const mixed = await ctl(['config', 'set', 'SCAN_TRIGGER=5', `KILL_RUN_CMD=/usr/bin/touch ${marker}`], 'member');
    assert.equal(mixed.code, 1);
    // Names that are properties of every object are just unknown keys.
    for (const key of ['constructor', '__proto__', 'toString']) {
      const odd = await ctl(['config', 'set', `${key}=x`], 'member');
      assert.equal(odd.code, 1, key);
    }
    // Now give every response path a reason to run: block someone by hand, and get scanned.
    const { target, scanner } = lab.hosts;
    assert.equal((await ctl(['block', '198.18.0.200'], 'member')).code, 0);
    await lab.exec(scanner, ['nmap', '-sT', '-Pn', '-n', '--max-retries', '0', '-p', '1,11,79', target.v4], { allowFailure: true });
    await daemon.waitFor(new RegExp(`Host ${scanner.v4} has been blocked`));
    assert.equal((await readFile(conf)).equals(confBefore), true, 'the config file is unchanged byte for byte');
    await assert.rejects(stat(marker), /ENOENT/, 'no command of the attacker ran');
    assert.deepEqual(await readdir(rootOnly), [], 'nothing appeared in the root-only directory');
    const treeAfter = (await listTree(dir)).filter((path) => !treeBefore.includes(path));
    assert.deepEqual(
      treeAfter.filter((path) => !/\/(events\.db-(wal|shm)|operator-settings\.conf|history)$/.test(path)),
      [],
      'no new file anywhere but the store journal and the history',
    );
    // The history line is written in a batch after the block: wait for it, then check its mode.
    for (
      let i = 0;
      i < 300 &&
      !(await stat(join(dir, 'history')).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await stat(join(dir, 'history'))).mode & 0o777, 0o600, "the history is root's alone, as in PortSentry 1.2");
    assert.equal((await ctl(['unblock', scanner.v4], 'root')).code, 0);
  });

  it('the member keeps every operator right: tunables, block, unblock, ignore, pause', async () => {
    const confBefore = await readFile(conf);
    const set = await ctl(['config', 'set', 'SCAN_TRIGGER=2', 'BLOCK_TIMEOUT=600'], 'member');
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await readFile(conf)).equals(confBefore), true, "root's file is not touched by an operator's change");
    assert.match(await readFile(join(dir, 'operator-settings.conf'), 'utf8'), /^SCAN_TRIGGER="2"$/m);
    const got = JSON.parse((await ctl(['--json', 'config', 'get'], 'member')).stdout) as { values: Record<string, string>; sources: Record<string, string> };
    assert.equal(got.values['SCAN_TRIGGER'], '2');
    assert.equal(got.sources['SCAN_TRIGGER'], join(dir, 'operator-settings.conf'));
    assert.equal(got.sources['NFT_TABLE'], conf);
    const address = '198.18.0.201';
    assert.equal((await ctl(['block', address], 'member')).code, 0);
    assert.match(await blockedSetsText(lab, lab.hosts.target, TABLE), new RegExp(address.replace(/\./g, '\\.')));
    assert.equal((await ctl(['unblock', address], 'member')).code, 0);
    assert.equal((await ctl(['ignore', 'add', '198.18.9.0/24'], 'member')).code, 0);
    assert.equal((await ctl(['ignore', 'remove', '198.18.9.0/24'], 'member')).code, 0);
    assert.equal((await ctl(['pause'], 'member')).code, 0);
    assert.equal((await ctl(['resume'], 'member')).code, 0);
    // The member's refusal names the way out, and refused protected addresses stay refused.
    const own = await ctl(['block', lab.hosts.target.v4], 'member');
    assert.equal(own.code, 1);
    assert.equal((await ctl(['config', 'set', 'SCAN_TRIGGER=0', 'BLOCK_TIMEOUT=0'], 'member')).code, 0);
  });

  it('the member may not cut the host off or switch protection off unseen: a /2 block and ignore 0.0.0.0/0 are refused with the reason; root may do both', async () => {
    const ignoreBefore = await readFile(join(dir, 'ignore'), 'utf8');
    const kernelBefore = await blockedSetsText(lab, lab.hosts.target, TABLE);
    const wide = await ctl(['block', '128.0.0.0/2'], 'member');
    assert.equal(wide.code, 1, wide.stdout);
    assert.match(wide.stderr, /128\.0\.0\.0\/2 is wider than an operator may block \(at most \/16 for IPv4, OPERATOR_BLOCK_PREFIX4\)/);
    const everything = await ctl(['ignore', 'add', '0.0.0.0/0'], 'member');
    assert.equal(everything.code, 1, everything.stdout);
    assert.match(everything.stderr, /0\.0\.0\.0\/0 is wider than an operator may ignore/);
    assert.match((await ctl(['ignore', 'add', '::/0'], 'member')).stderr, /::\/0 is wider than an operator may ignore/);
    // Many narrow ones that add up: 256 /16s are the default total (a /8); the 257th is refused.
    const many = Array.from({ length: 256 }, (_, i) => `10.${i}.0.0/16`);
    await writeFile(join(dir, 'ignore'), `${ignoreBefore}${many.join('\n')}\n`);
    const past = await ctl(['ignore', 'add', '11.0.0.0/16'], 'member');
    assert.equal(past.code, 1);
    assert.match(past.stderr, /more than an operator may reach \(16,777,216, one \/8, OPERATOR_RANGE_TOTAL4\)/);
    await writeFile(join(dir, 'ignore'), ignoreBefore);
    assert.equal(await readFile(join(dir, 'ignore'), 'utf8'), ignoreBefore, 'nothing was added');
    assert.equal(await blockedSetsText(lab, lab.hosts.target, TABLE), kernelBefore, 'nothing reached the kernel');
    const status = JSON.parse((await ctl(['--json', 'status'], 'member')).stdout) as { protecting: boolean };
    assert.equal(status.protecting, true);

    // Root may do both, and status then says it is not protecting, and why.
    const rootBlock = await ctl(['block', '128.0.0.0/2'], 'root');
    assert.equal(rootBlock.code, 0, rootBlock.stderr);
    assert.match(await blockedSetsText(lab, lab.hosts.target, TABLE), /128\.0\.0\.0\/2/);
    assert.equal((await ctl(['unblock', '128.0.0.0/2'], 'root')).code, 0);
    assert.equal((await ctl(['ignore', 'add', '0.0.0.0/1'], 'root')).code, 0);
    assert.equal((await ctl(['ignore', 'add', '128.0.0.0/1'], 'root')).code, 0);
    assert.equal((await ctl(['ignore', 'add', '::/0'], 'root')).code, 0);
    const off = JSON.parse((await ctl(['--json', 'status'], 'member')).stdout) as { protecting: boolean; notProtectingReason: string };
    assert.equal(off.protecting, false, 'two /1s ignore every IPv4 address as surely as 0.0.0.0/0');
    assert.match(off.notProtectingReason, /the ignore list covers every IPv4 and IPv6 address/);
    const word = await ctl(['status'], 'member');
    assert.match(word.stdout, /NOT PROTECTING: .*the ignore list covers every/);
    for (const entry of ['0.0.0.0/1', '128.0.0.0/1', '::/0']) assert.equal((await ctl(['ignore', 'remove', entry], 'root')).code, 0);
    assert.equal(JSON.parse((await ctl(['--json', 'status'], 'member')).stdout).protecting, true);
  });

  it("root's own channel changes every key, even while the member holds every operator connection", async () => {
    // The member opens 64 connections and keeps them open: the operator socket is full.
    const holder: ChildProcess = spawn(
      'setpriv',
      [
        `--reuid=${MEMBER}`,
        `--regid=${MEMBER}`,
        '--init-groups',
        '--',
        process.execPath,
        '-e',
        `
        const net = require('node:net');
        let open = 0;
        for (let i = 0; i < 80; i++) {
          const s = net.createConnection(${JSON.stringify(operatorSocket)});
          s.on('connect', () => { open++; if (open === 64) console.log('holding 64'); });
          s.on('error', () => {});
        }
        setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('holding 64') && resolve());
        holder.once('exit', () => reject(new Error('the holder exited')));
      });
      const marker = join(dir, 'ran-$TARGET$');
      const set = await ctl(['config', 'set', `KILL_RUN_CMD=/usr/bin/touch ${marker}`, 'STATE_MAX_SOURCES=70000'], 'root');
      assert.equal(set.code, 0, set.stderr);
      const text = await readFile(conf, 'utf8');
      assert.match(text, /^KILL_RUN_CMD="\/usr\/bin\/touch .*ran-\$TARGET\$"$/m, "root's change goes to root's file");
      assert.match(text, /^# trust-boundary test: root wrote this$/m);
      // Even root cannot hand the helper a shell over the channel: only its own file may.
      const shell = await ctl(['config', 'set', 'KILL_RUN_CMD=/bin/sh /tmp/x.sh $TARGET$'], 'root');
      assert.equal(shell.code, 1);
      assert.match(shell.stderr, /executes code of its own/);
      const quoted = await ctl(['config', 'set', `KILL_ROUTE=/sbin/iptables -I INPUT -s $TARGET$ -j DROP -m comment --comment 'a;b'`], 'root');
      assert.equal(quoted.code, 1);
      assert.match(quoted.stderr, /inside quotes/);
      assert.equal((await ctl(['config', 'set', 'KILL_RUN_CMD=', 'STATE_MAX_SOURCES=65536'], 'root')).code, 0);
    } finally {
      holder.kill();
    }
  });

  it('refuses a socket directory others can write, a history file behind a symlink, and a config others can write, changing none of them', async () => {
    const sticky = await mkdtemp(join(tmpdir(), 'portsentry-sticky-'));
    const other = await mkdtemp(join(tmpdir(), 'portsentry-other-'));
    try {
      await chmod(sticky, 0o1777);
      await chmod(other, 0o755);
      // 1. The operator socket pointed into a world-writable sticky directory.
      const conf2 = join(other, 'a.conf');
      await writeFile(join(other, 'ignore'), '');
      await writeFile(conf2, helperConfigText(other, { TCP_PORTS: '15', NFT_TABLE: `${TABLE}2`, RPC_SOCKET: join(sticky, 'helper.sock') }));
      const second = startDaemon(lab, lab.hosts.target, ['-c', conf2, '-tcp']);
      try {
        await second.waitFor(/control socket .*helper\.sock unavailable: .*can be written by users other than root \(mode 1777\)/);
      } finally {
        await second.stop();
      }
      const info = await stat(sticky);
      assert.deepEqual([info.mode & 0o7777, info.uid, info.gid], [0o1777, 0, 0], 'not chowned, not chmodded');
      assert.deepEqual(await readdir(sticky), []);

      // 2. A history file that is a symlink to a file the attacker wants root to write.
      const victim = join(other, 'victim');
      await writeFile(victim, 'precious\n');
      await symlink(victim, join(other, 'history'));
      const third = await runDaemonOnce(['-c', conf2, '-tcp']);
      assert.notEqual(third.code, 0);
      assert.match(third.stderr, /symbolic link/);
      assert.equal(await readFile(victim, 'utf8'), 'precious\n');

      // 3. A config file the member could write is not run at all.
      await rm(join(other, 'history'));
      await chmod(conf2, 0o666);
      const check = await runDaemonOnce(['--check-config', '-c', conf2]);
      assert.equal(check.code, 2);
      assert.match(check.stderr, /can be written by users other than root \(mode 0666\)/);
    } finally {
      await rm(sticky, { recursive: true, force: true });
      await rm(other, { recursive: true, force: true });
    }
  });

  /** Runs a node script as the member; resolves with its stdout once it printed `ready`, and the process. */
  const asMember = (script: string): Promise<{ child: ChildProcess; output: () => string }> =>
    new Promise((resolve, reject) => {
      const child = spawn('setpriv', [`--reuid=${MEMBER}`, `--regid=${MEMBER}`, '--init-groups', '--', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) resolve({ child, output: () => out });
      });
      child.once('exit', () => reject(new Error(`the member's script exited: ${out}`)));
    });

  it('hostile frames from the member: object-property names, batches, duplicate members, huge numbers, bad UTF-8 are refused one by one, and the helper stays up', async () => {
    const confBefore = await readFile(conf);
    // As text: a JSON.stringify of an object literal would drop the __proto__ key and the duplicate member.
    const frames = [
      '{"jsonrpc":"2.0","id":1,"method":"__proto__"}',
      '{"jsonrpc":"2.0","id":2,"method":"toString"}',
      '{"jsonrpc":"2.0","id":3,"method":"constructor"}',
      '{"jsonrpc":"2.0","id":4,"method":"status","params":{"__proto__":{"role":"admin"}}}',
      '{"jsonrpc":"2.0","id":5,"method":"config.set","params":{"changes":{"constructor":"x"}}}',
      '[{"jsonrpc":"2.0","id":6,"method":"status"}]',
      // A tunable first, a root-only key in a second "changes": JSON keeps the last, which is refused.
      `{"jsonrpc":"2.0","id":7,"method":"config.set","params":{"changes":{"SCAN_TRIGGER":"3"},"changes":{"KILL_ROUTE":"/usr/bin/touch ${join(dir, 'pwned')} $TARGET$"}}}`,
      '{"jsonrpc":"2.0","id":1e309,"method":"status"}',
      '{"jsonrpc":"2.0","id":8,"method":"pause","params":{"durationSeconds":1e309}}',
    ];
    const text = `${frames.join('\n')}\n`;
    const { child, output } = await asMember(`
      const net = require('node:net');
      const s = net.createConnection(${JSON.stringify(operatorSocket)});
      let buf = '';
      s.on('connect', () => {
        s.write(${JSON.stringify(text)});
        s.write(Buffer.from([0xff, 0xfe, 0x0a]));
        s.write(JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'status' }) + '\\n');
      });
      // One answer a frame: the ${frames.length} above, the bad UTF-8 and the last status.
      s.on('data', (d) => { buf += d; if (buf.split('\\n').length - 1 === ${frames.length + 2}) { console.log(buf); console.log('ready'); } });
      setInterval(() => {}, 1000);`);
    child.kill();
    const answers = output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { id: unknown; error?: { code: number }; result?: { role?: string } });
    const codeOf = (id: unknown) => answers.find((answer) => answer.id === id)?.error?.code;
    assert.deepEqual([1, 2, 3].map(codeOf), [-32601, -32601, -32601], 'names of Object.prototype are not methods');
    assert.equal(codeOf(4), -32602);
    assert.equal(codeOf(5), -32602);
    assert.equal(codeOf(7), -32001, 'the duplicate member smuggles nothing: the root-only key is refused');
    assert.equal(codeOf(8), -32602);
    const nullIds = answers.filter((answer) => answer.id === null).map((answer) => answer.error?.code);
    assert.deepEqual(nullIds.sort(), [-32700, -32600, -32600].sort(), 'the batch, the id 1e309 and the bad UTF-8 each get an error');
    assert.equal(answers.find((answer) => answer.id === 'last')?.result?.role, 'operator', 'the helper still answers, as it did');
    assert.equal((await readFile(conf)).equals(confBefore), true);
    await assert.rejects(stat(join(dir, 'pwned')), /ENOENT/);
  });

  it("root's edit goes ahead of a flood of operator edits, and operators cannot queue without end", async () => {
    const ignoreBefore = await readFile(join(dir, 'ignore'), 'utf8');
    // 8 connections x 32 ignore additions at once: each is a file write and a reload. Before,
    // all 256 waited in one line, and root's config.set waited behind every one of them.
    const { child, output } = await asMember(`
      const net = require('node:net');
      let first = false;
      const answers = { ok: 0, limited: 0, other: 0 };
      for (let c = 0; c < 8; c++) {
        const s = net.createConnection(${JSON.stringify(operatorSocket)});
        let buf = '';
        s.on('connect', () => {
          let out = '';
          for (let k = 0; k < 32; k++) out += JSON.stringify({ jsonrpc: '2.0', id: k, method: 'ignore.add', params: { entry: '198.19.' + c + '.' + k } }) + '\\n';
          s.write(out);
        });
        s.on('data', (d) => {
          buf += d;
          for (let i; (i = buf.indexOf('\\n')) >= 0; buf = buf.slice(i + 1)) {
            const m = JSON.parse(buf.slice(0, i));
            if (m.result) answers.ok++; else if (m.error.code === -32002) answers.limited++; else answers.other++;
            if (!first) { first = true; console.log('ready'); }
          }
        });
        s.on('error', () => {});
      }
      process.on('SIGTERM', () => { console.log(JSON.stringify(answers)); process.exit(0); });
      setInterval(() => {}, 1000);`);
    try {
      const set = await ctl(['config', 'set', 'SCAN_TRIGGER=4'], 'root');
      assert.equal(set.code, 0, set.stderr);
      // Counted the moment root has its answer: the member's additions that went first.
      const addedFirst = (await readFile(join(dir, 'ignore'), 'utf8')).split('\n').filter((line) => line.startsWith('198.19.')).length;
      assert.ok(addedFirst < 64, `root waited for ${addedFirst} of the member's edits`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    const answers = JSON.parse(
      output()
        .split('\n')
        .find((line) => line.startsWith('{')) ?? '{}',
    ) as { ok: number; limited: number; other: number };
    assert.ok(answers.limited > 0, `operator edits past the cap are refused as rate-limited: ${JSON.stringify(answers)}`);
    assert.equal(answers.other, 0);
    await writeFile(join(dir, 'ignore'), ignoreBefore);
    assert.equal((await ctl(['config', 'set', 'SCAN_TRIGGER=0'], 'root')).code, 0);
  });

  it('an operator cannot grow the ignore list without end (root still can)', async () => {
    const ignoreBefore = await readFile(join(dir, 'ignore'), 'utf8');
    const full = Array.from({ length: 4096 }, (_, i) => `198.19.${i >> 8}.${i & 255}`).join('\n');
    await writeFile(join(dir, 'ignore'), `${ignoreBefore}${full}\n`);
    try {
      const refused = await ctl(['ignore', 'add', '198.18.44.1'], 'member');
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, /already holds 4096 entries/);
      assert.equal((await ctl(['ignore', 'remove', '198.19.0.1'], 'member')).code, 0, 'removing is still open');
      assert.equal((await ctl(['ignore', 'add', '198.18.44.1'], 'root')).code, 0);
    } finally {
      await writeFile(join(dir, 'ignore'), ignoreBefore);
    }
  });

  it("with OPERATOR_SETTINGS_FILE empty, every setting is root's: an operator's tunable is refused and root's file stays byte for byte", async () => {
    const other = await mkdtemp(join(tmpdir(), 'portsentry-noop-'));
    await chmod(other, 0o755);
    const conf3 = join(other, 'a.conf');
    await writeFile(join(other, 'ignore'), '');
    await writeFile(conf3, helperConfigText(other, { TCP_PORTS: '15', NFT_TABLE: `${TABLE}3`, RPC_GROUP: GROUP, OPERATOR_SETTINGS_FILE: '' }));
    const third = startDaemon(lab, lab.hosts.target, ['-c', conf3, '-tcp']);
    try {
      await third.waitFor('Admin control socket (root only) listening on');
      const confBefore = await readFile(conf3);
      const as = (who: 'member' | 'root', args: readonly string[]) => {
        const socket = join(other, 'run', ...(who === 'root' ? ['admin'] : []), 'helper.sock');
        const argv = [process.execPath, CTL, '--socket', socket, ...args];
        const [program, ...rest] = who === 'member' ? ['setpriv', `--reuid=${MEMBER}`, `--regid=${MEMBER}`, '--init-groups', '--', ...argv] : argv;
        return run(program!, rest).then(
          (r) => ({ code: 0, stderr: String(r.stderr) }),
          (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: String(e.stderr ?? '') }),
        );
      };
      const refused = await as('member', ['config', 'set', 'SCAN_TRIGGER=3']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /OPERATOR_SETTINGS_FILE is empty/);
      assert.equal((await readFile(conf3)).equals(confBefore), true, "root's file is never rewritten for an operator");
      assert.equal((await as('member', ['ignore', 'add', '198.18.45.1'])).code, 0, 'the ignore list stays open to operators');
      const set = await as('root', ['config', 'set', 'SCAN_TRIGGER=3']);
      assert.equal(set.code, 0, set.stderr);
      assert.match(await readFile(conf3, 'utf8'), /^SCAN_TRIGGER="3"$/m);
    } finally {
      await third.stop();
      await rm(other, { recursive: true, force: true });
    }
  });

  const runDaemonOnce = (args: readonly string[]): Promise<CtlResult> =>
    new Promise((resolve) => {
      const child = lab.spawn(lab.hosts.target, [process.execPath, DAEMON, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  it('a config file with a key named like an object property is an unknown key at its line (exit 2)', async () => {
    const bad = join(dir, 'proto.conf');
    await writeFile(bad, 'TCP_PORTS="1"\nconstructor="x"\n');
    const result = await runDaemonOnce(['--check-config', '-c', bad]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /proto\.conf:2: unknown key constructor/);
  });
});
