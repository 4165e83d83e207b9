// Hears, as they happen, the changes other programs make to our nftables table: `nft monitor`
// prints every ruleset change of this network namespace, one transaction at a time, each
// closed by a line naming the process that made it ("# new generation 7 by process 812
// (nft)"). A transaction by one of our own nft processes is ours and is skipped; in anyone
// else's, a removal from our table is drift: a structural one (`nft flush ruleset`, `systemctl
// restart nftables`, a firewalld or Docker reload deletes the table, a set, a chain or a rule)
// or blocks taken out of a blocked set one by one (`nft delete element`, `nft flush set`).
// Idle, this costs nothing: the kernel pushes each change, nothing is polled.
// The parser is pure; the thin part below runs the child and restarts it when it dies.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What another program removed from our table in one transaction. */
export interface ForeignRemoval {
  /** The table, a set, a chain or a rule went (or trap sets lost elements): the structure must be checked. */
  readonly structure: boolean;
  /** Elements taken out of each set, as nft printed them (the text between the braces). */
  readonly elements: ReadonlyArray<{ readonly set: string; readonly text: string }>;
  /** The process that did it, as nft names it ("812 (nft)"). */
  readonly by: string;
}

const GENERATION = /^# new generation \d+ by process (\d+) \((.*)\)\s*$/;

/**
 * Folds `nft monitor` lines into transactions and reports the foreign ones that removed
 * something from `inet <table>`. `isOwnProcess` tells our own nft processes' ids.
 */
export class MonitorParser {
  private pending: string[] = [];

  constructor(
    private readonly table: string,
    private readonly isOwnProcess: (pid: number) => boolean,
    private readonly onRemoval: (removal: ForeignRemoval) => void,
  ) {}

  push(line: string): void {
    const generation = GENERATION.exec(line);
    if (generation === null) {
      // Only removals matter; additions (our blocks, other tables) are not kept.
      if (line.startsWith('delete ')) this.pending.push(line);
      return;
    }
    const lines = this.pending;
    this.pending = [];
    const pid = Number(generation[1]);
    if (lines.length === 0 || this.isOwnProcess(pid)) return;
    const removal = parseRemovals(lines, this.table);
    if (removal.structure || removal.elements.length > 0) this.onRemoval({ ...removal, by: `${pid} (${generation[2]})` });
  }
}

/** The removals from `inet <table>` among one transaction's `delete ...` lines. */
export function parseRemovals(lines: readonly string[], table: string): Omit<ForeignRemoval, 'by'> {
  const ours = ` inet ${table} `;
  let structure = false;
  const elements: Array<{ set: string; text: string }> = [];
  for (const line of lines) {
    const match = /^delete (table|chain|set|rule|element|map|flowtable|counter|quota|limit|ct \w+) inet (\S+)(?: (\S+))?/.exec(line);
    if (match === null || match[2] !== table || !`${line} `.includes(ours)) continue;
    if (match[1] !== 'element') {
      structure = true;
      continue;
    }
    const set = match[3] ?? '';
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    if (open < 0 || close < open) continue;
    elements.push({ set, text: line.slice(open + 1, close) });
  }
  return { structure, elements };
}

export interface NftMonitorHandle {
  stop(): void;
}

const RESTART_DELAY_MS = 1_000;

/**
 * Runs `nft monitor` until stopped. `onGap` is called when the child (re)starts after dying:
 * changes made meanwhile were not heard, so the owner checks the whole structure then.
 */
export function watchNftables(options: { readonly nft: readonly [string, ...string[]]; readonly parser: MonitorParser; readonly onGap: (why: string) => void }): NftMonitorHandle {
  let child: ChildProcess | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const start = () => {
    if (stopped) return;
    const [program, ...prefix] = options.nft;
    // Own process group: a terminal's Ctrl-C goes to the daemon, which stops the monitor itself.
    const current = spawn(program, [...prefix, 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = current;
    createInterface({ input: current.stdout }).on('line', (line) => options.parser.push(line));
    current.stderr.resume();
    const gone = (why: string) => {
      if (child !== current) return;
      child = null;
      if (stopped) return;
      options.onGap(why);
      timer = setTimeout(start, RESTART_DELAY_MS);
      timer.unref();
    };
    current.on('error', (error) => gone(`nft monitor could not run: ${error.message}`));
    current.on('close', (code, signal) => gone(`nft monitor exited (${signal ?? `status ${String(code)}`})`));
  };
  start();
  return {
    stop: () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      const current = child;
      child = null;
      current?.kill('SIGTERM');
    },
  };
}
