// The settings window's fleet line, from the helper's status.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StatusResult } from '../../shared/protocol/schemas.js';

// A variable path, as in pure-rules.test.ts: the renderer is built for the browser, not by the main build.
const built = (path: string) => new URL(`../../renderer/renderer/${path}`, import.meta.url).href;
const { describeFleet } = (await import(built('settings/fleet-state.js'))) as { describeFleet(status: Pick<StatusResult, 'fleet'>): string };

const fleet = { sharing: true, pushing: true, pulling: true, connected: true, lastContactAt: 1, lastError: null, queued: 2, sent: 5, dropped: 0, fleetBlocks: 3, refused: 0 };

describe('fleet line in the settings window', () => {
  it('says whether the host is in a fleet, sharing, and how the exchange goes', () => {
    assert.match(describeFleet({}), /^Not in a fleet/);
    assert.match(describeFleet({ fleet: { ...fleet, sharing: false } }), /sharing is off/);
    assert.equal(describeFleet({ fleet }), 'In a fleet, sharing is on; the CrowdSec LAPI is reachable. Sent 5 blocks (2 waiting); 3 blocks here came from the fleet.');
    assert.match(describeFleet({ fleet: { ...fleet, connected: false } }), /unreachable, retrying/);
    // Sharing on without root's credentials: said, not "not contacted yet" forever.
    assert.match(describeFleet({ fleet: { ...fleet, pushing: false, pulling: false, connected: null } }), /nothing is exchanged: root has set neither/);
    assert.match(describeFleet({ fleet: { ...fleet, pulling: false } }), /sending only/);
    assert.match(describeFleet({ fleet: { ...fleet, pushing: false } }), /receiving only/);
  });
});
