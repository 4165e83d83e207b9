// The helper's word equals the kernel's state, after every step of sequences nobody scripted
// (issue 20, "Prove it"). fast-check generates random sequences of steps (lone and streamed
// probes from new and known sources, IPv4 and IPv6; live config changes; blocks, unblocks,
// ignores, pause; another tool flushing the ruleset or deleting our table; SIGHUP, restart,
// kill -9; a service taking and releasing a tripwire port), runs them against a real
// portsentryd in a network namespace lab (test/support/invariant-rig.ts) and, after each
// step, waits until kernel, helper and the model in test/support/helper-model.ts agree or a
// 10 s safety net passes, then judges: every block the model expects is in the kernel's sets
// with its log line, nothing else is; blocks.list lists exactly the kernel's elements; status
// counts them (and, when the helper reports `firewall` / `protecting`, says degraded exactly
// when kernel and helper differ and not-protecting exactly when blocking is off or paused);
// no port a service holds is held by the helper. A probe that must not block is followed by
// a barrier (a probe from an ignored sentinel address and its "Ignoring" line) before the
// judgement, never by a sleep.
//
// `npm test` runs a fixed seed, 4 runs of up to 40 steps, shrinking cut off after 100 s.
// A soak by hand, any seed:  SOAK_STEPS=500 SOAK_SEED=123 node dist/test/e2e/helper-word-equals-kernel.test.js
// (SOAK_RUNS: runs, default 1; SOAK_PATH: replay a reported path; SOAK_EXCLUDE=flush,delete-table: leave step kinds
// out; SOAK_TIME_LIMIT: seconds after which shrinking stops with the shortest sequence so far).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HelperError } from '../../shared/rpc/helper-client.js';
import {
  SERVICE_PORT,
  TCP_PORT_POOL,
  UDP_PORT_POOL,
  blockScope,
  initialModel,
  modesText,
  shouldBlock,
  disagreements,
  sourceAddress,
  type HelperModel,
  type ProbeKind,
  type Source,
  type TcpMode,
  type UdpMode,
} from '../support/helper-model.js';
import { InvariantRig, SETTLE_MS } from '../support/invariant-rig.js';
import { listeningSockets } from '../support/kernel-state.js';
import { until } from '../support/wait.js';

type Step = fc.AsyncCommand<HelperModel, InvariantRig>;

const env = process.env;
const soak = env['SOAK_STEPS'] !== undefined || env['SOAK_SEED'] !== undefined;
const STEPS = Number(env['SOAK_STEPS'] ?? 40);
const RUNS = Number(env['SOAK_RUNS'] ?? (soak ? 1 : 4));
const SEED = Number(env['SOAK_SEED'] ?? 20_261_207);
const TIME_LIMIT_MS = env['SOAK_TIME_LIMIT'] !== undefined ? Number(env['SOAK_TIME_LIMIT']) * 1000 : soak ? null : 100_000;
const EXCLUDE = new Set((env['SOAK_EXCLUDE'] ?? '').split(',').filter(Boolean));
for (const [name, value] of [
  ['SOAK_STEPS', STEPS],
  ['SOAK_RUNS', RUNS],
  ['SOAK_SEED', SEED],
  ['SOAK_TIME_LIMIT', TIME_LIMIT_MS ?? 1],
] as const) {
  if (!Number.isSafeInteger(value) || value < (name === 'SOAK_SEED' ? -(2 ** 31) : 1)) throw new Error(`${name} must be a whole number`);
}

/** A listener that is neither a service of the model nor socat: what a helper holding a service's port looks like to ss. */
const SQUAT = 'import socket,sys,time\ns=socket.socket()\ns.bind(("0.0.0.0",int(sys.argv[1])))\ns.listen()\ntime.sleep(600)';

/** What the steps saw, so a run that judged nothing cannot pass unnoticed. */
const tally = { blockingProbes: 0, quietProbes: 0, barriers: 0, steps: 0 };
/** The slowest convergence per step kind (ms): the target for a repair is about a second. */
const slowest = new Map<string, number>();

function describeSource(source: Source): string {
  return `s${source.host}/v${source.family}#${source.index} (${sourceAddress(source)})`;
}

/** The common frame of every step: act, then settle and judge; a disagreement fails the run with evidence. */
abstract class JudgedStep implements Step {
  abstract readonly kind: string;
  check(_model: Readonly<HelperModel>): boolean {
    return true;
  }
  protected abstract act(model: HelperModel, rig: InvariantRig): Promise<void>;
  abstract toString(): string;

  async run(model: HelperModel, rig: InvariantRig): Promise<void> {
    tally.steps += 1;
    rig.beginStep();
    model.expectLines.clear();
    await this.act(model, rig);
    const settled = await rig.settle(model);
    if (settled.problems.length > 0) {
      throw new Error(`after ${this.toString()}, within ${SETTLE_MS} ms:\n  - ${settled.problems.join('\n  - ')}\n${await rig.evidence()}`);
    }
    slowest.set(this.kind, Math.max(slowest.get(this.kind) ?? 0, settled.ms));
  }
}

class Probe extends JudgedStep {
  readonly kind = 'probe';
  constructor(
    readonly probe: ProbeKind,
    readonly source: Source,
    readonly ports: readonly number[],
  ) {
    super();
  }
  override check(model: Readonly<HelperModel>): boolean {
    // A port whose owner is open to interpretation (a service just left it) is not judged;
    // nor an IPv6 probe of a port a service holds for IPv4 only.
    return this.ports.every((port) => !model.unsettledPorts.has(port) && !(this.source.family === 6 && model.services.get(port)?.family === '4'));
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    const blocks = shouldBlock(model, this.probe, this.source, this.ports);
    await rig.scannerProbe(this.probe, this.source, this.ports);
    if (blocks) {
      tally.blockingProbes += 1;
      model.blocks.add(blockScope(this.source));
      model.expectLines.add(sourceAddress(this.source));
    } else {
      tally.quietProbes += 1;
      if (await rig.barrier(model, this.probe, this.source.family)) tally.barriers += 1;
    }
  }
  toString(): string {
    return `probe ${this.probe} from ${describeSource(this.source)} to ${this.ports.join(',')}`;
  }
}

class ConfigSet extends JudgedStep {
  readonly kind = 'config-set';
  constructor(
    readonly key: 'MODES' | 'TCP_PORTS' | 'UDP_PORTS' | 'IPV6' | 'KERNEL_TRAP' | 'BLOCK_TCP' | 'BLOCK_UDP',
    readonly change: { modes?: [TcpMode | null, UdpMode | null]; port?: number; on?: boolean },
  ) {
    super();
  }
  override check(model: Readonly<HelperModel>): boolean {
    if (this.key === 'TCP_PORTS' || this.key === 'UDP_PORTS') {
      const ports = this.key === 'TCP_PORTS' ? model.tcpPorts : model.udpPorts;
      // Never empty a port list: a stealth mode needs it (that refusal is tested elsewhere).
      return !(ports.has(this.change.port!) && ports.size === 1);
    }
    return true;
  }
  private value(model: HelperModel): string {
    switch (this.key) {
      case 'MODES':
        return modesText({ tcpMode: this.change.modes![0], udpMode: this.change.modes![1] });
      case 'TCP_PORTS':
      case 'UDP_PORTS': {
        const ports = new Set(this.key === 'TCP_PORTS' ? model.tcpPorts : model.udpPorts);
        if (ports.has(this.change.port!)) ports.delete(this.change.port!);
        else ports.add(this.change.port!);
        return [...ports].sort((a, b) => a - b).join(',');
      }
      default:
        return this.change.on === true ? '1' : '0';
    }
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    const value = this.value(model);
    await rig.call('config.set', { changes: { [this.key]: value } });
    if (this.key === 'MODES') [model.tcpMode, model.udpMode] = this.change.modes!;
    else if (this.key === 'TCP_PORTS') model.tcpPorts = new Set(value.split(',').map(Number));
    else if (this.key === 'UDP_PORTS') model.udpPorts = new Set(value.split(',').map(Number));
    else if (this.key === 'IPV6') model.ipv6 = this.change.on === true;
    else if (this.key === 'KERNEL_TRAP') model.kernelTrap = this.change.on === true;
    else if (this.key === 'BLOCK_TCP') model.blockTcp = this.change.on === true;
    else model.blockUdp = this.change.on === true;
    // A live change equals a fresh start with the new config: a free port may be taken again.
    model.unsettledPorts.clear();
  }
  toString(): string {
    const what =
      this.key === 'MODES'
        ? `"${modesText({ tcpMode: this.change.modes![0], udpMode: this.change.modes![1] })}"`
        : this.change.port !== undefined
          ? `add/remove ${this.change.port}`
          : this.change.on === true
            ? '1'
            : '0';
    return `config set ${this.key} ${what}`;
  }
}

class BlockByHand extends JudgedStep {
  readonly kind = 'block';
  constructor(readonly source: Source) {
    super();
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    const address = sourceAddress(this.source);
    const refused = await rig.call('block', { address, reason: 'invariant checker' }).then(
      () => null,
      (error: unknown) => (error instanceof HelperError ? error.message : Promise.reject(error)),
    );
    const ignored = model.ignored.has(address);
    if (ignored && refused === null) throw new Error(`block ${address} was accepted although the address is on the ignore list`);
    if (!ignored && refused !== null) throw new Error(`block ${address} was refused: ${refused}`);
    if (!ignored) {
      model.blocks.add(address);
      model.expectLines.add(address);
    }
  }
  toString(): string {
    return `block ${describeSource(this.source)} by hand`;
  }
}

class UnblockByHand extends JudgedStep {
  readonly kind = 'unblock';
  constructor(readonly source: Source) {
    super();
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    const address = sourceAddress(this.source);
    await rig.call('unblock', { address, reason: 'invariant checker' });
    // The helper lifts the address's own block, else the network block that covers it.
    if (!model.blocks.delete(address)) model.blocks.delete(blockScope(this.source));
  }
  toString(): string {
    return `unblock ${describeSource(this.source)} by hand`;
  }
}

class Ignore extends JudgedStep {
  readonly kind = 'ignore';
  constructor(
    readonly source: Source,
    readonly add: boolean,
  ) {
    super();
  }
  override check(model: Readonly<HelperModel>): boolean {
    return model.ignored.has(sourceAddress(this.source)) !== this.add;
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    const entry = sourceAddress(this.source);
    if (this.add) {
      await rig.call('ignore.add', { entry, comment: 'invariant checker' });
      model.ignored.add(entry);
    } else {
      await rig.call('ignore.remove', { entry });
      model.ignored.delete(entry);
    }
  }
  toString(): string {
    return `ignore ${this.add ? 'add' : 'remove'} ${describeSource(this.source)}`;
  }
}

class Pause extends JudgedStep {
  readonly kind = 'pause';
  constructor(readonly paused: boolean) {
    super();
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    await (this.paused ? rig.call('pause', {}) : rig.call('resume', {}));
    model.paused = this.paused;
  }
  toString(): string {
    return this.paused ? 'pause' : 'resume';
  }
}

/** Another tool changes the firewall behind the helper's back; the model does not change: the helper must repair. */
class ForeignFirewall extends JudgedStep {
  constructor(readonly kind: 'flush' | 'delete-table') {
    super();
  }
  protected async act(_model: HelperModel, rig: InvariantRig): Promise<void> {
    await rig.nft(this.kind === 'flush' ? ['flush', 'ruleset'] : ['delete', 'table', 'inet', rig.table]);
  }
  toString(): string {
    return this.kind === 'flush' ? 'nft flush ruleset' : 'nft delete table inet <table>';
  }
}

class Lifecycle extends JudgedStep {
  constructor(readonly kind: 'sighup' | 'restart' | 'kill-9') {
    super();
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    if (this.kind === 'sighup') {
      const from = rig.lines.length;
      rig.signal('SIGHUP');
      const reloaded = () => rig.lines.slice(from).some((line) => line.includes('Configuration reloaded'));
      const deadline = Date.now() + SETTLE_MS;
      while (!reloaded() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      if (!reloaded()) throw new Error(`no "Configuration reloaded" line within ${SETTLE_MS} ms of SIGHUP`);
    } else {
      await rig.stopHelper(this.kind === 'restart' ? 'SIGTERM' : 'SIGKILL');
      await rig.startHelper();
      // A pause is not kept across a restart.
      model.paused = false;
    }
    model.unsettledPorts.clear();
  }
  toString(): string {
    return this.kind === 'sighup' ? 'SIGHUP' : this.kind === 'restart' ? 'restart (SIGTERM, start)' : 'kill -9, start';
  }
}

class Service extends JudgedStep {
  readonly kind = 'service';
  constructor(
    readonly port: number,
    readonly family: 'dual' | '4',
    readonly bind: boolean,
  ) {
    super();
  }
  override check(model: Readonly<HelperModel>): boolean {
    return model.services.has(this.port) !== this.bind;
  }
  protected async act(model: HelperModel, rig: InvariantRig): Promise<void> {
    if (this.bind) {
      // The helper may hold the port already (a tripwire it bound while it was free): then the service fails, as it would.
      if (await rig.bindService(this.port, this.family)) {
        model.services.set(this.port, { port: this.port, family: this.family });
        model.unsettledPorts.delete(this.port);
      }
    } else {
      await rig.releaseService(this.port);
      model.services.delete(this.port);
      // Free again: whether the helper takes it now or at the next change is open; not judged until then.
      model.unsettledPorts.add(this.port);
    }
  }
  toString(): string {
    return this.bind ? `a service binds TCP ${this.port} (${this.family === 'dual' ? 'IPv4 and IPv6' : 'IPv4 only'})` : `the service on TCP ${this.port} exits`;
  }
}

const source = fc.record({ host: fc.integer({ min: 0, max: 5 }), family: fc.constantFrom<4 | 6>(4, 6), index: fc.integer({ min: 0, max: 2 }) });
const toggle = fc.boolean();

function probeArbitrary(): fc.Arbitrary<Step> {
  return fc.tuple(fc.constantFrom<ProbeKind>('connect', 'syn', 'udp'), source, fc.boolean(), fc.nat()).map(([kind, from, streamed, pick]) => {
    const pool: readonly number[] = kind === 'udp' ? UDP_PORT_POOL : TCP_PORT_POOL;
    const first = pool[pick % pool.length]!;
    // Streamed: the same kind to three ports in a row, as a scanner does.
    const ports = streamed ? [first, pool[(pick + 1) % pool.length]!, pool[(pick + 2) % pool.length]!] : [first];
    return new Probe(kind, from, ports);
  });
}

const MODES: Array<[TcpMode | null, UdpMode | null]> = [
  ['tcp', 'udp'],
  ['stcp', 'sudp'],
  ['atcp', 'audp'],
  ['tcp', 'sudp'],
  ['stcp', 'udp'],
  ['atcp', 'udp'],
  ['tcp', 'audp'],
  ['stcp', null],
  [null, 'udp'],
];

/** Every step kind by name, with its weight; SOAK_EXCLUDE names leave kinds out. */
const STEP_KINDS: Array<[string, number, fc.Arbitrary<Step>]> = [
  ['probe', 8, probeArbitrary()],
  ['service-probe', 1, fc.tuple(fc.constantFrom<ProbeKind>('connect', 'syn'), source).map(([kind, from]) => new Probe(kind, from, [SERVICE_PORT]))],
  ['modes', 2, fc.constantFrom(...MODES).map((modes) => new ConfigSet('MODES', { modes }))],
  [
    'ports',
    2,
    fc
      .tuple(fc.boolean(), fc.nat())
      .map(([tcp, pick]) =>
        tcp ? new ConfigSet('TCP_PORTS', { port: TCP_PORT_POOL[pick % TCP_PORT_POOL.length]! }) : new ConfigSet('UDP_PORTS', { port: UDP_PORT_POOL[pick % UDP_PORT_POOL.length]! }),
      ),
  ],
  [
    'switches',
    2,
    fc
      .tuple(fc.constantFrom('IPV6', 'KERNEL_TRAP', 'BLOCK_TCP', 'BLOCK_UDP') as fc.Arbitrary<'IPV6' | 'KERNEL_TRAP' | 'BLOCK_TCP' | 'BLOCK_UDP'>, toggle)
      .map(([key, on]) => new ConfigSet(key, { on })),
  ],
  ['block', 1, source.map((s) => new BlockByHand(s))],
  ['unblock', 1, source.map((s) => new UnblockByHand(s))],
  ['ignore', 1, fc.tuple(source, fc.boolean()).map(([s, add]) => new Ignore(s, add))],
  ['pause', 1, toggle.map((paused) => new Pause(paused))],
  ['flush', 1, fc.constant(new ForeignFirewall('flush'))],
  ['delete-table', 1, fc.constant(new ForeignFirewall('delete-table'))],
  ['sighup', 1, fc.constant(new Lifecycle('sighup'))],
  ['restart', 1, fc.constant(new Lifecycle('restart'))],
  ['kill-9', 1, fc.constant(new Lifecycle('kill-9'))],
  ['service', 1, fc.tuple(fc.constantFrom(79, 143, 4000), fc.constantFrom<'dual' | '4'>('dual', '4'), fc.boolean()).map(([port, family, bind]) => new Service(port, family, bind))],
];

describe('the helper says what the kernel does, after every step of random sequences', { timeout: soak ? Infinity : 170_000 }, () => {
  let rig: InvariantRig;

  before(async () => {
    rig = await InvariantRig.create();
  });

  after(async () => {
    await rig?.destroy();
    const times = [...slowest].map(([kind, ms]) => `${kind} ${ms} ms`).join(', ');
    console.log(
      `invariant checker: ${tally.steps} steps, ${tally.blockingProbes} probes that block, ${tally.quietProbes} that must not (${tally.barriers} behind a barrier); slowest convergence per step kind: ${times || 'none'}; max ${Math.max(0, ...slowest.values())} ms`,
    );
  });

  it("the checker is not vacuous: a block deleted, and one added, behind the helper's back are reported", async () => {
    await rig.fresh();
    const model = initialModel();
    const victim = sourceAddress({ host: 0, family: 4, index: 0 });
    await rig.call('block', { address: victim });
    model.blocks.add(victim);
    model.expectLines.add(victim);
    assert.deepEqual((await rig.settle(model)).problems, [], 'the helper, the kernel and the model agree first');
    // A port the model says a service holds, taken by another program (as the helper would take it).
    model.services.set(4000, { port: 4000, family: '4' });
    const squatter = rig.lab.spawn(rig.lab.hosts.target, ['/usr/bin/python3', '-c', SQUAT, '4000'], { stdio: 'ignore' });
    await until('the squatter listens on 4000', async () => (await listeningSockets(rig.lab, rig.lab.hosts.target)).some((s) => s.port === 4000));
    const helperView = await rig.observeHelper(model);
    squatter.kill();
    // Frozen, the helper cannot repair what is done now: the judgement sees the tampering itself.
    rig.signal('SIGSTOP');
    try {
      await rig.nft(['delete', 'element', 'inet', rig.table, 'blocked4', `{ ${victim} }`]);
      await rig.nft(['add', 'element', 'inet', rig.table, 'blocked4', '{ 198.18.0.250 }']);
      const kernel = await rig.observeKernel();
      const problems = disagreements(model, { ...kernel, ...helperView, lines: [] });
      assert.deepEqual(
        problems.sort(),
        [
          `${victim} should be blocked but is not in the kernel's sets`,
          "198.18.0.250 is in the kernel's sets but nothing should have blocked it",
          `blocks.list lists ${victim}, the kernel does not hold it`,
          `no "Host ${victim} has been blocked via" line`,
          'the helper holds a port a service holds: tcp 0.0.0.0:4000 (python3)',
          'the kernel holds 198.18.0.250, blocks.list does not list it',
          // The status read before the tampering says in sync: the check of the firewall owner's word is active.
          'status.firewall.inSync is true while kernel and blocks.list differ',
        ].sort(),
      );
    } finally {
      rig.signal('SIGCONT');
    }
  });

  it('holds after every step of a random sequence (fixed seed in npm test; SOAK_* for a soak)', async () => {
    const kinds = STEP_KINDS.filter(([name]) => !EXCLUDE.has(name));
    const unknown = [...EXCLUDE].filter((name) => !STEP_KINDS.some(([kind]) => kind === name));
    assert.deepEqual(unknown, [], `SOAK_EXCLUDE names step kinds: ${STEP_KINDS.map(([kind]) => kind).join(', ')}`);
    const steps = fc.commands(
      kinds.flatMap(([, weight, arbitrary]) => Array.from({ length: weight }, () => arbitrary)),
      { maxCommands: STEPS, size: 'max' },
    );
    await fc.assert(
      fc.asyncProperty(steps, async (sequence) => {
        // Each run, and each re-run while shrinking, starts a fresh helper on a fresh table.
        await fc.asyncModelRun(async () => {
          await rig.fresh();
          return { model: initialModel(), real: rig };
        }, sequence);
      }),
      {
        seed: SEED,
        numRuns: RUNS,
        ...(env['SOAK_PATH'] !== undefined ? { path: env['SOAK_PATH'] } : {}),
        // Shrinking re-runs sequences on a fresh helper each: in npm test it stops after 100 s
        // with the shortest failing sequence found so far (SOAK_TIME_LIMIT seconds in a soak).
        ...(TIME_LIMIT_MS === null ? {} : { interruptAfterTimeLimit: TIME_LIMIT_MS }),
      },
    );
    assert.ok(tally.blockingProbes > 0 && tally.quietProbes > 0, `the runs judged probes of both kinds: ${JSON.stringify(tally)}`);
  });
});
