// The host's own addresses, which are never blocked whatever arrives (a spoofed scan from
// our own address must not cut us off), read from the interfaces, plus the gateways and
// resolvers of protected-addresses.ts. Refreshed by the daemon.

import { networkInterfaces } from 'node:os';
import type { HostAddresses } from '../config/ignore-list.js';
import { parseAddress } from '../../shared/domain/address.js';
import { readProtectedAddresses, SYSTEM_PROTECTED_ADDRESS_FILES, type ProtectedAddressFiles } from './protected-addresses.js';

export function localAddresses(): string[] {
  const found = new Set<string>();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      const parsed = parseAddress(entry.address);
      if (parsed !== null) found.add(parsed.address);
    }
  }
  return [...found].sort();
}

/** Everything the never-block policy protects by nature: own addresses, gateways, resolvers. */
export async function hostAddresses(files: ProtectedAddressFiles = SYSTEM_PROTECTED_ADDRESS_FILES): Promise<HostAddresses> {
  const { gateways, resolvers } = await readProtectedAddresses(files);
  return { own: localAddresses(), gateways, resolvers };
}
