// Looks up a group id in /etc/group (pure parser + one read), so the control socket can be
// handed to the group the installer created without a native getgrnam.

import { readFile } from 'node:fs/promises';

export function findGroupId(groupText: string, name: string): number | null {
  for (const line of groupText.split('\n')) {
    const [groupName, , gid] = line.split(':');
    if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return null;
}

export async function lookupGroupId(name: string, file = '/etc/group'): Promise<number | null> {
  try {
    return findGroupId(await readFile(file, 'utf8'), name);
  } catch {
    return null;
  }
}
