// A live change of settings equals a fresh start: one helper is changed again and again
// through `config set` (modes, port lists, IPV6, KERNEL_TRAP, ADVANCED_*, REPEAT_LOG), and
// after each change a second helper, in a namespace of its own, is started afresh on the
// same settings. What the kernel holds for each must be the same: the helper's listening
// sockets (ss, filtered to its pid: protocol, port, family), its tcpdump's argv (the capture
// filter), the capture chains that feed it (REPEAT_LOG "every" adds one before the drop), and
// its kernel trap (the trap chain's rules and the trap_* sets, with each host's own
// addresses written as SELF). Scripted transitions first, then random ones from a fixed seed.
// Midway an IPv4-only service holds a tripwire port on both hosts, then stops: the change
// after that asks for the port again, as a fresh start does, and takes it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { createLab, type Lab, type LabHost } from '../support/netns-lab.js';
import { helperConfigText } from '../support/helper-config.js';
import { portsentryctl } from '../support/portsentryctl.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);
const TABLE = `psequiv${process.pid}`.slice(0, 30);
const SEED = 20;
const RANDOM_STEPS = 8;
/** The trap's sets whose contents the helper decides (the dynamic ones fill with traffic). */
const TRAP_SETS = ['trap_ignore4', 'trap_ignore6', 'trap_tcp', 'trap_udp', 'trap_udp_tripwires', 'trap_tcp_tripwires', 'trap_shared6'];

const BASE: Record<string, string> = {
  MODES: 'tcp udp',
  TCP_PORTS: '1,11,15,79',
  UDP_PORTS: '1,7,9',
  IPV6: '1',
  KERNEL_TRAP: '1',
  SCAN_TRIGGER: '0',
  ADVANCED_PORTS_TCP: '1024',
  ADVANCED_PORTS_UDP: '1024',
  ADVANCED_EXCLUDE_TCP: '113,139',
  ADVANCED_EXCLUDE_UDP: '520,138,137,67',
  NFT_TABLE: TABLE,
};

const SERVICE_PORT = 2222;
/** Set before a step: start or stop a service holding SERVICE_PORT (IPv4 only) on both hosts. */
const SERVICE = Symbol('service');
type Step = Record<string, string> & { [SERVICE]?: 'start' | 'stop' };

const SCRIPTED: readonly Step[] = [
  { MODES: 'stcp sudp' },
  // 1.2's every-repeat log reads a blocked source's probes from a chain of its own (capture_blocked).
  { REPEAT_LOG: 'every' },
  { MODES: 'tcp udp' },
  { TCP_PORTS: '1,11,79,81' },
  { TCP_PORTS: `1,11,79,81,${SERVICE_PORT}`, [SERVICE]: 'start' },
  // A change that moves no sensor still asks again for the port the service let go.
  { KERNEL_TRAP: '0', [SERVICE]: 'stop' },
  { IPV6: '0', KERNEL_TRAP: '1' },
  { MODES: 'atcp audp', ADVANCED_PORTS_TCP: '2000', ADVANCED_EXCLUDE_TCP: '22' },
  { REPEAT_LOG: 'minute' },
  { KERNEL_TRAP: '0' },
  { IPV6: '1', MODES: 'tcp udp' },
  { KERNEL_TRAP: '1', UDP_PORTS: '7,9,69' },
  { MODES: 'tcp sudp', IPV6: '0' },
];

const CHOICES: Readonly<Record<string, readonly string[]>> = {
  MODES: ['tcp udp', 'stcp sudp', 'atcp audp', 'tcp sudp', 'stcp udp', 'atcp udp', 'tcp audp', 'tcp', 'udp'],
  TCP_PORTS: ['1,11,15,79', '1,11,79,81', '11,79,111', '31337'],
  UDP_PORTS: ['1,7,9', '7,9,69', '54321'],
  IPV6: ['0', '1'],
  KERNEL_TRAP: ['0', '1'],
  ADVANCED_PORTS_TCP: ['1024', '2000'],
  ADVANCED_PORTS_UDP: ['1024', '600'],
  ADVANCED_EXCLUDE_TCP: ['113,139', '22'],
  ADVANCED_EXCLUDE_UDP: ['520,138,137,67', '53'],
};

/** Random steps from a fixed seed (fast-check's generator): each changes one to three keys, half of them MODES. */
function randomSteps(seed: number, count: number): Step[] {
  const keys = Object.keys(CHOICES);
  const assignment = (key: string) => fc.constantFrom(...CHOICES[key]!).map((value) => [key, value] as const);
  const anyKey = fc.constantFrom(...keys).chain(assignment);
  const step = fc.tuple(fc.oneof(assignment('MODES'), anyKey), fc.array(anyKey, { maxLength: 2 })).map(([first, rest]) => Object.fromEntries([first, ...rest]) as Step);
  return fc.sample(step, { seed, numRuns: count });
}

/**
 * Every string in a JSON value that is one of `own` becomes SELF; counters become zero; an
 * NFLOG group becomes GROUP (capture alternates between two groups so a new capture can bind
 * one while the old still reads the other: which of the two is in use is no difference).
 */
function normalise(value: unknown, own: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return own.has(value) ? 'SELF' : value;
  if (Array.isArray(value)) return value.map((item) => normalise(item, own));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key === 'handle') continue;
      out[key] = key === 'counter' ? 'counter' : key === 'group' ? 'GROUP' : normalise(item, own);
    }
    return out;
  }
  return value;
}

interface Snapshot {
  readonly sockets: string[];
  readonly tcpdump: string[][];
  readonly trapRules: unknown;
  readonly trapSets: Record<string, unknown>;
  readonly captureRules: unknown;
}

async function snapshot(lab: Lab, host: LabHost, pid: number): Promise<Snapshot> {
  const ss = (await lab.exec(host, ['ss', '-H', '-l', '-t', '-u', '-n', '-p'])).stdout;
  const sockets = ss
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => {
      const [netid, , , , local] = line.split(/\s+/);
      return `${netid}/${local!.slice(local!.lastIndexOf(':') + 1)}/${local!.startsWith('[') || local!.startsWith('*') ? 6 : 4}`;
    })
    .sort();
  // The helper's children (tcpdump runs detached, in a group of its own, but is still its child).
  const children: string[] = [];
  for (const task of await readdir(`/proc/${pid}/task`)) {
    children.push(...(await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')).split(/\s+/).filter((p) => p !== ''));
  }
  const tcpdump: string[][] = [];
  for (const child of children) {
    const argv = (await readFile(`/proc/${child}/cmdline`, 'utf8').catch(() => '')).split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1);
    if (argv[0]?.endsWith('tcpdump') === true) tcpdump.push(argv.map((arg) => arg.replace(/^nflog:\d+$/, 'nflog:GROUP')));
  }
  const addresses = JSON.parse((await lab.exec(host, ['ip', '-j', 'addr', 'show'])).stdout) as Array<{ addr_info: Array<{ local: string }> }>;
  const own = new Set(addresses.flatMap((link) => link.addr_info.map((info) => info.local)));
  const nftJson = async (argv: string[]) => {
    const result = await lab.exec(host, ['nft', '-j', ...argv], { allowFailure: true });
    return result.code === 0 ? ((JSON.parse(result.stdout) as { nftables: Array<Record<string, unknown>> }).nftables ?? []) : [];
  };
  const trapRules = normalise(
    (await nftJson(['list', 'chain', 'inet', TABLE, 'trap'])).filter((entry) => 'rule' in entry),
    own,
  );
  const trapSets: Record<string, unknown> = {};
  for (const name of TRAP_SETS) {
    const set = (await nftJson(['list', 'set', 'inet', TABLE, name])).find((entry) => 'set' in entry)?.['set'] as { elem?: unknown[] } | undefined;
    const elements = (normalise(set?.elem ?? [], own) as unknown[]).map((element) => JSON.stringify(element)).sort();
    trapSets[name] = elements;
  }
  // The rules feeding capture from netfilter's log, REPEAT_LOG's chain before the drop included.
  const captureRules: Record<string, unknown> = {};
  for (const chain of ['capture', 'capture_blocked', 'capture_out'])
    captureRules[chain] = normalise(
      (await nftJson(['list', 'chain', 'inet', TABLE, chain])).filter((entry) => 'rule' in entry),
      own,
    );
  return { sockets, tcpdump: tcpdump.sort(), trapRules, trapSets, captureRules };
}

describe('a live change of settings leaves sockets, capture filter and kernel trap as a fresh start would', { timeout: 600_000 }, () => {
  let lab: Lab<'live' | 'fresh'>;
  let dir: string;
  let live: DaemonProcess;
  let fresh: DaemonProcess | undefined;
  const services: Array<{ child: ReturnType<Lab['spawn']>; exited: Promise<void> }> = [];

  /** socat holding SERVICE_PORT on IPv4 only, on both hosts; resolves once both listen. */
  const startServices = async () => {
    for (const host of [lab.hosts.live, lab.hosts.fresh]) {
      const child = lab.spawn(host, ['socat', `TCP4-LISTEN:${SERVICE_PORT},fork,reuseaddr`, 'OPEN:/dev/null,rdonly'], { stdio: 'ignore' });
      services.push({ child, exited: new Promise((resolve) => child.once('exit', () => resolve())) });
      await until('the service listens', async () => (await lab.exec(host, ['ss', '-Hltnp', 'sport', `= :${SERVICE_PORT}`])).stdout.includes(`pid=${child.pid},`));
    }
  };
  const stopServices = async () => {
    for (const { child, exited } of services.splice(0)) {
      child.kill();
      await exited;
    }
  };

  const ctl = (args: readonly string[]) => portsentryctl(join(dir, 'live', 'run', 'admin', 'helper.sock'))(args);
  const confFor = async (name: 'live' | 'fresh', keys: Record<string, string>) => {
    const home = join(dir, name);
    await rm(home, { recursive: true, force: true });
    await run('mkdir', ['-p', home]);
    await writeFile(join(home, 'ignore'), '# equivalence test\n');
    const conf = join(home, 'portsentry.conf');
    await writeFile(conf, helperConfigText(home, keys));
    return conf;
  };

  before(async () => {
    lab = await createLab(['live', 'fresh']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-equivalence-'));
    live = startDaemon(lab, lab.hosts.live, ['-c', await confFor('live', BASE)]);
    await live.waitFor('Control socket listening on');
  });

  after(async () => {
    await stopServices();
    await live?.stop();
    await fresh?.stop();
    for (const host of [lab?.hosts.live, lab?.hosts.fresh]) if (host !== undefined) await lab.exec(host, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(`scripted transitions, then ${RANDOM_STEPS} random ones (seed ${SEED})`, async () => {
    let settings = { ...BASE };
    for (const [index, step] of [...SCRIPTED, ...randomSteps(SEED, RANDOM_STEPS)].entries()) {
      if (step[SERVICE] === 'start') await startServices();
      if (step[SERVICE] === 'stop') await stopServices();
      const what = `step ${index + 1} (seed ${SEED}): ${JSON.stringify(step)} on ${JSON.stringify(settings)}`;
      const candidate = { ...settings, ...Object.fromEntries(Object.entries(step)) };
      const result = await ctl(['config', 'set', ...Object.entries(step).map(([key, value]) => `${key}=${value}`)]);
      if (result.code !== 0) {
        // A combination the settings refuse (e.g. a mode without ports) changes nothing: skip it.
        assert.match(result.stderr, /needs them|lists no ports|may hold one/, `${what}: ${result.stderr}`);
        continue;
      }
      settings = candidate;
      const after = await snapshot(lab, lab.hosts.live, live.child.pid!);
      fresh = startDaemon(lab, lab.hosts.fresh, ['-c', await confFor('fresh', settings)]);
      await fresh.waitFor('PortSentry is now active and listening');
      const expected = await snapshot(lab, lab.hosts.fresh, fresh.child.pid!);
      assert.equal((await fresh.stop()).code, 0);
      fresh = undefined;
      await lab.exec(lab.hosts.fresh, ['nft', 'delete', 'table', 'inet', TABLE], { allowFailure: true });
      assert.deepEqual(after.sockets, expected.sockets, `${what}: sockets`);
      assert.deepEqual(after.tcpdump, expected.tcpdump, `${what}: tcpdump's argv`);
      assert.deepEqual(after.trapRules, expected.trapRules, `${what}: the trap chain`);
      assert.deepEqual(after.trapSets, expected.trapSets, `${what}: the trap sets`);
      assert.deepEqual(after.captureRules, expected.captureRules, `${what}: the capture chains`);
    }
  });
});
