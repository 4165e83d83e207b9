// One sentence for the settings window saying whether this host is in a CrowdSec fleet and
// how the exchange goes, from the helper's status. Pure, so it is tested without a browser.

import type { StatusResult } from '../../shared/protocol/schemas.js';

export function describeFleet(status: Pick<StatusResult, 'fleet'>): string {
  const fleet = status.fleet;
  if (fleet === undefined) return 'Not in a fleet: no CrowdSec Local API is configured (root sets FLEET_LAPI_URL).';
  if (!fleet.sharing) return "In a fleet, sharing is off: this host neither sends its blocks nor applies the fleet's.";
  const link = fleet.connected === null ? 'not contacted yet' : fleet.connected ? 'reachable' : 'unreachable, retrying';
  return `In a fleet, sharing is on; the CrowdSec LAPI is ${link}. Sent ${fleet.sent} blocks (${fleet.queued} waiting); ${fleet.fleetBlocks} blocks here came from the fleet.`;
}
