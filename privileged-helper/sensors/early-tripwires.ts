// The classic -tcp/-udp tripwires, bound first thing at start-up, before the firewall, the
// store and packet capture are up (the original binds its sockets at once; so do we). What
// they catch in the meantime is queued, connections held open, and handed over in order once
// the daemon is ready: a probe during start-up is answered late, never lost. This module
// imports only what binding needs, so it loads long before the rest of the helper.

import type { PortSentryConfig } from '../config/config.js';
import type { SourceProblem } from '../capture/source-address.js';
import { protocolOfMode, type Clock, type Mode } from '../../shared/domain/types.js';
import { openTcpTripwires, openUdpTripwires, type TripwireHit, type TripwireSet } from './tripwires.js';

/** What a tripwire reported, for replay once the daemon is ready. */
export type TripwireEvent =
  | { readonly type: 'hit'; readonly mode: Mode; readonly hit: TripwireHit }
  | { readonly type: 'unknown-peer'; readonly mode: Mode; readonly port: number }
  | { readonly type: 'bad-source'; readonly address: string; readonly problem: SourceProblem };

export interface EarlyTripwires {
  /** The ports, families and modes these sockets were bound for (to check against the final config). */
  readonly key: string;
  readonly sets: ReadonlyArray<{ readonly mode: Mode; readonly set: TripwireSet }>;
  /**
   * From now on every event goes to `handle`; the ones queued so far first, in order, with
   * `replayed` set: the handler then calls hit.release() once it has answered.
   */
  attach(handle: (event: TripwireEvent, replayed: boolean) => void): void;
  /** Events dropped because the start-up queue was full. */
  readonly dropped: number;
  close(): Promise<void>;
}

/** A start-up queue bound: a flood during start-up cannot grow memory without limit. */
const MAX_QUEUED = 4096;

export function tripwireKey(config: Pick<PortSentryConfig, 'tcpPorts' | 'udpPorts' | 'ipv6'>, modes: readonly Mode[]): string {
  const classic = modes.filter((mode) => mode === 'tcp' || mode === 'udp');
  return JSON.stringify([classic, classic.includes('tcp') ? config.tcpPorts : [], classic.includes('udp') ? config.udpPorts : [], config.ipv6]);
}

export async function bindTripwiresEarly(config: PortSentryConfig, modes: readonly Mode[], clock: Clock): Promise<EarlyTripwires> {
  const queue: TripwireEvent[] = [];
  let handler: ((event: TripwireEvent, replayed: boolean) => void) | null = null;
  let dropped = 0;
  const deliver = (event: TripwireEvent): 'held' | undefined => {
    if (handler !== null) {
      handler(event, false);
      return undefined;
    }
    if (queue.length >= MAX_QUEUED) {
      dropped += 1;
      if (event.type === 'hit') event.hit.release();
      return undefined;
    }
    queue.push(event);
    return event.type === 'hit' ? 'held' : undefined;
  };
  const classic = modes.filter((mode): mode is 'tcp' | 'udp' => mode === 'tcp' || mode === 'udp');
  const sets = await Promise.all(
    classic.map(async (mode) => {
      const options = {
        ports: protocolOfMode(mode) === 'tcp' ? config.tcpPorts : config.udpPorts,
        ipv6: config.ipv6,
        clock,
        onHit: (hit: TripwireHit) => deliver({ type: 'hit', mode, hit }),
        onUnknownPeer: (port: number) => void deliver({ type: 'unknown-peer', mode, port }),
        onBadSource: (address: string, problem: SourceProblem) => void deliver({ type: 'bad-source', address, problem }),
      };
      return { mode, set: mode === 'tcp' ? await openTcpTripwires(options, mode) : await openUdpTripwires(options, mode) };
    }),
  );
  return {
    key: tripwireKey(config, modes),
    sets,
    get dropped() {
      return dropped;
    },
    attach: (handle) => {
      handler = handle;
      for (const event of queue.splice(0)) handle(event, true);
    },
    close: async () => {
      for (const event of queue.splice(0)) if (event.type === 'hit') event.hit.release();
      await Promise.all(sets.map(({ set }) => set.close()));
    },
  };
}
