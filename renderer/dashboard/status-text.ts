// The header's status details in words: which modes run, whether packet capture is on, how
// long the helper has been up, and how many hosts it holds blocked. Pure, for the tests.

import type { StatusResult } from '../../shared/protocol/schemas.js';
import { formatTime } from '../lib/format.js';

export const MODE_LABELS: Readonly<Record<StatusResult['modes'][number], string>> = {
  tcp: 'TCP',
  udp: 'UDP',
  stcp: 'stealth TCP',
  sudp: 'stealth UDP',
  atcp: 'advanced TCP',
  audp: 'advanced UDP',
};

/** "45 s", "12 min", "3 h 4 min", "2 days 5 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days ${hours % 24} h`;
}

/**
 * `blockedCount`: the length of the helper's block list the page shows (blocks.list), so the
 * header and the list never disagree; status's own count until the list has loaded.
 */
export function statusDetails(status: StatusResult, _now: number, blockedCount: number = status.blockedCount): string {
  const modes = status.modes.length === 0 ? 'no modes' : status.modes.map((m) => MODE_LABELS[m]).join(', ');
  const capture = status.modes.some((m) => m !== 'udp') ? (status.captureActive ? 'capture running' : 'capture not running') : 'no capture needed';
  const blocked = blockedCount === 1 ? '1 host blocked' : `${blockedCount} hosts blocked`;
  return `Modes: ${modes} · ${capture} · up ${formatDuration(status.uptimeSeconds)} · ${blocked} · firewall: ${status.backend}`;
}

/**
 * The banner's sentence and its tone for a connected helper: paused, not protecting (with the
 * helper's reason), degraded (the kernel does not hold what the helper believes, with why), or
 * protected. Only the helper's own status decides; nothing here guesses.
 */
export function protectionBanner(status: Pick<StatusResult, 'paused' | 'protecting' | 'notProtectingReason' | 'firewall'> | null, pausedUntilText: string | null): { text: string; warn: boolean } {
  if (status === null) return { text: 'Connected to the helper.', warn: false };
  if (status.paused) return { text: `Detection is paused${pausedUntilText === null ? ' until you resume it' : ` until ${pausedUntilText}`}: scans are reported, not blocked.`, warn: true };
  if (status.protecting === false) return { text: `Not protecting: ${status.notProtectingReason ?? 'nothing is being blocked'}.`, warn: true };
  if (status.firewall?.inSync === false)
    return { text: `Degraded: ${status.firewall.problem ?? 'the firewall does not hold what the helper believes'}. The helper keeps trying to restore it.`, warn: true };
  return { text: 'Protected: the helper is watching.', warn: false };
}

/** What Ignore / Allow did, in one sentence: trusted for good or until when, and which blocks it lifted. */
export function trustSentence(address: string, until: number | null, lifted: readonly string[]): string {
  const how = until === null ? `${address} is trusted: on the ignore list, never blocked` : `${address} is allowed until ${formatTime(until)}: on the ignore list until then`;
  const blocks = lifted.length === 0 ? '' : ` Its block${lifted.length === 1 ? '' : 's'} (${lifted.join(', ')}) ${lifted.length === 1 ? 'was' : 'were'} lifted.`;
  return `${how}.${blocks}`;
}
