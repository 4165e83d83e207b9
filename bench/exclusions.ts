// What each figure leaves out or measures unequally, said in results.md by the generator from
// the results themselves, so nothing is left out in silence: settle time after start,
// warm-up samples dropped, loads the peer could not take, and what bounds a count. Pure.

import { WARM_UP_CONNECTS } from './fig-block-cost.js';
import { SETTLE_AFTER_START_MS } from './detectors.js';
import { SCALE_POLL_MS } from './fig-scale.js';
import { CONFIG_KEYS } from '../shared/domain/config-keys.js';
import type { BenchResults } from './results.js';

/** BLOCK_RATE_PER_PREFIX's default, from the config key table: new blocks a minute per /24. */
export const DEFAULT_BLOCKS_PER_PREFIX_MINUTE = Number(CONFIG_KEYS.BLOCK_RATE_PER_PREFIX.defaultText);

/** How many of `sources` consecutive IPv4 addresses from a /24 boundary the per-/24 limit lets through in one minute. Pure. */
export function prefixLimitBound(sources: number, perPrefix = DEFAULT_BLOCKS_PER_PREFIX_MINUTE): number {
  const prefixes = Math.ceil(sources / 256);
  const full = Math.floor(sources / 256);
  const rest = sources - full * 256;
  return full * Math.min(256, perPrefix) + (prefixes > full ? Math.min(rest, perPrefix) : 0);
}

export function statedExclusions(results: BenchResults): string[] {
  const { figures } = results;
  const out: string[] = [];
  const trigger = figures.triggerToBlackhole;
  if (trigger.length > 0) {
    const firstNever = trigger.filter((r) => (r.firstNeverBlocked ?? 0) > 0).map((r) => `${r.detector} -${r.mode} ${r.firstNeverBlocked} of ${r.starts ?? 1}`);
    out.push(
      `- Figure 1: after each start the detector's readiness (ours: its "active and listening" line; the peer: every socket in ss) is followed by ${SETTLE_AFTER_START_MS} ms of settle time before the first trigger. That first trigger is kept out of the blackhole column and shown on its own ("first after start"); a first trigger that was never blocked is counted as never blocked (${firstNever.length > 0 ? firstNever.join(', ') : 'none in this run'}), not dropped.`,
    );
  }
  if (figures.scale.length > 0 || (figures.flood !== null && figures.flood !== undefined)) {
    out.push(`- Figures 4 and 8: the same ${SETTLE_AFTER_START_MS} ms of settle time after start before the first packet.`);
  }
  const scale = figures.scale;
  const peerScale = scale.find((r) => r.detector === 'peer');
  const oursBeyond = scale.filter((r) => r.detector === 'ours' && peerScale !== undefined && (r.sources !== peerScale.sources || r.offeredPerSecond !== peerScale.offeredPerSecond));
  if (peerScale !== undefined && oursBeyond.length > 0) {
    out.push(
      `- Figure 4: both detectors get the same load (${peerScale.sources} sources at ${peerScale.offeredPerSecond}/s) and the same clock (the firewall polled every ${SCALE_POLL_MS} ms). Ours also runs at ${oursBeyond.map((r) => `${r.sources} sources at ${r.offeredPerSecond}/s`).join(', ')}, which the peer is not given: it adds one iptables rule per host with one process each (figure 5: tens of ms per rule, growing with the chain), so 10,000 sources would take it minutes and measure its fork rate, not its detection.`,
    );
  }
  if (figures.blockCost.length > 0) {
    out.push(
      `- Figure 5: the first ${WARM_UP_CONNECTS} connect samples of each series (a fifth of a series shorter than ${WARM_UP_CONNECTS * 5}) are dropped as warm-up (the client's first connects pay for ARP and cold caches).`,
    );
  }
  const fl = figures.flood;
  if (fl !== null && fl !== undefined && fl.reportedBlocked < fl.sources) {
    const bound = prefixLimitBound(fl.sources);
    out.push(
      `- Figure 8: ours keeps its default BLOCK_RATE_PER_PREFIX (${DEFAULT_BLOCKS_PER_PREFIX_MINUTE} new blocks a minute per /24) here: ${fl.sources} spoofed sources come from ${Math.ceil(fl.sources / 256)} /24s, so at most ${bound} can be blocked within the first minute; ${fl.reportedBlocked} were. The rest are refused by design (a spoofed flood must not fill the set), which is why a count below ${fl.sources} can still meet the target.`,
    );
  }
  const cap = figures.capacity;
  if (cap !== null && cap !== undefined && cap.heldAfterLoad !== undefined) {
    out.push(
      `- Figure 9: "blocks held" is read back from the kernel (\`nft -j list set\`, ${cap.readBackSeconds ?? 'n/a'} s for one read), after the load (${cap.heldAfterLoad} of the ${cap.plannedLoad ?? 'n/a'} loaded) and after the newest scanner's block (${cap.held}); nothing in it is taken from the plan.`,
    );
  }
  const restarts = figures.restart ?? [];
  if (restarts.length > 0) {
    const sizes = [...new Set(restarts.map((r) => r.blocks))];
    const warm = restarts.filter((r) => r.kind === 'helper restart (kernel sets kept)').map((r) => r.runs);
    out.push(
      `- Figure 12: ${sizes.join(' and ')} blocks; per size one start after a reboot and ${warm.length > 0 ? Math.max(...warm) : 0} restarts (each a full re-read of the sets, so a few runs fit the bench's time); the medians are over those few. The addresses are IPv6 hosts in one set (fd00:ff::/32); the IPv4 test range (198.18.0.0/15) holds only 131,072 addresses. The peer has no restart to compare: it keeps no blocks across a restart (its iptables rules stay, and it re-reads nothing).`,
    );
  }
  return out;
}
