// A Prometheus server of the test's own (Debian's prometheus binary): its config and TSDB in
// a temp directory, run inside a lab namespace, scraping the targets given every second.
// Queries go through its HTTP API from inside the same namespace.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DaemonProcess } from './daemon-process.js';
import type { Lab, LabHost } from './netns-lab.js';

export const PROMETHEUS_PORT = 9090;

export class PrometheusServer {
  private constructor(
    private readonly lab: Lab,
    readonly host: LabHost,
    private readonly process: DaemonProcess,
  ) {}

  /** targets: "address:port" of /metrics endpoints. */
  static async start(lab: Lab, host: LabHost, dir: string, targets: readonly string[]): Promise<PrometheusServer> {
    await mkdir(join(dir, 'tsdb'), { recursive: true });
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        'scrape_configs:',
        '  - job_name: portsentry',
        '    static_configs:',
        `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
        '',
      ].join('\n'),
    );
    const child = lab.spawn(host, ['prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=${host.v4}:${PROMETHEUS_PORT}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const process = new DaemonProcess(child);
    await process.waitFor('Server is ready to receive web requests', 60_000);
    return new PrometheusServer(lab, host, process);
  }

  /** An instant query; resolves with the numeric values of the result vector. */
  async query(expression: string): Promise<number[]> {
    const url = `http://${this.host.v4}:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(expression)}`;
    const script = `fetch(${JSON.stringify(url)}).then(r => r.text()).then(t => process.stdout.write(t), e => { console.error(e); process.exit(1); })`;
    const { stdout } = await this.lab.exec(this.host, [process.execPath, '-e', script]);
    const answer = JSON.parse(stdout) as { status: string; data?: { result?: Array<{ value: [number, string] }> } };
    if (answer.status !== 'success') throw new Error(`prometheus query ${expression} failed: ${stdout.slice(0, 300)}`);
    return (answer.data?.result ?? []).map((r) => Number(r.value[1]));
  }

  /** Scrape targets' health as Prometheus sees it. */
  async targetsUp(): Promise<number[]> {
    return this.query('up');
  }

  async stop(): Promise<void> {
    await this.process.stop();
  }
}
