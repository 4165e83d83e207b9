// Fleet figures: how long a block made on host A takes to reach host B through a CrowdSec
// LAPI (Debian's crowdsec, our own instance in the lab), and what a Prometheus scrape of the
// metrics endpoint costs the helper, with few and with many blocks held.
//   node dist/bench/fig-fleet.js [--quick]   (standalone; npm run bench runs it too)

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HelperClient } from '../shared/rpc/helper-client.js';
import { CrowdsecLapi } from '../test/support/crowdsec-lapi.js';
import { startDaemon, type DaemonProcess } from '../test/support/daemon-process.js';
import { helperConfigText } from '../test/support/helper-config.js';
import { createLab, type Lab, type LabHost } from '../test/support/netns-lab.js';
import { cpuSeconds } from './proc-stats.js';
import { MIN_RENDER_INTERVAL_MS } from '../privileged-helper/metrics/helper-metrics.js';
import { round, summarize, type Summary } from './stats.js';

export interface FleetScrapeRow {
  readonly blocksHeld: number;
  readonly scrapes: number;
  readonly latencyMs: Summary | null;
  readonly bytes: number;
  /** The helper's CPU time per scrape (utime+stime over all scrapes / scrapes). */
  readonly cpuMsPerScrape: number | null;
}

export interface FleetFigure {
  /** Block line on A to block line on B, ms. */
  readonly propagationMs: Summary | null;
  readonly samples: number[];
  readonly missed: number;
  readonly scrape: FleetScrapeRow[];
}

export const FLEET_PLANS = {
  full: { repetitions: 20, scrapes: 40, heldSizes: [0, 10_000, 50_000] },
  quick: { repetitions: 2, scrapes: 4, heldSizes: [0, 200] },
} as const;

const TABLE = 'psbenchfleet';
const METRICS_PORT = 9469;
const PROPAGATION_TIMEOUT_MS = 30_000;

export async function fleetFigure(quick: boolean): Promise<FleetFigure> {
  const plan = quick ? FLEET_PLANS.quick : FLEET_PLANS.full;
  const scannerNames = Array.from({ length: plan.repetitions }, (_, i) => `scanner${i}`);
  const lab = (await createLab(['lapi', 'hostA', 'hostB', ...scannerNames])) as Lab;
  const dir = await mkdtemp(join(tmpdir(), 'portsentry-bench-fleet-'));
  const host = (name: string): LabHost => lab.hosts[name]!;
  let lapi: CrowdsecLapi | null = null;
  const daemons: DaemonProcess[] = [];
  try {
    lapi = await CrowdsecLapi.create(lab, host('lapi'), join(dir, 'lapi'));
    await lapi.addMachine('hostA', 'bench-password-A-0123');
    await lapi.addBouncer('bouncerB', 'bench-bouncer-key-B-0123');
    await lapi.start();
    const conf = async (name: string, keys: Record<string, string>) => {
      const hostDir = join(dir, name);
      await mkdir(hostDir, { recursive: true });
      await writeFile(join(hostDir, 'ignore'), '');
      await writeFile(join(hostDir, 'portsentry.conf'), helperConfigText(hostDir, { TCP_PORTS: '31337', NFT_TABLE: TABLE, FLEET_SHARING: '1', FLEET_LAPI_URL: lapi!.url, ...keys }));
      return join(hostDir, 'portsentry.conf');
    };
    const a = startDaemon(lab, host('hostA'), [
      '-stcp',
      '-c',
      await conf('a', { FLEET_MACHINE_ID: 'hostA', FLEET_MACHINE_PASSWORD: 'bench-password-A-0123', METRICS_ADDRESS: host('hostA').v4, METRICS_PORT: String(METRICS_PORT) }),
    ]);
    const b = startDaemon(lab, host('hostB'), ['-stcp', '-c', await conf('b', { FLEET_BOUNCER_KEY: 'bench-bouncer-key-B-0123' })]);
    daemons.push(a, b);
    await a.waitFor('Control socket listening', 30_000);
    await b.waitFor('Control socket listening', 30_000);

    // Propagation: one SYN scan from a fresh source per repetition.
    const samples: number[] = [];
    let missed = 0;
    for (const name of scannerNames) {
      const source = host(name).v4;
      const onA = a.waitFor(`Host ${source} has been blocked`, PROPAGATION_TIMEOUT_MS).then(() => performance.now());
      const onB = b.waitFor(`Host ${source} has been blocked`, PROPAGATION_TIMEOUT_MS).then(() => performance.now());
      await lab.exec(host(name), ['nmap', '-n', '-Pn', '-sS', '-p', '31337', '--max-retries', '0', host('hostA').v4], { allowFailure: true });
      try {
        const [atA, atB] = await Promise.all([onA, onB]);
        samples.push(round(atB - atA, 1));
      } catch {
        missed += 1;
      }
    }

    // Scrape cost, with more and more blocks held on A (added by hand through the control socket).
    const scrape: FleetScrapeRow[] = [];
    let held = 0;
    for (const size of plan.heldSizes) {
      // Root's socket: the operator socket's shared budget (200 requests a second) would make this the slow part.
      await blockMany(join(dir, 'a', 'run', 'admin', 'helper.sock'), held, size);
      held = Math.max(held, size);
      // The helper renders the page at most once per MIN_RENDER_INTERVAL_MS (later scrapes get
      // that page): scrapes are spaced beyond it so each one renders, and the helper's CPU
      // over an equally long idle stretch is subtracted.
      const gapMs = MIN_RENDER_INTERVAL_MS + 100;
      const idleFrom = await cpuSeconds(a.child.pid!);
      await new Promise((resolve) => setTimeout(resolve, gapMs * plan.scrapes));
      const idleTo = await cpuSeconds(a.child.pid!);
      const before = await cpuSeconds(a.child.pid!);
      const script = `(async () => { const t = []; let bytes = 0; for (let i = 0; i < ${plan.scrapes}; i++) { await new Promise((r) => setTimeout(r, ${gapMs})); const s = performance.now(); const r = await fetch('http://${host('hostA').v4}:${METRICS_PORT}/metrics'); bytes = (await r.text()).length; t.push(performance.now() - s); } process.stdout.write(JSON.stringify({ t, bytes })); })()`;
      const { stdout } = await lab.exec(host('lapi'), [process.execPath, '-e', script], { timeoutMs: 600_000 });
      const after = await cpuSeconds(a.child.pid!);
      const idle = idleFrom === null || idleTo === null ? 0 : idleTo - idleFrom;
      const measured = JSON.parse(stdout) as { t: number[]; bytes: number };
      const latency = summarize(measured.t);
      scrape.push({
        blocksHeld: size,
        scrapes: plan.scrapes,
        latencyMs: latency === null ? null : { ...latency, median: round(latency.median, 3), p95: round(latency.p95, 3) },
        bytes: measured.bytes,
        cpuMsPerScrape: before === null || after === null ? null : round((Math.max(0, after - before - idle) * 1000) / plan.scrapes, 2),
      });
    }
    return { propagationMs: summarize(samples), samples, missed, scrape };
  } finally {
    for (const daemon of daemons) await daemon.stop();
    await lapi?.stop();
    await lab.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Blocks the from..to-1th addresses after 198.18.1.0 (test range, never on the wire) by hand, over several connections (each is rate-limited). */
async function blockMany(socketPath: string, from: number, to: number): Promise<void> {
  if (to <= from) return;
  if (to > 130_816) throw new Error('the test range holds 130,816 addresses after 198.18.1.0');
  const connections = 16;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const client = await HelperClient.connect(socketPath);
      try {
        for (let i = from + c; i < to; i += connections) {
          // 198.18.1.0 onwards: clear of the lab hosts' 198.18.0.0/24, inside 198.18.0.0/15 up to 130,816 addresses.
          const n = 0x0100 + i;
          const address = `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
          for (;;) {
            try {
              await client.call('block', { address, reason: 'bench' });
              break;
            } catch (error) {
              // Over the per-connection rate limit: wait and retry.
              if (!/rate|too many/i.test((error as Error).message)) throw error;
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        }
      } finally {
        client.close();
      }
    }),
  );
}

const fmt = (value: number | null | undefined, digits = 2): string => (value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));

/** The report section (bench/report.ts). */
export function renderFleet(figure: FleetFigure | undefined): string[] {
  if (figure === undefined) return [];
  const p = figure.propagationMs;
  return [
    '### Fleet: propagation through CrowdSec, and the cost of a Prometheus scrape',
    '',
    `Two portsentryd hosts (-stcp) and Debian's crowdsec LAPI (our own instance, \`crowdsec -no-cs\`) in the lab; A sends its blocks as a CrowdSec machine, B polls the decision stream as a bouncer every second. Propagation: arrival of A's "has been blocked" line to arrival of B's (fresh scanner per repetition, \`nmap -sS\` against A).`,
    '',
    `| samples | propagation ms (median / p95) | min / max ms | missed |`,
    `| --- | --- | --- | --- |`,
    `| ${figure.samples.length} | ${p === null ? 'n/a' : `${fmt(p.median, 1)} / ${fmt(p.p95, 1)}`} | ${p === null ? 'n/a' : `${fmt(p.min, 1)} / ${fmt(p.max, 1)}`} | ${figure.missed} |`,
    '',
    "Scrape: GETs of /metrics from another namespace, spaced beyond the helper's render interval (1 s) so each one renders the page; CPU is the helper's utime+stime over the scrapes less that of an idle stretch as long.",
    '',
    '| blocks held | scrapes | latency ms (median / p95) | body bytes | helper CPU ms per scrape |',
    '| --- | --- | --- | --- | --- |',
    ...figure.scrape.map(
      (r) => `| ${r.blocksHeld} | ${r.scrapes} | ${r.latencyMs === null ? 'n/a' : `${fmt(r.latencyMs.median, 3)} / ${fmt(r.latencyMs.p95, 3)}`} | ${r.bytes} | ${fmt(r.cpuMsPerScrape)} |`,
    ),
    '',
  ];
}

// Standalone: node dist/bench/fig-fleet.js [--quick]. SIGINT/SIGTERM still clean the lab up.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  fleetFigure(process.argv.includes('--quick')).then(
    (figure) => {
      process.stdout.write(`${JSON.stringify(figure, null, 2)}\n${renderFleet(figure).join('\n')}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(`fig-fleet: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
