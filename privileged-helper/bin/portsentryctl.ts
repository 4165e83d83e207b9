#!/usr/bin/env node
// portsentryctl: the command line for a running helper, over the same control socket the
// desktop app uses. Exit codes: 0 ok, 1 the helper refused or failed, 2 usage error,
// 3 the helper is not reachable (not running, no permission).

import { parseArgs } from 'node:util';
import { DEFAULT_ADMIN_SOCKET_PATH, DEFAULT_SOCKET_PATH, HelperClient, HelperError, HelperUnavailableError } from '../../shared/rpc/helper-client.js';
import type { StatusResult, StoredEvent } from '../../shared/protocol/schemas.js';
import { describeRecordPorts, type ScanRecord } from '../../shared/domain/scan-record.js';

const USAGE = `usage: portsentryctl [--socket PATH | --operator] [--json] COMMAND
  run as root, it uses the admin socket (every setting); otherwise, or with --operator, the
  operator socket (members of the control group: detection settings, blocks, ignore, pause)
commands:
  status                               the helper's state
  events [--follow] [--limit N] [--host ADDR] [--port N] [--kind KIND]
                                       recent events, newest last; --follow keeps printing new ones
  scans [--limit N]                    one line per scan, newest last: scanner, first and last
                                       probe, probes, ports and kinds, what was done
  blocks                               blocked addresses
  block ADDRESS|PREFIX [--timeout SECONDS] [--reason TEXT]
  unblock ADDRESS|PREFIX [--reason TEXT]
  ignore list | ignore add ENTRY [--comment TEXT] | ignore remove ENTRY
  config get [KEY] | config set KEY=VALUE...
  pause [--for SECONDS] | resume       --for: the helper resumes by itself after that long`;

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;
const EXIT_UNREACHABLE = 3;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        socket: { type: 'string' },
        operator: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        follow: { type: 'boolean', short: 'f', default: false },
        limit: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        kind: { type: 'string' },
        timeout: { type: 'string' },
        reason: { type: 'string' },
        comment: { type: 'string' },
        for: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`portsentryctl: ${(error as Error).message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    (values.help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return values.help ? EXIT_OK : EXIT_USAGE;
  }
  let client: HelperClient | null = null;
  try {
    // Root talks on its own admin socket (full rights, never crowded out by operators);
    // everyone else on the operator socket, where the kernel admits only the control group.
    const isRoot = process.geteuid?.() === 0;
    client = await HelperClient.connect(values.socket ?? (isRoot && !values.operator ? DEFAULT_ADMIN_SOCKET_PATH : DEFAULT_SOCKET_PATH));
    return await run(client, positionals, values);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`portsentryctl: ${error.message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof HelperUnavailableError) {
      process.stderr.write(`portsentryctl: ${error.message}\n`);
      return EXIT_UNREACHABLE;
    }
    if (error instanceof HelperError) {
      process.stderr.write(`portsentryctl: ${error.message}\n`);
      if (values.json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
      return EXIT_REFUSED;
    }
    throw error;
  } finally {
    if (!values.follow) client?.close();
  }
}

type Values = Record<string, string | boolean | undefined>;

/** The first word of `status`: armed, paused, not protecting (and why), degraded. */
function protectionWord(status: StatusResult): string {
  if (status.paused) return 'PAUSED (scans are reported, not blocked)';
  if (status.protecting === false) return `NOT PROTECTING: ${status.notProtectingReason ?? 'nothing is blocked'}`;
  return status.firewall?.inSync === false ? 'armed but DEGRADED (see below)' : 'armed';
}

async function run(client: HelperClient, words: string[], values: Values): Promise<number> {
  const json = values['json'] === true;
  const out = (data: unknown, text: () => string) => process.stdout.write(`${json ? JSON.stringify(data) : text()}\n`);
  const [command, ...rest] = words;
  switch (command) {
    case 'status': {
      const status = await client.call('status', {});
      out(status, () =>
        [
          `helper ${status.version}: ${protectionWord(status)}`,
          `modes: ${status.modes.map((m) => `-${m}`).join(' ')}${status.modesFrom === undefined ? '' : status.modesFrom === 'config' ? ' (from MODES)' : ' (from the command line)'}; packet capture: ${status.captureActive ? 'on' : 'off'}; firewall: ${status.backend}`,
          ...inUseLines(status),
          `blocked: ${status.blockedCount}; events stored: ${status.eventsStored}; up ${Math.round(status.uptimeSeconds)} s`,
          ...(status.firewall === undefined
            ? []
            : [
                status.firewall.inSync
                  ? `firewall in sync with the helper (repaired ${status.firewall.repairs} times after changes by other programs)`
                  : `firewall DEGRADED: ${status.firewall.problem ?? 'the firewall does not hold what the helper believes'}`,
              ]),
          ...(status.store === undefined ? [] : [status.store.ok ? 'store: ok' : `store: DEGRADED: ${status.store.problem ?? 'unknown problem'}`]),
          `you are connected as ${status.role === 'admin' ? 'admin (root: every setting)' : 'operator (detection settings, blocks, ignore list, pause)'}`,
          ...fleetLines(status),
        ].join('\n'),
      );
      return EXIT_OK;
    }
    case 'events':
      return events(client, values, json);
    case 'scans': {
      const limit = values['limit'] === undefined ? 20 : integer(values['limit'], '--limit');
      // Newest last, like events; --json prints one record a line.
      const { scans } = await client.call('scans.list', { limit });
      for (const record of scans.reverse()) process.stdout.write(`${json ? JSON.stringify(record) : describeScan(record)}\n`);
      return EXIT_OK;
    }
    case 'blocks': {
      const { blocks } = await client.call('blocks.list', {});
      out(blocks, () =>
        blocks.length === 0
          ? 'no blocked addresses'
          : blocks
              .map(
                (b) =>
                  `${b.address}\tsince ${iso(b.since)}\t${b.until === null ? 'until unblocked' : `until ${iso(b.until)}`}\t${b.reason}${b.fleet === undefined ? '' : `\t[fleet: ${b.fleet.machine}]`}`,
              )
              .join('\n'),
      );
      return EXIT_OK;
    }
    case 'block': {
      const address = one(rest, 'block needs one ADDRESS');
      const timeoutSeconds = values['timeout'] === undefined ? undefined : integer(values['timeout'], '--timeout');
      const result = await client.call('block', {
        address,
        ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
        ...(typeof values['reason'] === 'string' ? { reason: values['reason'] } : {}),
      });
      out(result, () => `blocked ${result.address}${result.until === null ? '' : ` until ${iso(result.until)}`}`);
      return EXIT_OK;
    }
    case 'unblock': {
      const address = one(rest, 'unblock needs one ADDRESS');
      const result = await client.call('unblock', { address, ...(typeof values['reason'] === 'string' ? { reason: values['reason'] } : {}) });
      out(result, () => (result.removed ? `unblocked ${result.address}` : `${result.address} was not blocked`));
      return EXIT_OK;
    }
    case 'ignore':
      return ignore(client, rest, values, out);
    case 'config':
      return config(client, rest, out);
    case 'pause':
    case 'resume': {
      const durationSeconds = command === 'pause' && values['for'] !== undefined ? integer(values['for'], '--for') : undefined;
      const result = command === 'pause' ? await client.call('pause', durationSeconds === undefined ? {} : { durationSeconds }) : await client.call('resume', {});
      const until = result.pausedUntil === undefined || result.pausedUntil === null ? '' : ` until ${iso(result.pausedUntil)}`;
      out(result, () => (result.paused ? `protection paused${until}: scans are reported but not blocked` : 'protection resumed'));
      return EXIT_OK;
    }
    default:
      throw new UsageError(`unknown command "${String(command)}"`);
  }
}

async function events(client: HelperClient, values: Values, json: boolean): Promise<number> {
  const limit = values['limit'] === undefined ? 20 : integer(values['limit'], '--limit');
  const filter = {
    limit,
    ...(typeof values['host'] === 'string' ? { host: values['host'] } : {}),
    ...(values['port'] !== undefined ? { port: integer(values['port'], '--port') } : {}),
    ...(typeof values['kind'] === 'string' ? { kind: values['kind'] as never } : {}),
  };
  const print = (event: StoredEvent) => process.stdout.write(`${json ? JSON.stringify(event) : describeEvent(event)}\n`);
  if (values['follow'] === true) {
    // Subscribe first, then print the backlog: nothing that happens in between is lost.
    const seen = new Set<number>();
    const early: StoredEvent[] = [];
    let backlogDone = false;
    await client.subscribe((event) => {
      if (!backlogDone) early.push(event);
      else if (!seen.has(event.id)) print(event);
    });
    const { events: backlog } = await client.call('events.list', filter);
    for (const event of backlog.reverse()) {
      seen.add(event.id);
      print(event);
    }
    backlogDone = true;
    for (const event of early) if (!seen.has(event.id)) print(event);
    return new Promise<number>((resolve) => {
      client.onClose(() => {
        process.stderr.write('portsentryctl: the helper went away\n');
        resolve(EXIT_UNREACHABLE);
      });
      process.once('SIGINT', () => {
        client.close();
        resolve(EXIT_OK);
      });
    });
  }
  const { events: page } = await client.call('events.list', filter);
  for (const event of page.reverse()) print(event);
  return EXIT_OK;
}

async function ignore(client: HelperClient, words: string[], values: Values, out: (d: unknown, t: () => string) => void): Promise<number> {
  const [action, ...rest] = words;
  switch (action) {
    case 'list':
    case undefined: {
      const { entries } = await client.call('ignore.list', {});
      out(entries, () => entries.map((e) => (e.comment === undefined ? e.entry : `${e.entry}\t# ${e.comment}`)).join('\n') || 'the ignore list is empty');
      return EXIT_OK;
    }
    case 'add': {
      const entry = one(rest, 'ignore add needs one ENTRY (address or address/prefix)');
      const result = await client.call('ignore.add', { entry, ...(typeof values['comment'] === 'string' ? { comment: values['comment'] } : {}) });
      out(result, () => (result.added ? `now ignoring ${result.entry}` : `${result.entry} was already ignored`));
      return EXIT_OK;
    }
    case 'remove': {
      const entry = one(rest, 'ignore remove needs one ENTRY');
      const result = await client.call('ignore.remove', { entry });
      out(result, () => (result.removed ? `no longer ignoring ${result.entry}` : `${result.entry} was not in the ignore list`));
      return EXIT_OK;
    }
    default:
      throw new UsageError(`unknown ignore action "${action}"`);
  }
}

async function config(client: HelperClient, words: string[], out: (d: unknown, t: () => string) => void): Promise<number> {
  const [action, ...rest] = words;
  if (action === 'get') {
    const result = await client.call('config.get', {});
    if (rest.length > 0) {
      const key = one(rest, 'config get takes at most one KEY');
      const value = Object.hasOwn(result.values, key) ? result.values[key] : undefined;
      if (value === undefined) throw new HelperError(-32012, `unknown key ${key}`);
      out({ [key]: value }, () => value);
    } else {
      // Each value with the file it comes from (root's config, the operator settings file, or the default).
      const from = (key: string) => result.sources[key] ?? 'default';
      out({ values: result.values, sources: result.sources, mainFile: result.mainFile, operatorFile: result.operatorFile }, () =>
        Object.entries(result.values)
          .map(([k, v]) => `${k}="${v}"  # ${from(k)}`)
          .join('\n'),
      );
    }
    return EXIT_OK;
  }
  if (action === 'set') {
    if (rest.length === 0) throw new UsageError('config set needs KEY=VALUE');
    const changes: Record<string, string> = {};
    for (const pair of rest) {
      const equals = pair.indexOf('=');
      if (equals <= 0) throw new UsageError(`"${pair}" is not KEY=VALUE`);
      changes[pair.slice(0, equals)] = pair.slice(equals + 1);
    }
    const result = await client.call('config.set', { changes });
    out(result, () => (result.changed.length === 0 ? 'nothing changed' : `changed and applied: ${result.changed.join(', ')}`));
    return EXIT_OK;
  }
  throw new UsageError(`unknown config action "${String(action)}"`);
}

function describeEvent(event: StoredEvent): string {
  if (event.type === 'block') {
    return `${iso(event.at)}  ${event.change === 'added' ? 'BLOCKED  ' : 'UNBLOCKED'} ${event.address}  (${event.reason})${event.until !== null ? ` until ${iso(event.until)}` : ''}`;
  }
  const name = event.resolvedName !== undefined ? ` [${event.resolvedName}]` : '';
  return `${iso(event.at)}  ${event.action.padEnd(15)} ${event.source}${name} -> ${event.protocol.toUpperCase()} ${event.port} (${event.kind}, -${event.mode})${event.reason !== undefined ? `: ${event.reason}` : ''}`;
}

/** One scan on one line: who, from when to when, how many probes, where, which kinds, what was done (and why not blocked). */
function describeScan(record: ScanRecord): string {
  const probes = `${record.probes} ${record.probes === 1 ? 'probe' : 'probes'}`;
  return `${iso(record.firstProbe)} .. ${iso(record.lastProbe)}  ${record.outcome.padEnd(8)} ${record.scanner}  ${probes}  ${describeRecordPorts(record)}  (${record.kinds.join(', ')})${record.reason === undefined ? '' : `: not blocked: ${record.reason}`}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function one(words: string[], message: string): string {
  if (words.length !== 1 || words[0] === undefined) throw new UsageError(message);
  return words[0];
}

function integer(value: string | boolean | undefined, name: string): number {
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) throw new UsageError(`${name} must be a whole number`);
  return Number(value);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`portsentryctl: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = EXIT_REFUSED;
  },
);

/** The fleet and metrics lines of `status` (none when neither is configured). */
/** The tripwire ports left to the programs that hold them; nothing when there are none. */
function inUseLines(status: StatusResult): string[] {
  const held = status.portsInUseByOthers;
  if (held === undefined || held.tcp.length + held.udp.length === 0) return [];
  const list = (name: string, ports: readonly number[]) => (ports.length === 0 ? [] : [`${name} ${ports.join(', ')}`]);
  return [`not tripwires, in use by other programs: ${[...list('TCP', held.tcp), ...list('UDP', held.udp)].join('; ')}`];
}

function fleetLines(status: StatusResult): string[] {
  const lines: string[] = [];
  const fleet = status.fleet;
  if (fleet !== undefined) {
    const link = fleet.connected === null ? 'not contacted yet' : fleet.connected ? 'connected' : `unreachable (${fleet.lastError ?? 'unknown error'})`;
    lines.push(
      `fleet: sharing ${fleet.sharing ? 'on' : 'off'}; sending ${fleet.pushing ? 'on' : 'off'}, receiving ${fleet.pulling ? 'on' : 'off'}; LAPI ${link}`,
      `fleet: alerts sent ${fleet.sent}, queued ${fleet.queued}, dropped ${fleet.dropped}; fleet blocks held ${fleet.fleetBlocks}; bans refused ${fleet.refused}`,
    );
  }
  if (status.metrics !== undefined) lines.push(`metrics: http://${status.metrics.address.includes(':') ? `[${status.metrics.address}]` : status.metrics.address}:${status.metrics.port}/metrics`);
  return lines;
}
