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
