// What each control method does, in terms of the daemon, the store and the config files.
// Parameters arrive validated by the shared protocol; this file maps them onto the helper
// and its answers (and refusals) back onto protocol results and error codes.

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../config/conf-file.js';
import { formatConfigValues, type PortSentryConfig } from '../config/config.js';
import { configValues } from '../config/config-edit.js';
import { applyConfigChange, ConfigChangeError, planConfigChange } from '../config/config-transaction.js';
import { checkKeyValue, isConfigKey, operatorMayChange, operatorSettingsOffReason, rootOnlyReason } from '../../shared/domain/config-keys.js';
import { ensureOwnDirectory, writeFileAtomically as writeSafely } from '../files/safe-paths.js';
import { addIgnoreLine, expiredIgnoreEntries, listIgnoreLines, MAX_OPERATOR_IGNORE_ENTRIES, nextIgnoreExpiry, removeIgnoreLine } from '../config/ignore-edit.js';
import { parseIgnoreEntry, parseIgnoreText } from '../config/ignore-list.js';
import { operatorBlockRefusal, operatorIgnoreRefusal, type Prefix } from '../config/operator-bounds.js';
import { blockCovers, parseBlockTarget } from '../../shared/domain/block-target.js';
import type { Clock } from '../../shared/domain/types.js';
import type { BlockResult, Daemon } from '../daemon/daemon.js';
import { StatsBusyError, StoreError, type EventStore } from '../store/event-store.js';
import { ErrorCode, ProtocolError, type MethodHandlers } from '../../shared/protocol/json-rpc.js';
import { MAX_LIFTED_BLOCKS, MAX_STATS_PORTS, MAX_STATS_TOP, PROTOCOL_VERSION, type BlockEntry, type StatusResult } from '../../shared/protocol/schemas.js';
import { redactConfigText, redactValues, writesRedactedSecret } from '../fleet/secrets.js';
import type { ConnectionContext } from './control-socket.js';
import { QueueFullError, RootFirstQueue } from './root-first-queue.js';
import type { FirewallHealth } from '../firewall/firewall-owner.js';
import type { StoredBlock } from '../store/event-store.js';
import type { NotificationParamsOf } from '../../shared/protocol/methods.js';

/** How many operator edits may wait behind the one running (each is a file write and a reload). */
export const MAX_WAITING_OPERATOR_EDITS = 8;
/** How many operator stats requests may wait behind the one computing. */
export const MAX_WAITING_OPERATOR_STATS = 4;
/** Operators' event listings allowed to wait behind the one being read (each a query on the reader thread). */
export const MAX_WAITING_OPERATOR_LISTS = 8;

export interface ControlServiceDeps {
  readonly daemon: Daemon;
  readonly store: EventStore;
  /** The config file the helper runs from; null = embedded defaults (read-only). */
  readonly configPath: string | null;
  readonly embeddedConfigText: string;
  readonly version: string;
  readonly startedAt: number;
  readonly clock: Clock;
  /** Re-reads config and ignore list; false (with the reason logged) keeps the old ones. */
  readonly reload: () => Promise<boolean>;
  /** The status sections of the fleet and the metrics endpoint (issue 16), when on. */
  readonly extraStatus?: () => Pick<StatusResult, 'fleet' | 'metrics'>;
  /** Whether the kernel holds what the helper believes; null without a firewall. */
  readonly firewallHealth?: () => FirewallHealth | null;
  /** The one line of config and ignore-file edits, shared with the timed-ignore sweep (run-daemon). */
  readonly edits?: RootFirstQueue;
}

export function controlHandlers(deps: ControlServiceDeps): MethodHandlers<ConnectionContext> {
  const { daemon, store } = deps;
  const config = (): PortSentryConfig => daemon.config;
  // One config or ignore-file change at a time (each reads, edits, validates and renames), and
  // one stats computation at a time; root's go first, and only a few operators' may wait.
  const inLine = (queue: RootFirstQueue) => {
    return <T>(context: ConnectionContext, work: () => Promise<T>): Promise<T> =>
      queue.run(context.role, work).catch((error: unknown) => {
        if (error instanceof QueueFullError) throw new ProtocolError(ErrorCode.RATE_LIMITED, error.message);
        throw error;
      });
  };
  const serialized = inLine(deps.edits ?? new RootFirstQueue(MAX_WAITING_OPERATOR_EDITS, 'settings or ignore-list changes'));
  // Trust means the host gets through: every block the new entry covers is lifted, through the
  // firewall owner (so the kernel no longer holds it), and returned so the caller can say so
  // and undo it.
  const liftBlocksWithin = async (entry: string): Promise<BlockEntry[]> => {
    const records = new Map(recordedBlocks(store).map((block) => [block.address, block]));
    const lifted: BlockEntry[] = [];
    for (const { key, until } of daemon.heldBlocks()) {
      if (lifted.length >= MAX_LIFTED_BLOCKS || !blockCovers(entry, key)) continue;
      const result = await daemon.unblock(key, `trusted: ${entry} is on the ignore list`);
      if (!result.ok) throw new ProtocolError(ErrorCode.FIREWALL_FAILED, `${entry} is on the ignore list, but its block ${key} could not be lifted: ${result.message}`);
      const record = records.get(key);
      if (result.removed === true) lifted.push({ address: key, since: record?.since ?? 0, until, reason: record?.reason ?? 'held by the firewall (not in the store)' });
    }
    return lifted;
  };
  const statsInLine = inLine(new RootFirstQueue(MAX_WAITING_OPERATOR_STATS, 'statistics requests'));
  const listInLine = inLine(new RootFirstQueue(MAX_WAITING_OPERATOR_LISTS, 'event listings'));
  // Operators' range blocks one at a time: the total they may cover is checked against what is
  // held, and two at once would each pass against the same count.
  const rangesInLine = inLine(new RootFirstQueue(MAX_WAITING_OPERATOR_EDITS, 'range blocks'));

  return {
    status: (_params, context) => {
      return {
        version: deps.version,
        running: true,
        modes: [...daemon.modes],
        modesFrom: daemon.modesFrom,
        uptimeSeconds: Math.max(0, (deps.clock() - deps.startedAt) / 1000),
        // What the firewall owner holds (confirmed blocks in force), the same list blocks.list shows.
        blockedCount: daemon.heldBlocks().length,
        eventsStored: store.countEvents(),
        captureActive: daemon.captureActive,
        portsInUseByOthers: daemon.portsInUseByOthers(),
        backend: config().blockBackend,
        role: context.role,
        ...deps.extraStatus?.(),
        ...protectionState(daemon, deps.firewallHealth),
        store: store.status(),
      };
    },
    version: () => ({ version: deps.version, protocolVersion: PROTOCOL_VERSION }),
    // Read on the store's reader thread: a filter no index serves scans the table, and
    // operators asking again and again must not take the thread that detects.
    'events.list': (params, context) => listInLine(context, () => fromStore(() => store.eventsInBackground(params))),
    'events.subscribe': (_params, context) => {
      context.subscribe();
      return { subscribed: true as const };
    },
    // The blocks the firewall holds (the ledger its owner keeps the kernel to), each with what
    // the store recorded of it; a block the store could not record, or a store that cannot be
    // read, still shows every held block.
    'blocks.list': () => ({ blocks: heldBlocksWithRecords(daemon.heldBlocks(), recordedBlocks(store)) }),
    // One record per scan, most recent first (written once a second; a store that cannot be read says so).
    'scans.list': async (params) => ({ scans: await fromStore(() => store.scans(params.limit)) }),
    block: async (params, context) => {
      const blockNow = async () => {
        const result = await daemon.blockByHand(params.address, params.timeoutSeconds ?? null, params.reason ?? 'blocked by hand');
        const ok = expectOk(result);
        return { address: ok.address, until: ok.until };
      };
      const target = parseBlockTarget(params.address);
      // Root is not bound; a single address is never a range (the daemon refuses protected ones).
      if (context.role === 'admin' || typeof target === 'string' || !params.address.includes('/')) return blockNow();
      return rangesInLine(context, async () => {
        const refusal = operatorBlockRefusal(
          target,
          daemon.heldBlocks().map((block) => block.key),
          config(),
        );
        if (refusal !== null) throw new ProtocolError(ErrorCode.NOT_AUTHORIZED, refusal);
        return blockNow();
      });
    },
    unblock: async (params) => {
      const ok = expectOk(await daemon.unblock(params.address, params.reason ?? 'unblocked by hand'));
      return { address: ok.address, removed: ok.removed ?? false };
    },
    'ignore.list': async () => ({ entries: listIgnoreLines(await readIgnoreText(config().ignoreFile)) }),
    'ignore.add': (params, context) =>
      serialized(context, async () => {
        const file = config().ignoreFile;
        const text = await readIgnoreText(file);
        if (context.role !== 'admin') {
          const refusal = ignoreRefusal(params.entry, text, config());
          if (refusal !== null) throw new ProtocolError(ErrorCode.NOT_AUTHORIZED, refusal);
        }
        // A timed entry ends on a whole second: the time written in the file is the time it ends.
        const until = params.durationSeconds === undefined ? undefined : Math.ceil((deps.clock() + params.durationSeconds * 1000) / 1000) * 1000;
        const edit = addIgnoreLine(text, params.entry, params.comment, context.role === 'admin' ? Infinity : MAX_OPERATOR_IGNORE_ENTRIES, until);
        if (edit.full === true) {
          throw new ProtocolError(
            ErrorCode.CONFIG_INVALID,
            `the ignore list already holds ${MAX_OPERATOR_IGNORE_ENTRIES} entries, the most an operator may add to; remove some, or ask root to edit ${file}`,
          );
        }
        if (edit.added) await writeValidatedIgnore(file, edit.text, deps.reload);
        const lifted = await liftBlocksWithin(params.entry);
        const held = listIgnoreLines(await readIgnoreText(file)).find((line) => line.entry === params.entry);
        return { entry: params.entry, added: edit.added, until: held?.until ?? null, lifted };
      }),
    'ignore.undo': (params, context) =>
      serialized(context, async () => {
        const file = config().ignoreFile;
        const edit = removeIgnoreLine(await readIgnoreText(file), params.entry);
        if (edit.removed) await writeValidatedIgnore(file, edit.text, deps.reload);
        // Put back with the time each had left; the same checks as any block by hand (a
        // protected address is still refused), and a block whose time ran out stays lifted.
        const reblocked: string[] = [];
        for (const block of params.reblock) {
          const left = block.until === null ? null : Math.ceil((block.until - deps.clock()) / 1000);
          if (left !== null && left <= 0) continue;
          // An operator's undo is a block by an operator: the same bounds on ranges as `block`.
          const target = parseBlockTarget(block.address);
          if (context.role !== 'admin' && typeof target !== 'string' && block.address.includes('/')) {
            const refusal = operatorBlockRefusal(
              target,
              daemon.heldBlocks().map((held) => held.key),
              config(),
            );
            if (refusal !== null) throw new ProtocolError(ErrorCode.NOT_AUTHORIZED, refusal);
          }
          const result = await daemon.blockByHand(block.address, left, block.reason.slice(0, 200));
          reblocked.push(expectOk(result).address);
        }
        return { entry: params.entry, removed: edit.removed, reblocked };
      }),
    'ignore.remove': (params, context) =>
      serialized(context, async () => {
        const file = config().ignoreFile;
        const edit = removeIgnoreLine(await readIgnoreText(file), params.entry);
        if (edit.removed) await writeValidatedIgnore(file, edit.text, deps.reload);
        return { entry: params.entry, removed: edit.removed };
      }),
    'config.get': async () => {
      const mainText = deps.configPath === null ? deps.embeddedConfigText : await readFile(deps.configPath, 'utf8');
      const operatorFile = config().operatorSettingsFile === '' ? null : config().operatorSettingsFile;
      const operatorText = operatorFile === null ? '' : await readOptional(operatorFile);
      // Effective values of every key (defaults included), with each file's own text for the
      // keys it sets, so what was written is shown as written, and where it came from.
      // A value is shown as written in the file it came from: a line the loader skipped (a key
      // operators no longer own) is not what is in force.
      const written = new Map<string, Record<string, string>>([[config().file, configValues(mainText, deps.configPath ?? '<embedded defaults>')]]);
      if (operatorFile !== null) written.set(operatorFile, configValues(operatorText, operatorFile));
      const values = formatConfigValues(config());
      for (const [key, source] of Object.entries(config().sources)) {
        const text = written.get(source)?.[key];
        if (text !== undefined) values[key] = text;
      }
      // Secrets (fleet credentials) are shown as set or not, never as they are.
      const sources = { ...config().sources };
      // Mode flags on the command line win over MODES: say so where the value's origin is shown.
      if (daemon.modesFrom === 'command-line') sources['MODES'] = `the command line (${daemon.modes.map((m) => `-${m}`).join(' ')}), which wins over MODES until the helper runs without mode flags`;
      return { text: redactConfigText(mainText), values: redactValues(values), sources, mainFile: deps.configPath, operatorFile };
    },
    'config.set': (params, context) =>
      serialized(context, async () => {
        const keys = Object.keys(params.changes);
        for (const key of keys) if (!isConfigKey(key)) throw new ProtocolError(ErrorCode.CONFIG_INVALID, `unknown key ${key}`);
        const operatorFile = config().operatorSettingsFile === '' ? null : config().operatorSettingsFile;
        if (context.role !== 'admin') {
          const refused = keys.filter((key) => !operatorMayChange(key));
          if (refused.length > 0) {
            throw new ProtocolError(ErrorCode.NOT_AUTHORIZED, refused.map((key) => rootOnlyReason(key as never, deps.configPath)).join('; '));
          }
          // Root's own file is never rewritten on an operator's behalf: with no operator
          // settings file, every setting is root's.
          if (operatorFile === null) throw new ProtocolError(ErrorCode.NOT_AUTHORIZED, operatorSettingsOffReason(deps.configPath));
        }
        const redacted = writesRedactedSecret(params.changes);
        if (redacted !== null) throw new ProtocolError(ErrorCode.CONFIG_INVALID, `${redacted} is a secret; send its new value, not the redacted placeholder`);
        // Whatever arrives over the channel is checked as untrusted, root's included: a
        // template from here never names a shell (only root's own file may).
        for (const [key, value] of Object.entries(params.changes)) {
          const problem = checkKeyValue(key, value, { trustedFile: false });
          if (problem !== null) throw new ProtocolError(ErrorCode.CONFIG_INVALID, problem);
        }
        // Where each key goes, the new texts checked as the loader will read them, then written,
        // reloaded, and put back if the reload refuses them: one transaction (config/).
        const files = { mainPath: deps.configPath, operatorPath: operatorFile };
        const texts = { main: deps.configPath === null ? deps.embeddedConfigText : await readFile(deps.configPath, 'utf8'), operator: operatorFile === null ? '' : await readOptional(operatorFile) };
        let changed: string[];
        try {
          const plan = planConfigChange(params.changes, texts, files, daemon.modesFrom === 'config');
          changed = plan.changed;
          await applyConfigChange(plan, { write: writeAtomically, reload: deps.reload });
        } catch (error) {
          if (error instanceof ConfigChangeError) throw new ProtocolError(ErrorCode.CONFIG_INVALID, error.message);
          throw error;
        }
        return { changed };
      }),
    pause: async (params) => {
      const until = params.durationSeconds === undefined ? null : deps.clock() + params.durationSeconds * 1000;
      await daemon.setPaused(true, until);
      return { paused: true, pausedUntil: daemon.pausedUntil };
    },
    resume: async () => {
      await daemon.setPaused(false);
      return { paused: false, pausedUntil: null };
    },
    stats: (params, context) =>
      statsInLine(context, async () => {
        try {
          return await fromStore(() => store.statsInBackground({ ...params, top: MAX_STATS_TOP, maxPorts: MAX_STATS_PORTS }, deps.clock()));
        } catch (error) {
          if (error instanceof StatsBusyError) throw new ProtocolError(ErrorCode.RATE_LIMITED, error.message);
          throw error;
        }
      }),
  };
}

/** Whether this host is protected, as `status` says it and the `protection` push carries it. */
export function protectionState(daemon: Pick<Daemon, 'isPaused' | 'pausedUntil' | 'protection'>, firewallHealth: (() => FirewallHealth | null) | undefined): NotificationParamsOf<'protection'> {
  const firewall = firewallHealth?.() ?? null;
  const protection = daemon.protection();
  return {
    paused: daemon.isPaused,
    pausedUntil: daemon.pausedUntil,
    ...(firewall === null ? {} : { firewall: { inSync: firewall.inSync, problem: firewall.problem, repairs: firewall.repairs } }),
    protecting: protection.protecting,
    notProtectingReason: protection.reason,
  };
}

/**
 * Removes the timed ignore entries whose time is up ("allow for 1 hour" ended) and reloads, so
 * the host can be blocked again; the entries say their end in the file, so this also runs right
 * after a restart. Returns the entries removed, and when the next remaining one ends (null:
 * none is timed), so the caller can sleep until then.
 */
export async function sweepExpiredIgnores(file: string, now: number, reload: () => Promise<boolean>): Promise<{ expired: string[]; next: number | null }> {
  let text = await readIgnoreText(file);
  const expired = expiredIgnoreEntries(text, now);
  for (const entry of expired) text = removeIgnoreLine(text, entry).text;
  if (expired.length > 0) await writeValidatedIgnore(file, text, reload);
  return { expired, next: nextIgnoreExpiry(text) };
}

/** The held blocks in the order they were recorded, with the store's reason and origin. */
export function heldBlocksWithRecords(held: ReadonlyArray<{ key: string; until: number | null }>, stored: readonly StoredBlock[]): StoredBlock[] {
  const records = new Map(stored.map((block) => [block.address, block]));
  const out = held.map(({ key, until }): StoredBlock => {
    const record = records.get(key);
    return record === undefined ? { address: key, since: 0, until, reason: 'held by the firewall (not in the store)' } : { ...record, until };
  });
  return out.sort((a, b) => a.since - b.since);
}

/** A store that cannot answer is an error in words that name the file, not "internal error". */
async function fromStore<T>(read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof StoreError) throw new ProtocolError(ErrorCode.STORE_FAILED, error.message);
    throw error;
  }
}

/** What the store recorded of the blocks; nothing when it cannot be read (the firewall's list stands alone). */
function recordedBlocks(store: EventStore): StoredBlock[] {
  try {
    return store.blocks();
  } catch {
    return [];
  }
}

function expectOk(result: BlockResult): Extract<BlockResult, { ok: true }> {
  if (result.ok) return result;
  const code = {
    'invalid-address': ErrorCode.INVALID_ADDRESS,
    'protected-address': ErrorCode.PROTECTED_ADDRESS,
    'no-firewall': ErrorCode.NO_FIREWALL,
    'firewall-failed': ErrorCode.FIREWALL_FAILED,
  }[result.code];
  throw new ProtocolError(code, result.message);
}

const readIgnoreText = readOptional;

/** Whether an operator may add this ignore entry, judged against the entries the file lists now. */
function ignoreRefusal(entryText: string, fileText: string, bounds: PortSentryConfig): string | null {
  const entry = parseIgnoreEntry(entryText);
  if (typeof entry === 'string') return null; // the protocol's schema already refused it; the edit says so
  const listed = listIgnoreLines(fileText)
    .map((line) => parseIgnoreEntry(line.entry))
    .filter((parsed): parsed is Prefix => typeof parsed !== 'string');
  return operatorIgnoreRefusal(entry, listed, bounds);
}

async function writeValidatedIgnore(file: string, text: string, reload: () => Promise<boolean>): Promise<void> {
  try {
    parseIgnoreText(text, file);
  } catch (error) {
    // The admin's own file has a line we cannot read: say so rather than rewrite around it.
    if (error instanceof ConfigError) throw new ProtocolError(ErrorCode.CONFIG_INVALID, error.message);
    throw error;
  }
  await writeAtomically(file, text);
  await reload();
}

async function readOptional(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

/**
 * Writes a config or ignore file atomically, never through a symlink and never into a
 * directory others can write (see files/safe-paths.ts); the operator settings file's
 * directory is created if missing. A failure (read-only file system, disk full, no
 * permission, an unsafe path) is an error the client can show in words.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  try {
    await ensureOwnDirectory(dirname(file), 0o750, null);
    await writeSafely(file, text, 0o644, 'settings file');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProtocolError(ErrorCode.CONFIG_INVALID, `cannot write ${file}: ${code ?? (error as Error).message}`);
  }
}
