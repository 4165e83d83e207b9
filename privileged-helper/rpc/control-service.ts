// What each control method does, in terms of the daemon, the store and the config files.
// Parameters arrive validated by the shared protocol; this file maps them onto the helper
// and its answers (and refusals) back onto protocol results and error codes.

import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { ConfigError } from '../config/conf-file.js';
import { formatConfigValues, parseConfig, type PortSentryConfig } from '../config/config.js';
import { applyConfigChanges, changedKeys, configValues } from '../config/config-edit.js';
import { addIgnoreLine, listIgnoreLines, removeIgnoreLine } from '../config/ignore-edit.js';
import { parseIgnoreText } from '../config/ignore-list.js';
import type { Clock } from '../core/types.js';
import type { BlockResult, Daemon } from '../daemon/daemon.js';
import { StatsBusyError, type EventStore } from '../store/event-store.js';
import { ErrorCode, ProtocolError, type MethodHandlers } from '../../shared/protocol/json-rpc.js';
import { MAX_STATS_PORTS, MAX_STATS_TOP, PROTOCOL_VERSION } from '../../shared/protocol/schemas.js';
import type { ConnectionContext } from './control-socket.js';

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
}

export function controlHandlers(deps: ControlServiceDeps): MethodHandlers<ConnectionContext> {
  const { daemon, store } = deps;
  const config = (): PortSentryConfig => daemon.config;
  // One config or ignore-file change at a time: each reads, edits, validates and renames.
  let editing: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = editing.then(work, work);
    editing = next.catch(() => undefined);
    return next;
  };

  return {
    status: () => ({
      version: deps.version,
      running: true,
      paused: daemon.isPaused,
      modes: [...daemon.modes],
      uptimeSeconds: Math.max(0, (deps.clock() - deps.startedAt) / 1000),
      blockedCount: daemon.blockedAddresses().length,
      eventsStored: store.countEvents(),
      captureActive: daemon.captureActive,
      backend: config().blockBackend,
      pausedUntil: daemon.pausedUntil,
    }),
    version: () => ({ version: deps.version, protocolVersion: PROTOCOL_VERSION }),
    'events.list': (params) => store.events(params),
    'events.subscribe': (_params, context) => {
      context.subscribe();
      return { subscribed: true as const };
    },
    'blocks.list': () => ({ blocks: store.blocks() }),
    block: async (params) => {
      const result = await daemon.blockByHand(params.address, params.timeoutSeconds ?? null, params.reason ?? 'blocked by hand');
      const ok = expectOk(result);
      return { address: ok.address, until: ok.until };
    },
    unblock: async (params) => {
      const ok = expectOk(await daemon.unblock(params.address, params.reason ?? 'unblocked by hand'));
      return { address: ok.address, removed: ok.removed ?? false };
    },
    'ignore.list': async () => ({ entries: listIgnoreLines(await readIgnoreText(config().ignoreFile)) }),
    'ignore.add': (params) =>
      serialized(async () => {
        const file = config().ignoreFile;
        const edit = addIgnoreLine(await readIgnoreText(file), params.entry, params.comment);
        if (edit.added) await writeValidatedIgnore(file, edit.text, deps.reload);
        return { entry: params.entry, added: edit.added };
      }),
    'ignore.remove': (params) =>
      serialized(async () => {
        const file = config().ignoreFile;
        const edit = removeIgnoreLine(await readIgnoreText(file), params.entry);
        if (edit.removed) await writeValidatedIgnore(file, edit.text, deps.reload);
        return { entry: params.entry, removed: edit.removed };
      }),
    'config.get': async () => {
      const text = deps.configPath === null ? deps.embeddedConfigText : await readFile(deps.configPath, 'utf8');
      // Effective values of every key (defaults included), overlaid with the file's own text
      // for the keys it sets, so what the admin wrote is shown as written.
      return { text, values: { ...formatConfigValues(config()), ...configValues(text, deps.configPath ?? '<embedded defaults>') } };
    },
    'config.set': (params) =>
      serialized(async () => {
        const path = deps.configPath;
        if (path === null) {
          throw new ProtocolError(ErrorCode.CONFIG_INVALID, 'the helper runs on its embedded defaults; start it with -c FILE to change settings');
        }
        const before = await readFile(path, 'utf8');
        const after = applyConfigChanges(before, params.changes);
        try {
          parseConfig(after, path);
        } catch (error) {
          if (error instanceof ConfigError) throw new ProtocolError(ErrorCode.CONFIG_INVALID, error.message);
          throw error;
        }
        const changed = changedKeys(configValues(before, path), configValues(after, path));
        if (changed.length === 0) return { changed };
        await writeAtomically(path, after);
        if (!(await deps.reload())) {
          // Valid on its own but not applicable here (e.g. a mode's ports cannot be bound): put it back.
          await writeAtomically(path, before);
          await deps.reload();
          throw new ProtocolError(ErrorCode.CONFIG_INVALID, 'the new settings could not be applied; the previous ones are still in force (see the log)');
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
    stats: async (params) => {
      try {
        return await store.statsInBackground({ ...params, top: MAX_STATS_TOP, maxPorts: MAX_STATS_PORTS }, deps.clock());
      } catch (error) {
        if (error instanceof StatsBusyError) throw new ProtocolError(ErrorCode.RATE_LIMITED, error.message);
        throw error;
      }
    },
  };
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

async function readIgnoreText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
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

/**
 * Write to a temporary file beside the target, flush, then rename: never a half-written
 * file. A failure (read-only file system, disk full, no permission) is an error the client
 * can show in words, not an opaque internal error.
 */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const mode = await stat(file).then(
    (info) => info.mode & 0o777,
    () => 0o644,
  );
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text, { mode, flush: true });
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProtocolError(ErrorCode.CONFIG_INVALID, `cannot write ${file}: ${code ?? (error as Error).message}`);
  }
}
