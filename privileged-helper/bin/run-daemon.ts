// Start-up and lifetime of portsentryd: load and check the config, bring up the firewall
// backend and reporters, bind the sensors, then live until a signal. SIGHUP reloads (a bad
// new config keeps the old one running); SIGTERM/SIGINT stop cleanly, leaving blocks in place.

import { hostname } from 'node:os';
import { coalesceReloads } from '../config/coalesce-reloads.js';
import { ConfigError } from '../config/conf-file.js';
import type { PortSentryConfig } from '../config/config.js';
import type { Mode } from '../../shared/domain/types.js';
import { HistoryWriter } from '../reporters/history-file.js';
import { messages } from '../reporters/messages.js';
import { SyslogReporter } from '../reporters/syslog.js';
import { StructuredOutputs } from '../reporters/structured-output.js';
import { checkModes, loadConfig, loadIgnoreList } from '../config/config-loader.js';
import { ephemeralTripwireWarnings, readLocalPortRange } from '../config/ephemeral-ports.js';
import { Daemon, type DaemonSettings } from '../daemon/daemon.js';
import { hostAddresses, SYSTEM_PROTECTED_ADDRESS_FILES } from '../never-block/host-addresses.js';
import { watchHostChanges } from '../never-block/host-watch.js';
import { createResponseActions, sameResponseSetup, type ResponseActionsHandle } from '../responders/response-actions.js';
import { EMBEDDED_CONFIG_TEXT } from '../config/default-config.js';
import { StoreError, type EventStore } from '../store/event-store.js';
import { openStore } from '../store/open-store.js';
import { moveStoreAside } from '../store/store-files.js';
import type { HelperEvent } from '../../shared/domain/detection-event.js';
import type { NflogCapturePlan } from '../capture/nflog-capture.js';
import type { TrapPlan } from '../firewall/kernel-trap.js';
import { reconcileBlocks } from '../firewall/reconcile-blocks.js';
import { ControlSocket } from '../rpc/control-socket.js';
import { controlHandlers, MAX_WAITING_OPERATOR_EDITS, protectionState, sweepExpiredIgnores } from '../rpc/control-service.js';
import { RootFirstQueue } from '../rpc/root-first-queue.js';
import { lookupGroupId } from '../rpc/group-file.js';
import { PRODUCT_VERSION } from '../reporters/messages.js';
import { FleetAndMetrics } from '../fleet/fleet-and-metrics.js';
import type { EarlyTripwires } from '../sensors/early-tripwires.js';
import { BlockLedger } from '../firewall/block-ledger.js';
import { DESKTOP_VERSION } from '../version.js';

/** This product's own version (the classic version it is compatible with is PRODUCT_VERSION). */
const PRODUCT_VERSION_DESKTOP = `${DESKTOP_VERSION} (PortSentry ${PRODUCT_VERSION} compatible)`;
const RETENTION_CHECK_MS = 3_600_000;
/**
 * The longest sleep before a timed ignore entry ("allow for 1 hour") is checked again: timers
 * run on the monotonic clock, which stops while a laptop sleeps, so an end that passed during
 * a suspend is found within this long of waking. With no timed entry, nothing is checked.
 */
const IGNORE_SWEEP_MAX_SLEEP_MS = 60_000;
const DAY_MS = 86_400_000;

export interface RunningDaemon {
  readonly daemon: Daemon;
  readonly store: EventStore;
  reload(): Promise<boolean>;
  shutdown(): Promise<void>;
}

/**
 * Loads everything a run needs; throws ConfigError with file:line on any problem. `flagModes`:
 * the command line's mode flags, which win; null lets the config's MODES decide (re-read at
 * every reload, so a MODES change through config.set takes effect without a restart).
 */
export async function loadSettings(configPath: string | null, flagModes: readonly Mode[] | null, warn: (m: string) => void): Promise<DaemonSettings> {
  const config = await loadConfig(configPath);
  for (const notice of config.notices) warn(messages.warning(notice));
  const modes = flagModes ?? config.modes;
  checkModes(config, modes);
  for (const warning of ephemeralTripwireWarnings(config, modes, await readLocalPortRange())) warn(messages.warning(warning));
  const ignore = await loadIgnoreList(config.ignoreFile);
  if (ignore.missing) warn(messages.warning(`ignore file ${config.ignoreFile} does not exist; only this host's own addresses are ignored`));
  return { config, ignore: ignore.entries, modes, modesFrom: flagModes === null ? 'config' : 'command-line' };
}

/** `early`: tripwires portsentryd bound before loading the rest (see sensors/early-tripwires.ts). */
export async function runDaemon(configPath: string | null, modes: readonly Mode[] | null, early?: EarlyTripwires): Promise<RunningDaemon> {
  const initialConfig = await loadConfig(configPath);
  const syslog = new SyslogReporter({ socketPath: initialConfig.syslogSocket });
  const log = (message: string) => syslog.log(message);
  log(messages.starting());

  let settings: DaemonSettings;
  let response: ResponseActionsHandle;
  // What the firewall holds, for the helper's whole life: the engine writes it, the firewall
  // owner keeps the kernel to it (also across a reload that changes the backend).
  const ledger = new BlockLedger();
  // Pushes the protection state to subscribers when it changed; set once the control sockets exist.
  let pushProtection: () => void = () => undefined;
  const protectionMayHaveChanged = () => pushProtection();
  try {
    settings = await loadSettings(configPath, modes, log);
    response = await createResponseActions(settings.config, log, ledger, protectionMayHaveChanged);
  } catch (error) {
    await early?.close();
    await syslog.close();
    throw error;
  }
  // The CrowdSec fleet and the Prometheus endpoint (issue 16); created once the store is open.
  let beyond: FleetAndMetrics | null = null;
  const history = historyFor(settings.config, log);
  await history.resetBlockedFiles(settings.modes);
  const daemon = new Daemon(settings, {
    clock: Date.now,
    log,
    actions: response.actions,
    history,
    // The fleet's LAPI is protected like a gateway: blocked, it would cut this host off the fleet.
    hostAddresses: async () => ({ ...(await hostAddresses()), fleetServers: beyond?.fleetServers() ?? [] }),
    watchHost: (onChange) => watchHostChanges({ files: SYSTEM_PROTECTED_ADDRESS_FILES.resolvConfs, onChange }),
    protectionChanged: protectionMayHaveChanged,
    // The trap lives in our nftables table; `response` is the current one, also after a reload.
    kernelTrap: async (plan: TrapPlan | null) => {
      await response.actions.firewall?.setTrap?.(plan);
    },
    // Capture's rules live there too, owned (and repaired) by the same firewall owner.
    kernelCapture: async (plan: NflogCapturePlan | null) => {
      const firewall = response.actions.firewall;
      if (firewall?.setCapture === undefined) throw new Error('no nftables firewall backend is running');
      await firewall.setCapture(plan);
    },
    observeProbe: (probe) => beyond?.observeProbe(probe),
    ledger,
    // Repeat offenders are counted from the store's history (opened below, before any probe is handled).
    earlierBlocks: (address) => store.countDetectionBlocks(address),
    recordScans: (records) => {
      try {
        store.recordScans(records);
      } catch {
        // The store has said so (status, log); detection goes on without the records.
      }
      // Pushed even when the store failed: a record is whole (not a delta), so a client that
      // saw it misses nothing the store kept. The app notifies from these (one per scan).
      for (const record of records) control?.push('scan', record);
    },
  });
  if (early !== undefined) daemon.adoptEarlyTripwires(early);
  // Never fails: a damaged store is moved aside and a new one started, one that cannot be
  // used at all is replaced by one in memory; the log and status say which (store/open-store.ts).
  const store = await openStore(settings.config.storeFile, { log, clock: Date.now });
  // The store is the record of what should be blocked; the firewall may have lost it (reboot)
  // or hold more (a crash between the two). Bring both into line before anything new happens.
  try {
    await reconcileBlocks({ store, firewall: response.actions.firewall, clock: Date.now, log, restore: (a, until) => daemon.restoreBlock(a, until) });
  } catch (error) {
    // A store that fails its writes here (a full disk) has said so; detection starts regardless.
    if (!(error instanceof StoreError) && (error as { code?: unknown }).code !== 'ERR_SQLITE_ERROR') throw error;
  }
  let control: Pick<ControlSocket, 'broadcast' | 'push' | 'close' | 'connectionCount'> | null = null;
  // Events are written in batches, one transaction per turn of the event loop, and only
  // then sent to subscribers: what a client has seen is on disk.
  let unwritten: HelperEvent[] = [];
  const writeEvents = () => {
    const batch = unwritten;
    unwritten = [];
    let stored;
    try {
      stored = store.recordBatch(batch);
    } catch {
      // Detection and blocking go on without the store (disk full, database locked, damaged);
      // the store has said so, at most once a minute, and status() says it is degraded.
      return;
    }
    for (const event of stored) control?.broadcast(event);
  };
  beyond = new FleetAndMetrics({ daemon, store, log, clock: Date.now, rpcConnections: () => control?.connectionCount ?? 0, firewallHealth: () => response.firewallHealth() });
  const fleetAndMetrics = beyond;
  const structured = new StructuredOutputs({ log, hostname: hostname(), pid: process.pid });
  daemon.onEvent((event) => {
    fleetAndMetrics.observe(event);
    structured.observe(event);
    unwritten.push(event);
    if (unwritten.length === 1) setImmediate(writeEvents);
  });
  try {
    await daemon.start();
  } catch (error) {
    await daemon.stop();
    await response.stop();
    store.close();
    await syslog.close();
    throw error;
  }
  await fleetAndMetrics.start(settings.config);
  await structured.reconfigure(settings.config).catch((error: unknown) => log(messages.error(`structured output is off: ${(error as Error).message}`)));
  const startedAt = Date.now();
  const prune = () => {
    const removed = store.prune(Date.now() - settings.config.eventRetentionDays * DAY_MS);
    if (removed > 0) log(messages.notice(`removed ${removed} events older than ${settings.config.eventRetentionDays} days from the store`));
  };
  prune();
  const pruneTimer = setInterval(prune, RETENTION_CHECK_MS);
  pruneTimer.unref();

  // Set below, once the edit queue exists; a reload re-arms the timed-ignore sweep.
  let sweepIgnores: () => Promise<void> = () => Promise.resolve();
  const reload = async (): Promise<boolean> => {
    try {
      const next = await loadSettings(configPath, modes, log);
      if (!sameResponseSetup(settings.config, next.config)) {
        const replacement = await createResponseActions(next.config, log, ledger, protectionMayHaveChanged);
        await response.stop();
        response = replacement;
        daemon.setActions(response.actions);
      }
      await daemon.reconfigure(next);
      await fleetAndMetrics.reconfigure(next.config);
      await structured.reconfigure(next.config).catch((error: unknown) => log(messages.error(`structured output unchanged: ${(error as Error).message}`)));
      settings = next;
      log(messages.reloaded(next.config.file));
      protectionMayHaveChanged(); // blocking switched, the ignore list, the backend
      void sweepIgnores(); // the ignore file may now hold another timed entry
      return true;
    } catch (error) {
      log(messages.reloadFailed(error instanceof ConfigError ? error.message : (error as Error).message));
      return false;
    }
  };

  const reloadOnce = coalesceReloads(reload);

  // Two channels: the operator socket for the control group (the desktop app), and root's
  // own admin socket. Which one a connection came in on is its role; see rpc/control-socket.ts.
  const controls: ControlSocket[] = [];
  // One line for config and ignore-file edits, the timed-ignore sweep included, so an
  // operator's edit and the sweep never rewrite the file over each other.
  const edits = new RootFirstQueue(MAX_WAITING_OPERATOR_EDITS, 'settings or ignore-list changes');
  // One timer, set for the next timed entry's end (never polling while none is due), set
  // again after every sweep and every reload (an edit may have added or removed one).
  let ignoreTimer: NodeJS.Timeout | null = null;
  const sweepAt = (when: number | null) => {
    if (ignoreTimer !== null) clearTimeout(ignoreTimer);
    ignoreTimer = null;
    if (when === null) return;
    ignoreTimer = setTimeout(() => void sweepIgnores(), Math.min(Math.max(0, when - Date.now()), IGNORE_SWEEP_MAX_SLEEP_MS));
    ignoreTimer.unref();
  };
  sweepIgnores = async () => {
    try {
      const { expired, next } = await edits.run('admin', () => sweepExpiredIgnores(settings.config.ignoreFile, Date.now(), reloadOnce));
      for (const entry of expired) log(messages.warning(`${entry} is no longer ignored: the time it was allowed for is up`));
      sweepAt(next);
    } catch (error) {
      log(messages.error(`could not remove the ignore entries whose time is up: ${(error as Error).message}`));
      sweepAt(Date.now() + IGNORE_SWEEP_MAX_SLEEP_MS);
    }
  };
  void sweepIgnores();
  const handlers = controlHandlers({
    edits,
    daemon,
    store,
    configPath,
    embeddedConfigText: EMBEDDED_CONFIG_TEXT,
    version: PRODUCT_VERSION_DESKTOP,
    startedAt,
    clock: Date.now,
    reload: reloadOnce,
    extraStatus: () => fleetAndMetrics.status(),
    firewallHealth: () => response.firewallHealth(),
  });
  const channels = [
    { role: 'operator' as const, path: settings.config.rpcSocket },
    { role: 'admin' as const, path: settings.config.rpcAdminSocket },
  ];
  for (const { role, path: socketPath } of channels) {
    if (socketPath === '') continue;
    let groupId: number | null = null;
    if (role === 'operator') {
      groupId = await lookupGroupId(settings.config.rpcGroup);
      if (groupId === null) log(messages.warning(`group ${settings.config.rpcGroup} does not exist; only root can use the control socket`));
    }
    const server = new ControlSocket({ path: socketPath, role, groupId, log }, handlers);
    try {
      await server.listen();
      controls.push(server);
      log(role === 'operator' ? messages.controlListening(socketPath) : messages.adminControlListening(socketPath));
    } catch (error) {
      // Detection must not depend on the control channel: run without it and say why.
      log(messages.error(`${role === 'operator' ? 'control' : 'admin control'} socket ${socketPath} unavailable: ${(error as Error).message}`));
    }
  }
  control = {
    broadcast: (event) => {
      for (const server of controls) server.broadcast(event);
    },
    push: (method, params) => {
      for (const server of controls) server.push(method, params);
    },
    get connectionCount() {
      return controls.reduce((sum, server) => sum + server.connectionCount, 0);
    },
    close: async () => {
      await Promise.all(controls.map((server) => server.close()));
    },
  };
  let lastProtection = JSON.stringify(protectionState(daemon, () => response.firewallHealth()));
  pushProtection = () => {
    const state = protectionState(daemon, () => response.firewallHealth());
    const key = JSON.stringify(state);
    if (key === lastProtection) return;
    lastProtection = key;
    control?.push('protection', state);
  };

  return {
    daemon,
    store,
    reload: reloadOnce,
    shutdown: async () => {
      for (const line of messages.shuttingDown()) log(line);
      clearInterval(pruneTimer);
      if (ignoreTimer !== null) clearTimeout(ignoreTimer);
      await fleetAndMetrics.stop();
      await daemon.stop();
      await structured.close();
      if (unwritten.length > 0) writeEvents();
      await control?.close();
      await response.stop();
      store.close();
      await moveDamagedStoreAside(store, settings.config.storeFile, log);
      await syslog.close();
    },
  };
}

/**
 * A store SQLite found damaged while the helper ran is moved aside once it is closed, so the
 * next start begins a new one (the start-up checks read only part of a big store and might
 * pass it); the kernel's blocks are adopted into the new one then.
 */
async function moveDamagedStoreAside(store: EventStore, file: string, log: (m: string) => void): Promise<void> {
  if (!store.damaged || store.file !== file || store.detached) return;
  try {
    const moved = await moveStoreAside(file, Date.now());
    log(messages.error(`the event store ${file} is damaged; moved it to ${moved}; the next start begins a new, empty store`));
  } catch (error) {
    log(messages.error(`the event store ${file} is damaged and could not be moved aside: ${(error as Error).message}`));
  }
}

function historyFor(config: PortSentryConfig, log: (m: string) => void): HistoryWriter {
  return new HistoryWriter(config.historyFile, config.blockedFile, (problem) => log(messages.error(problem)));
}
