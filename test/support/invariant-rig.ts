// The real side of the invariant checker: one lab (a target, six scanner hosts with three
// addresses per family each, and a sentinel host whose addresses are all on the ignore list),
// a real portsentryd on the target that can be started fresh, restarted, killed, reloaded,
// and the probes, services and outside firewall changes the random steps are made of. It
// observes (kernel sets, blocks.list, status, log lines, listening sockets); the model in
// helper-model.ts judges.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HelperClient } from '../../shared/rpc/helper-client.js';
import type { MethodName, ParamsOf, ResultOf } from '../../shared/protocol/methods.js';
import { startDaemon, type DaemonProcess } from './daemon-process.js';
import { helperConfigText, startTcpService } from './helper-config.js';
import { createLab, type Lab, type LabHost } from './netns-lab.js';
import { listeningSockets, readKernelBlocks } from './kernel-state.js';
import {
  ADDRESSES_PER_FAMILY,
  ADVANCED_LIMIT,
  INITIAL_TCP_PORTS,
  INITIAL_UDP_PORTS,
  SCANNER_HOSTS,
  SERVICE_PORT,
  disagreements,
  extraNetwork6,
  sourceAddress,
  type HelperModel,
  type Observed,
  type ProbeKind,
  type ServiceHold,
} from './helper-model.js';
import { until } from './wait.js';

const run = promisify(execFile);
/** Sentinel addresses: ignored, so each probe from one is logged ("is in the ignore list. Ignoring") and changes nothing. */
const SENTINELS = 24;
/** The helper summarises an ignored source to one line a minute: a barrier uses each sentinel address once a minute at most. */
const SENTINEL_REUSE_MS = 61_000;
/** The safety net of one settle: after it the checker judges what it sees. */
export const SETTLE_MS = 10_000;

type HostName = 'target' | 'sentinel' | `s${number}`;

export interface Settled {
  readonly ms: number;
  readonly problems: string[];
}

export class InvariantRig {
  readonly table: string;
  private dir = '';
  private daemon: DaemonProcess | null = null;
  /** Lines of the helpers of this run that have stopped; with the running one's, the run's whole log. */
  private pastLines: string[] = [];
  /** Where the current step began in that log. */
  private stepStart = 0;
  private readonly services = new Map<number, ReturnType<Lab['spawn']>>();
  private readonly sentinelUsed = new Map<string, number>();
  private serviceProcess: ReturnType<Lab['spawn']> | null = null;
  readonly settleTimes: number[] = [];

  private constructor(readonly lab: Lab<HostName>) {
    this.table = `psinv${process.pid}`.slice(0, 30);
  }

  static async create(): Promise<InvariantRig> {
    const scanners = Array.from({ length: SCANNER_HOSTS }, (_, i) => `s${i}` as const);
    const lab = await createLab<HostName>(['target', ...scanners, 'sentinel']);
    const rig = new InvariantRig(lab);
    const { target, sentinel } = lab.hosts;
    for (let host = 0; host < SCANNER_HOSTS; host += 1) {
      const ns = lab.hosts[`s${host}`]!;
      for (let index = 1; index < ADDRESSES_PER_FAMILY; index += 1) {
        await lab.exec(ns, ['ip', 'addr', 'add', `${sourceAddress({ host, family: 4, index })}/24`, 'dev', 'eth0']);
        await lab.exec(ns, ['ip', 'addr', 'add', `${sourceAddress({ host, family: 6, index })}/64`, 'dev', 'eth0', 'nodad']);
      }
      // On-link, not via the scanner: a next hop is protected (the helper never blocks a gateway).
      await lab.exec(target, ['ip', '-6', 'route', 'add', `${extraNetwork6(host)}/64`, 'dev', 'eth0']);
    }
    for (const address of rig.sentinelAddresses()) {
      await lab.exec(sentinel, ['ip', 'addr', 'add', address.includes(':') ? `${address}/64` : `${address}/24`, 'dev', 'eth0', ...(address.includes(':') ? ['nodad'] : [])]);
    }
    rig.serviceProcess = await startTcpService(lab, target, SERVICE_PORT);
    return rig;
  }

  private sentinelAddresses(): string[] {
    return Array.from({ length: SENTINELS }, (_, k) => [`198.18.0.${200 + k}`, `fd00:5e::1:${(k + 1).toString(16)}`]).flat();
  }

  get adminSocket(): string {
    return join(this.dir, 'run', 'admin', 'helper.sock');
  }

  get helperPid(): number | undefined {
    return this.daemon?.child.pid;
  }

  /** A fresh helper on fresh files and a fresh table (each fast-check run and each shrink starts here). */
  async fresh(): Promise<void> {
    await this.stopHelper();
    for (const port of [...this.services.keys()]) await this.releaseService(port);
    await this.lab.exec(this.lab.hosts.target, ['nft', 'delete', 'table', 'inet', this.table], { allowFailure: true });
    // Runs must not leak into each other: a connection of the last run still closing (its FIN
    // retransmitted while its source was blocked) would reach the next helper's trap.
    for (const host of Object.values<LabHost>(this.lab.hosts)) await this.lab.exec(host, ['ss', '-K', '-t', 'state', 'connected'], { allowFailure: true });
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true });
    this.dir = await mkdtemp(join(tmpdir(), 'portsentry-invariants-'));
    await writeFile(join(this.dir, 'ignore'), ['# invariant checker: the sentinel host, a barrier that never blocks', ...this.sentinelAddresses(), ''].join('\n'));
    const keys = {
      NFT_TABLE: this.table,
      TCP_PORTS: INITIAL_TCP_PORTS.join(','),
      UDP_PORTS: INITIAL_UDP_PORTS.join(','),
      ADVANCED_PORTS_TCP: String(ADVANCED_LIMIT),
      ADVANCED_PORTS_UDP: String(ADVANCED_LIMIT),
      ADVANCED_EXCLUDE_TCP: '113',
      ADVANCED_EXCLUDE_UDP: '137',
      SCAN_TRIGGER: '0',
      BLOCK_RATE_PER_PREFIX: '0',
      BLOCK_PREFIX6: '64',
      RPC_SOCKET: '',
    };
    await writeFile(join(this.dir, 'portsentry.conf'), helperConfigText(this.dir, keys, '# invariant checker: MODES from its default (tcp udp)'));
    this.pastLines = [];
    this.sentinelUsed.clear();
    await this.startHelper();
  }

  async startHelper(): Promise<void> {
    this.daemon = startDaemon(this.lab, this.lab.hosts.target, ['-c', join(this.dir, 'portsentry.conf')]);
    const daemon = this.daemon;
    const exited = daemon.exited.then(({ code, signal }) => Promise.reject(new Error(`the helper exited (${code ?? signal}) before it was active:\n${daemon.lines.join('\n')}`)));
    await Promise.race([daemon.waitFor('is now active and listening', 60_000), exited]);
    exited.catch(() => undefined);
    await until('the admin socket answers', async () => (await this.call('status', {}).catch(() => null)) !== null);
  }

  async stopHelper(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const daemon = this.daemon;
    if (daemon === null) return;
    this.daemon = null;
    const keep = () => this.pastLines.push(...daemon.lines);
    if (signal === 'SIGKILL') {
      // What a crash or the OOM killer does to the service: the helper and its tcpdump go at once.
      const children = await run('pgrep', ['-P', String(daemon.child.pid)]).then(
        (r) => String(r.stdout).split(/\s+/).filter(Boolean),
        () => [],
      );
      await daemon.stop('SIGKILL');
      keep();
      for (const pid of children) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      return;
    }
    await daemon.stop(signal);
    keep();
  }

  /** Every helper line of this run, across restarts. */
  get lines(): readonly string[] {
    return this.daemon === null ? this.pastLines : [...this.pastLines, ...this.daemon.lines];
  }

  signal(signal: NodeJS.Signals): void {
    this.daemon?.child.kill(signal);
  }

  async call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
    const client = await HelperClient.connect(this.adminSocket, { timeoutMs: 10_000 });
    try {
      return await client.call(method, params);
    } finally {
      client.close();
    }
  }

  /** Marks where the current step began: "its log line" means a line after this. */
  beginStep(): void {
    this.stepStart = this.lines.length;
  }

  lastLines(count: number): string[] {
    return this.lines.slice(-count);
  }

  // ---- probes ---------------------------------------------------------------------------

  private scanner(host: number): LabHost {
    return this.lab.hosts[`s${host}`]!;
  }

  /** One probe from `from` (an address of `host`) to a port of the target; its outcome is not awaited beyond the packet. */
  async probe(kind: ProbeKind, host: LabHost, from: string, port: number): Promise<void> {
    const six = from.includes(':');
    const target = six ? this.lab.hosts.target.v6 : this.lab.hosts.target.v4;
    let argv: string[];
    if (kind === 'connect') {
      const address = six ? `TCP6:[${target}]:${port}` : `TCP4:${target}:${port}`;
      argv = ['socat', '-u', 'OPEN:/dev/null', `${address},bind=${six ? `[${from}]` : from},connect-timeout=1`];
    } else if (kind === 'udp') {
      const script =
        'import socket,sys\nf=socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET\ns=socket.socket(f,socket.SOCK_DGRAM)\ns.bind((sys.argv[1],0))\ns.sendto(b"x",(sys.argv[2],int(sys.argv[3])))';
      argv = ['/usr/bin/python3', '-c', script, from, target, String(port)];
    } else if (six) {
      // hping3 speaks IPv4 only: nmap sends the one IPv6 SYN.
      argv = ['nmap', '-6', '-sS', '-Pn', '-n', '--max-retries', '0', '-e', 'eth0', '-S', from, '-p', String(port), target];
    } else {
      argv = ['hping3', '-q', '-S', '-c', '1', '-a', from, '-p', String(port), target];
    }
    await this.lab.exec(host, argv, { allowFailure: true });
  }

  async scannerProbe(kind: ProbeKind, source: { host: number; family: 4 | 6; index: number }, ports: readonly number[]): Promise<void> {
    for (const port of ports) await this.probe(kind, this.scanner(source.host), sourceAddress(source), port);
  }

  /**
   * A barrier: a probe of the same protocol (and family, when it is watched) from an unused
   * sentinel address to a port the helper watches, and its "Ignoring" line. The kernel has
   * handled every packet sent before it by then, and the helper the ones on the same path.
   * Returns false when the model says no such path exists (nothing then to wait for).
   */
  async barrier(model: HelperModel, kind: ProbeKind, family: 4 | 6): Promise<boolean> {
    const protocol = kind === 'udp' ? 'udp' : 'tcp';
    const candidates: Array<[ProbeKind, 4 | 6, number]> = [];
    for (const [k, proto] of [
      [kind, protocol],
      [protocol === 'udp' ? 'syn' : 'udp', protocol === 'udp' ? 'tcp' : 'udp'],
    ] as const) {
      for (const fam of [family, family === 4 ? 6 : 4] as const) {
        const port = this.watchedPort(model, proto, fam);
        if (port !== undefined) candidates.push([k, fam, port]);
      }
    }
    const chosen = candidates[0];
    if (chosen === undefined) return false;
    const [k, fam, port] = chosen;
    const now = Date.now();
    const address = this.sentinelAddresses().find((a) => a.includes(':') === (fam === 6) && now - (this.sentinelUsed.get(a) ?? -Infinity) > SENTINEL_REUSE_MS);
    if (address === undefined) return false;
    this.sentinelUsed.set(address, now);
    const from = this.lines.length;
    await this.probe(k, this.lab.hosts.sentinel, address, port);
    await until(`the sentinel probe from ${address} to ${k} port ${port} is logged`, () => this.lines.slice(from).some((line) => line.includes(`Host: ${address} is`)), SETTLE_MS).catch(() => {
      throw new Error(`barrier: no "Host: ${address} is ... Ignoring" line within ${SETTLE_MS} ms after a ${k} probe to port ${port}: the helper did not handle a lone probe`);
    });
    return true;
  }

  private watchedPort(model: HelperModel, protocol: 'tcp' | 'udp', family: 4 | 6): number | undefined {
    if (family === 6 && !model.ipv6) return undefined;
    const ports = protocol === 'tcp' ? [...model.tcpPorts, 4000] : [...model.udpPorts, 4001];
    return ports.find((port) => {
      if (model.unsettledPorts.has(port) || (protocol === 'tcp' && model.services.has(port))) return false;
      if (protocol === 'tcp') return model.tcpMode === 'atcp' || (model.tcpMode !== null && model.tcpPorts.has(port));
      return model.udpMode === 'audp' || (model.udpMode !== null && model.udpPorts.has(port));
    });
  }

  // ---- services on the target -------------------------------------------------------------

  /** A service binds a tripwire-pool port; resolves whether it got it (the helper may hold it). */
  async bindService(port: number, family: ServiceHold['family']): Promise<boolean> {
    const listen = family === 'dual' ? `TCP6-LISTEN:${port},fork,reuseaddr,ipv6only=0` : `TCP4-LISTEN:${port},fork,reuseaddr`;
    const child = this.lab.spawn(this.lab.hosts.target, ['socat', listen, 'OPEN:/dev/null,rdonly'], { stdio: 'ignore' });
    let exited = false;
    child.once('exit', () => (exited = true));
    await until(
      `socat on port ${port} binds or gives up`,
      async () => exited || (await listeningSockets(this.lab, this.lab.hosts.target)).some((s) => s.port === port && s.protocol === 'tcp' && s.processes.includes('socat')),
    );
    if (exited) return false;
    this.services.set(port, child);
    return true;
  }

  async releaseService(port: number): Promise<void> {
    const child = this.services.get(port);
    if (child === undefined) return;
    this.services.delete(port);
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    await until(`port ${port} is released`, async () => !(await listeningSockets(this.lab, this.lab.hosts.target)).some((s) => s.port === port && s.processes.includes('socat')));
  }

  // ---- observing and judging ------------------------------------------------------------

  async nft(argv: readonly string[]): Promise<void> {
    await this.lab.exec(this.lab.hosts.target, ['nft', ...argv]);
  }

  async observeKernel(): Promise<{ kernel: readonly string[] | null; kernelProblem: string | null }> {
    const read = await readKernelBlocks(this.lab, this.lab.hosts.target, this.table);
    return { kernel: read.elements, kernelProblem: read.problem };
  }

  async observeHelper(model: HelperModel): Promise<Omit<Observed, 'kernel' | 'kernelProblem'>> {
    const status = (await this.call('status', {})) as ResultOf<'status'> & { firewall?: { inSync: boolean; problem: string | null }; protecting?: boolean };
    const listed = (await this.call('blocks.list', {})).blocks.map((b) => b.address).sort();
    const sockets = await listeningSockets(this.lab, this.lab.hosts.target);
    const servicePorts = [SERVICE_PORT, ...model.services.keys()];
    // Only the services (socat) and the helper (its threads show as "MainThread", not "node")
    // bind ports on the target: on a service's port anything but socat is the helper's.
    const stolenPorts = sockets
      .filter((s) => s.protocol === 'tcp' && servicePorts.includes(s.port) && s.processes.some((name) => name !== 'socat'))
      .map((s) => `${s.protocol} ${s.local} (${s.processes.join(',')})`);
    return { listed, blockedCount: status.blockedCount, firewall: status.firewall, protecting: status.protecting, lines: this.lines.slice(this.stepStart), stolenPorts };
  }

  /** Polls kernel and helper until they agree with the model, or SETTLE_MS passes; then judges. */
  async settle(model: HelperModel): Promise<Settled> {
    const started = Date.now();
    let problems: string[];
    for (;;) {
      try {
        const kernel = await this.observeKernel();
        problems = disagreements(model, { ...kernel, ...(await this.observeHelper(model)) });
      } catch (error) {
        problems = [`could not observe: ${(error as Error).message}`];
      }
      if (problems.length === 0 || Date.now() - started > SETTLE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const ms = Date.now() - started;
    if (problems.length === 0) this.settleTimes.push(ms);
    return { ms, problems };
  }

  /** What a failure report needs besides the problems: the helper's last lines and the kernel's table. */
  async evidence(): Promise<string> {
    const table = await this.lab.exec(this.lab.hosts.target, ['nft', 'list', 'table', 'inet', this.table], { allowFailure: true });
    const sockets = await listeningSockets(this.lab, this.lab.hosts.target).catch(() => []);
    return [
      '--- helper, last 40 lines:',
      ...this.lastLines(40),
      `--- nft list table inet ${this.table}:`,
      (table.stdout || table.stderr).trim(),
      '--- listening on the target:',
      ...sockets.map((s) => `${s.protocol} ${s.local} ${s.processes.join(',')}`),
    ].join('\n');
  }

  async destroy(): Promise<void> {
    await this.stopHelper();
    for (const port of [...this.services.keys()]) await this.releaseService(port);
    this.serviceProcess?.kill();
    await this.lab.exec(this.lab.hosts.target, ['nft', 'delete', 'table', 'inet', this.table], { allowFailure: true });
    await this.lab.destroy();
    if (this.dir !== '') await rm(this.dir, { recursive: true, force: true });
  }
}
