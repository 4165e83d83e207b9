// Reading a process (and its children) from /proc: RSS and CPU time.

import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export async function rssMb(pid: number): Promise<number | null> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const kb = status === null ? null : /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined || kb === null ? null : Math.round((Number(kb) / 1024) * 10) / 10;
}

/** utime+stime of one process, in seconds. */
export async function cpuSeconds(pid: number): Promise<number | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // Fields after the command name (which may contain spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The pid and every descendant (tcpdump, nft, logger children of the daemon). */
export async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = parents.get(ppid) ?? [];
    list.push(Number(entry));
    parents.set(ppid, list);
  }
  const tree: number[] = [];
  const walk = (p: number) => {
    tree.push(p);
    for (const child of parents.get(p) ?? []) walk(child);
  };
  walk(pid);
  return tree;
}

export async function treeRssMb(pid: number): Promise<number> {
  let total = 0;
  for (const p of await processTree(pid)) total += (await rssMb(p)) ?? 0;
  return Math.round(total * 10) / 10;
}

/** A process's program name: the base name of its argv[0] (Node 24 names its main thread "MainThread" in comm). */
export async function programName(pid: number): Promise<string> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const argv0 = cmdline.split('\0')[0] ?? '';
  return argv0.slice(argv0.lastIndexOf('/') + 1) || '?';
}

export interface ProcessUse {
  readonly program: string;
  readonly rssMb: number | null;
  readonly cpuSeconds: number;
}

/** Each process's name, RSS now and CPU seconds over `seconds` of wall time (the figure's idle interval). */
export async function perProcessOver(pids: readonly number[], seconds: number): Promise<ProcessUse[]> {
  const before = await Promise.all(pids.map(async (p) => (await cpuSeconds(p)) ?? 0));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const out: ProcessUse[] = [];
  for (const [i, pid] of pids.entries()) {
    const after = await cpuSeconds(pid);
    out.push({ program: await programName(pid), rssMb: await rssMb(pid), cpuSeconds: after === null ? 0 : Math.round((after - before[i]!) * 100) / 100 });
  }
  return out;
}
