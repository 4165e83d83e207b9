// What the kernel of a lab host really holds, read back in the helper's own words: the
// elements of the helper's blocked sets as block strings (`198.18.0.5`, `fd00:5f:1::/64`,
// `fd00:5e::b`, `198.18.7.0/27`), and which processes hold which listening ports. The
// invariant checker compares these with what the helper says; nothing here judges.

import type { Lab, LabHost } from './netns-lab.js';

/** blocked6 holds networks of BLOCK_PREFIX6 bits, keyed by their first address. */
export interface KernelBlocks {
  /** Null when the table or one of its sets is missing (the reason in `problem`). */
  readonly elements: readonly string[] | null;
  readonly problem: string | null;
}

const SETS = ['blocked4', 'blocked6', 'blocked6_hosts', 'blocked4_nets', 'blocked6_nets'] as const;

/** One element of `nft -j list set` as a block string; `netBits` for blocked6's bare network keys. */
export function elementText(element: unknown, netBits: number | null): string {
  const value = typeof element === 'object' && element !== null && 'elem' in element ? (element as { elem: { val: unknown } }).elem.val : element;
  if (typeof value === 'string') return netBits === null ? value : `${value}/${netBits}`;
  if (typeof value === 'object' && value !== null) {
    if ('prefix' in value) {
      const prefix = (value as { prefix: { addr: string; len: number } }).prefix;
      return `${prefix.addr}/${prefix.len}`;
    }
    if ('range' in value) {
      const [from, to] = (value as { range: [string, string] }).range;
      return `${from}-${to}`;
    }
  }
  throw new Error(`an nft set element this checker cannot read: ${JSON.stringify(element)}`);
}

/** The elements of every blocked set of `inet <table>`, or why they cannot be read. */
export async function readKernelBlocks(lab: Lab, host: LabHost, table: string, prefix6 = 64): Promise<KernelBlocks> {
  const elements: string[] = [];
  for (const set of SETS) {
    const listed = await lab.exec(host, ['nft', '-j', 'list', 'set', 'inet', table, set], { allowFailure: true });
    if (listed.code !== 0) return { elements: null, problem: `nft list set inet ${table} ${set}: ${listed.stderr.trim().split('\n')[0] ?? 'failed'}` };
    const parsed = JSON.parse(listed.stdout) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
    const found = parsed.nftables.find((entry) => entry.set !== undefined)?.set;
    for (const element of found?.elem ?? []) elements.push(elementText(element, set === 'blocked6' ? prefix6 : null));
  }
  return { elements: elements.sort(), problem: null };
}

export interface ListeningSocket {
  readonly protocol: 'tcp' | 'udp';
  readonly local: string;
  readonly port: number;
  /** Process names holding it ("node", "socat"); empty when ss could not tell. */
  readonly processes: readonly string[];
}

/** Every listening TCP socket and bound UDP socket of the host, with who holds it (ss -Hltunp). */
export async function listeningSockets(lab: Lab, host: LabHost): Promise<ListeningSocket[]> {
  const out = (await lab.exec(host, ['ss', '-Hltunp'])).stdout;
  const sockets: ListeningSocket[] = [];
  for (const line of out.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const protocol = fields[0] === 'tcp' ? 'tcp' : fields[0] === 'udp' ? 'udp' : null;
    const local = fields[4] ?? '';
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    if (protocol === null || !Number.isInteger(port)) continue;
    sockets.push({ protocol, local, port, processes: [...line.matchAll(/\("([^"]+)",pid=/g)].map((m) => m[1]!) });
  }
  return sockets;
}

/**
 * The set elements programs add with nft in a lab host, as `nft monitor` reports them. The
 * kernel's own adds from the packet path (the trap's `add @blocked4 { ip saddr }`) send no
 * such report, so an address seen here was added by someone running nft (the helper). The
 * barrier `settled()` adds an element to a scratch table of its own and waits for its report:
 * every add made before it has been reported by then.
 */
export interface ElementAdds {
  /** The monitor's lines so far. */
  readonly lines: readonly string[];
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function watchElementAdds(lab: Lab, host: LabHost, waitUntil: (what: string, check: () => boolean) => Promise<void>): Promise<ElementAdds> {
  const scratch = `psbarrier${process.pid}`;
  await lab.exec(host, ['nft', 'add', 'table', 'inet', scratch]);
  await lab.exec(host, ['nft', 'add', 'set', 'inet', scratch, 'b', '{ type inet_service; }']);
  const child = lab.spawn(host, ['nft', 'monitor', 'new', 'elements'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
  });
  let barrier = 0;
  const settled = async () => {
    const first = barrier + 1;
    const reported = (line: string) => line.includes(scratch) && Number(/\{ (\d+) \}/.exec(line)?.[1] ?? 0) >= first;
    // A fresh element each poll until one is reported: the monitor may not have subscribed yet.
    await waitUntil(`nft monitor reports a barrier from ${first} on`, () => {
      if (lines.some(reported)) return true;
      barrier += 1;
      void lab.exec(host, ['nft', 'add', 'element', 'inet', scratch, 'b', `{ ${barrier} }`], { allowFailure: true });
      return false;
    });
  };
  await settled();
  return {
    lines,
    settled,
    close: async () => {
      child.kill();
      await lab.exec(host, ['nft', 'delete', 'table', 'inet', scratch], { allowFailure: true });
    },
  };
}
