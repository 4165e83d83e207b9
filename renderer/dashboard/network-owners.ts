// Who owns each listed scanner's network: asked of main (window.portsentry.lookupNetworks,
// its offline databases) in batches of at most MAX_NETWORK_LOOKUPS, kept for the page's life;
// the list redraws once answers arrive. A failed lookup leaves the dash.

import type { PortSentryApi } from '../../shared/desktop-api.js';
import { ownerText } from './scanner-model.js';

/** shared/ipc-schema.ts MAX_NETWORK_LOOKUPS (the page loads nothing of zod). */
const BATCH = 64;

export class NetworkOwnerCache {
  private readonly known = new Map<string, string>();
  private readonly asked = new Set<string>();

  constructor(
    private readonly api: PortSentryApi,
    private readonly changed: () => void,
  ) {}

  text(address: string): string | null {
    return this.known.get(address) ?? null;
  }

  /** Looks up the addresses not asked about yet; calls changed() when some became known. */
  async want(addresses: readonly string[]): Promise<void> {
    const missing = addresses.filter((a) => !this.asked.has(a) && !a.includes('/'));
    if (missing.length === 0) return;
    for (const a of missing) this.asked.add(a);
    for (let i = 0; i < missing.length; i += BATCH) {
      try {
        for (const owner of await this.api.lookupNetworks(missing.slice(i, i + BATCH))) this.known.set(owner.address, ownerText(owner));
      } catch {
        for (const a of missing.slice(i, i + BATCH)) this.asked.delete(a); // asked again on the next redraw
        return;
      }
    }
    this.changed();
  }
}
