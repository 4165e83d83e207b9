// A portsentry.conf for a test helper: every file and socket inside the test's own temp
// directory (so parallel runs never share a socket, store or history), blocking on, plus
// whatever keys the test sets. Also the one-line "real service" the tests attack around.

import { join } from 'node:path';
import type { Lab, LabHost } from './netns-lab.js';
import { until } from './wait.js';

export function helperConfigText(dir: string, keys: Readonly<Record<string, string>>, comment = '# test helper config'): string {
  const settings: Record<string, string> = {
    IGNORE_FILE: join(dir, 'ignore'),
    HISTORY_FILE: join(dir, 'history'),
    BLOCKED_FILE: join(dir, 'blocked'),
    BLOCK_TCP: '1',
    BLOCK_UDP: '1',
    SYSLOG_SOCKET: join(dir, 'no-syslog.sock'),
    RPC_SOCKET: join(dir, 'run', 'helper.sock'),
    RPC_ADMIN_SOCKET: join(dir, 'run', 'admin', 'helper.sock'),
    STORE_FILE: join(dir, 'events.db'),
    OPERATOR_SETTINGS_FILE: join(dir, 'operator-settings.conf'),
    // As the config our packages install: one "already blocked" line a minute per host.
    REPEAT_LOG: 'minute',
    ...keys,
  };
  return [comment, ...Object.entries(settings).map(([key, value]) => `${key}="${value}"`), ''].join('\n');
}

/**
 * A TCP service (IPv4 and IPv6) on a port that is not a tripwire; kill() it when done.
 * Resolves once the kernel lists it as listening: on a loaded machine socat may take a while
 * to bind, and a check that it is reachable must not run first.
 */
export async function startTcpService(lab: Lab, host: LabHost, port: number): Promise<ReturnType<Lab['spawn']>> {
  const service = lab.spawn(host, ['socat', `TCP6-LISTEN:${port},fork,reuseaddr,ipv6only=0`, 'OPEN:/dev/null,rdonly'], { stdio: 'ignore' });
  await until(`a service listens on port ${port}`, async () => (await lab.exec(host, ['ss', '-Hltn', `sport = :${port}`])).stdout.trim() !== '');
  return service;
}

/** The text of the helper's blocked sets (not the whole table: the trap's sets hold other addresses). */
export async function blockedSetsText(lab: Lab, host: LabHost, table: string): Promise<string> {
  const list = async (set: string) => (await lab.exec(host, ['nft', 'list', 'set', 'inet', table, set], { allowFailure: true })).stdout;
  // blocked6 holds /64 networks; a scanner in a /64 shared with this host is in blocked6_hosts.
  const sets = ['blocked4', 'blocked6', 'blocked6_hosts', 'blocked4_nets', 'blocked6_nets'];
  return (await Promise.all(sets.map(list))).join('\n');
}
