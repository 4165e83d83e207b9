// Start-up and lifetime of portsentryd: load and check the config, bring up the firewall
// backend and reporters, bind the sensors, then live until a signal. SIGHUP reloads (a bad
// new config keeps the old one running); SIGTERM/SIGINT stop cleanly, leaving blocks in place.

import { ConfigError } from '../config/conf-file.js';
import type { PortSentryConfig } from '../config/config.js';
import type { Mode } from '../core/types.js';
import { HistoryWriter } from '../reporters/history-file.js';
import { messages } from '../reporters/messages.js';
import { SyslogReporter } from '../reporters/syslog.js';
import { checkModes, loadConfig, loadIgnoreList } from './config-loader.js';
import { Daemon, type DaemonSettings } from './daemon.js';
import { hostAddresses } from './local-addresses.js';
import { createResponseActions, sameResponseSetup, type ResponseActionsHandle } from './response-actions.js';

export interface RunningDaemon {
  readonly daemon: Daemon;
  reload(): Promise<boolean>;
  shutdown(): Promise<void>;
}

/** Loads everything a run needs; throws ConfigError with file:line on any problem. */
export async function loadSettings(configPath: string | null, modes: readonly Mode[], warn: (m: string) => void): Promise<DaemonSettings> {
  const config = await loadConfig(configPath);
  checkModes(config, modes);
  const ignore = await loadIgnoreList(config.ignoreFile);
  if (ignore.missing) warn(messages.warning(`ignore file ${config.ignoreFile} does not exist; only this host's own addresses are ignored`));
  return { config, ignore: ignore.entries, modes };
}

export async function runDaemon(configPath: string | null, modes: readonly Mode[]): Promise<RunningDaemon> {
  const initialConfig = await loadConfig(configPath);
  const syslog = new SyslogReporter({ socketPath: initialConfig.syslogSocket });
  const log = (message: string) => syslog.log(message);
  log(messages.starting());

  let settings: DaemonSettings;
  let response: ResponseActionsHandle;
  let daemon: Daemon;
  try {
    settings = await loadSettings(configPath, modes, log);
    response = await createResponseActions(settings.config, log);
  } catch (error) {
    await syslog.close();
    throw error;
  }
  const history = historyFor(settings.config, log);
  await history.resetBlockedFiles(modes);
  daemon = new Daemon(settings, { clock: Date.now, log, actions: response.actions, history, hostAddresses });
  for (const address of await response.existingBlocks()) daemon.restoreBlock(address, null);
  try {
    await daemon.start();
  } catch (error) {
    await daemon.stop();
    await response.stop();
    await syslog.close();
    throw error;
  }

  let reloading: Promise<boolean> | null = null;
  const reload = async (): Promise<boolean> => {
    try {
      const next = await loadSettings(configPath, modes, log);
      if (!sameResponseSetup(settings.config, next.config)) {
        const replacement = await createResponseActions(next.config, log);
        await response.stop();
        response = replacement;
        daemon.setActions(response.actions);
      }
      await daemon.reconfigure(next);
      settings = next;
      log(messages.reloaded(next.config.file));
      return true;
    } catch (error) {
      log(messages.reloadFailed(error instanceof ConfigError ? error.message : (error as Error).message));
      return false;
    }
  };

  return {
    daemon,
    reload: () => (reloading ??= reload().finally(() => (reloading = null))),
    shutdown: async () => {
      log(messages.shuttingDown());
      await daemon.stop();
      await response.stop();
      await syslog.close();
    },
  };
}

function historyFor(config: PortSentryConfig, log: (m: string) => void): HistoryWriter {
  return new HistoryWriter(config.historyFile, config.blockedFile, (problem) => log(messages.error(problem)));
}
