#!/usr/bin/env node
// portsentryd: the privileged helper as a command. Classic flags (-tcp -udp ...), a config
// path, and maintenance actions; exit 2 on a usage or config error with one clear line.
// Only what binding the tripwires needs is loaded before they are bound; the rest of the
// helper (firewall, store, capture, control socket) is imported after (start-up speed).

import { ConfigError } from '../config/conf-file.js';
import { flagModes, parseDaemonArgs, USAGE, UsageError } from './cli-args.js';
import { checkModes, loadConfig } from '../config/config-loader.js';
import { bindTripwiresEarly } from '../sensors/early-tripwires.js';
import { PRODUCT_VERSION } from '../reporters/messages.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseDaemonArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`portsentryd: ${error.message}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  switch (args.action) {
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case 'version':
      process.stdout.write(`portsentryd (PortSentry Desktop) compatible with PortSentry ${PRODUCT_VERSION}\n`);
      return 0;
    case 'check-config': {
      const { loadSettings } = await import('./run-daemon.js');
      const settings = await loadSettings(args.configPath, flagModes(args), (m) => process.stderr.write(`${m}\n`));
      process.stdout.write(`${settings.config.file}: OK (${settings.ignore.length} ignore entries)\n`);
      return 0;
    }
    case 'disarm-trap': {
      // Run by the systemd unit after every stop, a crash or a kill included: a helper that
      // could not disarm its trap itself must not leave it dropping new senders' probes. A
      // config that no longer parses still names no other table than the default's.
      const { loadConfig } = await import('../config/config-loader.js');
      const { disarmLeftoverTrap } = await import('../responders/response-actions.js');
      const { CONFIG_KEYS } = await import('../../shared/domain/config-keys.js');
      let table = CONFIG_KEYS.NFT_TABLE.defaultText;
      try {
        table = (await loadConfig(args.configPath)).nftTable;
      } catch (error) {
        process.stderr.write(`portsentryd: ${(error as Error).message}; disarming the trap in table inet ${table}\n`);
      }
      const found = await disarmLeftoverTrap(table);
      process.stdout.write(
        {
          'no-table': `no nftables table inet ${table}: nothing to disarm\n`,
          'not-armed': `the kernel trap in table inet ${table} was not armed (the helper disarmed it as it stopped)\n`,
          'was-armed': `WARNING: the helper left its kernel trap in table inet ${table} armed (it did not stop cleanly); disarmed it, blocks kept\n`,
        }[found],
      );
      return 0;
    }
    case 'remove-firewall': {
      const { loadSettings } = await import('./run-daemon.js');
      const { removeFirewall } = await import('../responders/response-actions.js');
      const { forgetStoredBlocks } = await import('../store/event-store.js');
      const settings = await loadSettings(args.configPath, flagModes(args), () => undefined);
      await removeFirewall(settings.config);
      // The store would otherwise re-apply every block at the next start.
      const forgotten = forgetStoredBlocks(settings.config.storeFile, 'firewall removed by the admin (--remove-firewall)');
      process.stdout.write(`removed nftables table inet ${settings.config.nftTable}${forgotten > 0 ? ` and forgot ${forgotten} stored blocks` : ''}\n`);
      return 0;
    }
    case 'run':
      break;
  }
  // Signals are caught from the first moment: a SIGHUP that arrives while the tripwires are
  // still being bound must not kill the daemon (the default action), only wait its turn.
  let stopRequested = false;
  let reloadRequested = false;
  let onStop = () => {
    stopRequested = true;
  };
  let onReload = () => {
    reloadRequested = true;
  };
  process.on('SIGTERM', () => onStop());
  process.on('SIGINT', () => onStop());
  process.on('SIGHUP', () => onReload());
  // The tripwires first (a config error still stops here, before anything is bound); what
  // they catch while the rest starts is queued and handled once it is up.
  const early = await withCheapRegExps(async () => {
    const config = await loadConfig(args.configPath);
    // Mode flags win; without them the config's MODES decides (and may change while running).
    const modes = flagModes(args) ?? config.modes;
    checkModes(config, modes);
    return bindTripwiresEarly(config, modes, Date.now);
  });
  const { runDaemon } = await import('./run-daemon.js');
  const running = await runDaemon(args.configPath, flagModes(args), early);
  return new Promise<number>((resolve) => {
    let stopping = false;
    onStop = () => {
      if (stopping) return;
      stopping = true;
      void running.shutdown().then(() => resolve(0));
    };
    onReload = () => void running.reload();
    if (stopRequested) onStop();
    else if (reloadRequested) onReload();
  });
}

/**
 * Runs start-up up to the bound tripwires with V8's regular-expression optimizer off. Node
 * checks every address it listens on against its IPv6 pattern (net.isIPv6, inside listen()),
 * and compiling that one pattern optimized costs 10 to 50 ms on the way to the first bound
 * port (measured on 2 loaded cores); unoptimized, about 1 ms, and it matches the same. The
 * optimizer is back on afterwards, so the patterns the running daemon first uses later are
 * compiled as usual; the few compiled before (the IPv6 pattern, the config parser's) stay
 * unoptimized, which costs a microsecond a match at most. Node warns that flags changed after
 * start may behave unpredictably; this one is only read when a pattern is compiled and both
 * settings compile patterns that match the same strings, which the e2e suite exercises.
 */
async function withCheapRegExps<T>(work: () => Promise<T>): Promise<T> {
  // getBuiltinModule: node:v8 without an ESM facade to build (start-up time).
  const { setFlagsFromString } = process.getBuiltinModule('node:v8');
  setFlagsFromString('--no-regexp-optimization');
  try {
    return await work();
  } finally {
    setFlagsFromString('--regexp-optimization');
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`portsentryd: ${error.message}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`portsentryd: ${(error as Error).message ?? String(error)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
