// One sentence for the settings window saying whether this host is in a CrowdSec fleet and
// how the exchange goes, from the helper's status. Pure, so it is tested without a browser.

import type { StatusResult } from '../../shared/protocol/schemas.js';

export function describeFleet(status: Pick<StatusResult, 'fleet'>): string {
  const fleet = status.fleet;
  if (fleet === undefined) return 'Not in a fleet: no CrowdSec Local API is configured (root sets FLEET_LAPI_URL).';
  if (!fleet.sharing) return "In a fleet, sharing is off: this host neither sends its blocks nor applies the fleet's.";
  if (!fleet.pushing && !fleet.pulling) return 'In a fleet, sharing is on, but nothing is exchanged: root has set neither the machine login nor the bouncer key.';
  const directions =
    fleet.pushing && fleet.pulling ? '' : fleet.pushing ? " (sending only: no bouncer key, the fleet's bans are not applied)" : ' (receiving only: no machine login, blocks are not sent)';
  const link = fleet.connected === null ? 'not contacted yet' : fleet.connected ? 'reachable' : 'unreachable, retrying';
  return `In a fleet, sharing is on${directions}; the CrowdSec LAPI is ${link}. Sent ${fleet.sent} blocks (${fleet.queued} waiting); ${fleet.fleetBlocks} blocks here came from the fleet.`;
}
