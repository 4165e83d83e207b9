#!/usr/bin/env node
// Start-up time of portsentryd -tcp -udp, measured the way the benchmark's figure 7 does:
// from spawn to the moment every tripwire port (PortSentry 1.2's lists, IPv4 and IPv6) shows
// as bound in `ss`, and to the "active and listening" line. Runs in a network namespace of
// its own (deleted at the end). Usage (root, after npm run build):
//   node scripts/measure-startup.mjs [RUNS]   (PORTSENTRYD=path/to/portsentryd.js to time another build)
// Prints each run and the medians. Not a test: a figure, on this machine, now.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TCP = [1, 11, 15, 79, 111, 119, 143, 540, 635, 1080, 1524, 2000, 5742, 6667, 12345, 12346, 20034, 27665, 31337, 32771, 32772, 32773, 32774, 40421, 49724, 54320];
const UDP = [1, 7, 9, 69, 161, 162, 513, 635, 640, 641, 700, 37444, 34555, 31335, 32770, 32771, 32772, 32773, 32774, 31337, 54321];
const DAEMON = process.env.PORTSENTRYD ?? fileURLToPath(new URL('../dist/privileged-helper/bin/portsentryd.js', import.meta.url));
const runs = Number(process.argv[2] ?? 15);
const netns = `psstart${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'portsentry-startup-'));

function bound() {
  const out = execFileSync('ip', ['netns', 'exec', netns, 'ss', '-Hlntu'], { encoding: 'utf8' });
  const seen = new Set();
  for (const line of out.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const local = fields[4];
    if (local === undefined) continue;
    const port = local.slice(local.lastIndexOf(':') + 1);
    seen.add(`${fields[0]}|${local.startsWith('[') ? 6 : 4}|${port}`);
  }
  for (const [proto, ports] of [
    ['tcp', TCP],
    ['udp', UDP],
  ])
    for (const port of ports) for (const family of [4, 6]) if (!seen.has(`${proto}|${family}|${port}`)) return false;
  return true;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function once(index) {
  const conf = join(dir, 'portsentry.conf');
  writeFileSync(join(dir, 'ignore'), '');
  writeFileSync(
    conf,
    [
      `TCP_PORTS="${TCP.join(',')}"`,
      `UDP_PORTS="${UDP.join(',')}"`,
      `IGNORE_FILE="${join(dir, 'ignore')}"`,
      `HISTORY_FILE="${join(dir, 'history')}"`,
      `BLOCKED_FILE="${join(dir, 'blocked')}"`,
      'BLOCK_TCP="1"',
      'BLOCK_UDP="1"',
      `SYSLOG_SOCKET="${join(dir, 'no-syslog')}"`,
      `RPC_SOCKET="${join(dir, 'helper.sock')}"`,
      `STORE_FILE="${join(dir, `events${index}.db`)}"`,
      'NFT_TABLE="psstartup"',
      '',
    ].join('\n'),
  );
  const start = performance.now();
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--max-semi-space-size=2', DAEMON, '-c', conf, '-tcp', '-udp', ...process.argv.slice(4)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let active = null;
  child.stderr.on('data', (chunk) => {
    if (active === null && String(chunk).includes('now active and listening')) active = performance.now() - start;
  });
  let allBound = null;
  while (allBound === null) {
    if (bound()) allBound = performance.now() - start;
    else await new Promise((r) => setTimeout(r, 2));
    if (performance.now() - start > 20_000) throw new Error('not all ports bound within 20 s');
  }
  while (active === null && performance.now() - start < 20_000) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  execFileSync('ip', ['netns', 'exec', netns, 'nft', 'delete', 'table', 'inet', 'psstartup'], { stdio: 'ignore' });
  return { allBound, active };
}

execFileSync('ip', ['netns', 'add', netns]);
try {
  execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  const results = [];
  for (let i = 0; i < runs; i += 1) {
    const result = await once(i);
    results.push(result);
    console.log(`run ${i + 1}: all ports bound ${result.allBound.toFixed(1)} ms, "active and listening" ${result.active?.toFixed(1)} ms`);
  }
  console.log(`median of ${runs}: all ports bound ${median(results.map((r) => r.allBound)).toFixed(1)} ms; "active and listening" ${median(results.map((r) => r.active)).toFixed(1)} ms`);
} finally {
  execFileSync('ip', ['netns', 'delete', netns]);
  rmSync(dir, { recursive: true, force: true });
}
