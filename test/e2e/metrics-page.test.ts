// A real helper's metrics page, as Prometheus' own linter sees it: `promtool check metrics`
// (Debian's prometheus package) finds nothing to say, every counter is named _total and no
// gauge is, and the series a dashboard needs before the first event are there at 0.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';

const METRICS_PORT = 9469;

/** `promtool check metrics` on a page (it reads stdin): its exit code and what it said. */
function promtoolCheck(page: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ code: error === null ? 0 : Number(error.code), output: stdout + stderr });
    });
    child.stdin?.end(page);
  });
}

describe("a real helper's metrics page", { timeout: 300_000 }, () => {
  let lab: Lab<'host'>;
  let dir: string;
  let helper: DaemonProcess;

  before(async () => {
    lab = await createLab(['host']);
    dir = await mkdtemp(join(tmpdir(), 'portsentry-metrics-'));
    await mkdir(join(dir, 'run'), { recursive: true });
    await writeFile(join(dir, 'ignore'), '');
    await writeFile(join(dir, 'portsentry.conf'), helperConfigText(dir, { NFT_TABLE: 'psmetricspage', TCP_PORTS: '1,31337', METRICS_ADDRESS: lab.hosts.host.v4, METRICS_PORT: String(METRICS_PORT) }));
    helper = startDaemon(lab, lab.hosts.host, ['-stcp', '-c', join(dir, 'portsentry.conf')]);
    await helper.waitFor('Prometheus metrics on');
  });

  after(async () => {
    await helper?.stop();
    await lab?.destroy();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('passes promtool check metrics, names counters _total and no gauge so, and has its series at 0 from the start', async () => {
    const url = `http://${lab.hosts.host.v4}:${METRICS_PORT}/metrics`;
    const { stdout: page } = await lab.exec(lab.hosts.host, [process.execPath, '-e', `fetch(${JSON.stringify(url)}).then(r => r.text()).then(t => process.stdout.write(t))`]);
    const lint = await promtoolCheck(page);
    assert.deepEqual(lint, { code: 0, output: '' }, 'promtool has nothing to say');
    const types = [...page.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
    assert.ok(types.some((t) => t.name.startsWith('process_')) && types.some((t) => t.name.startsWith('nodejs_')), 'process and Node.js metrics');
    for (const { name, type } of types) {
      if (type === 'counter') assert.match(name, /_total$/, `${name} is a counter`);
      else assert.doesNotMatch(name, /_total$/, `${name} is a ${type}`);
    }
    const lines = page.split('\n');
    assert.ok(
      lines.some((line) => /^portsentry_build_info\{version="[^"]+",classic="1\.2",node="v\d+[^"]*"\} 1$/.test(line)),
      'build info',
    );
    for (const series of [
      'portsentry_probes_total{kind="syn",mode="stcp"} 0',
      'portsentry_blocks_added_total{origin="detection"} 0',
      'portsentry_fleet_decisions_refused_total{reason="protected-address"} 0',
    ]) {
      assert.ok(lines.includes(series), series);
    }
  });
});
