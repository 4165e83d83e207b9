// Command-line arguments of portsentryd: the classic mode flags (several at once, which the
// original could not do), a config path, and a few maintenance actions. Pure. Without mode
// flags the config's MODES key decides (and can be changed while running); flags, when
// given, win, as they did in PortSentry 1.2.

import { ALL_MODES, type Mode } from '../../shared/domain/types.js';

export interface DaemonArgs {
  readonly action: 'run' | 'check-config' | 'remove-firewall' | 'disarm-trap' | 'help' | 'version';
  /** The modes the flags name; ['tcp', 'udp'] (MODES' default) when none was given. */
  readonly modes: readonly Mode[];
  /** True when at least one mode flag was given: then the flags win over MODES. */
  readonly modesFromFlags: boolean;
  readonly configPath: string | null;
}

/** The modes the flags fix, or null when MODES (the config) decides. */
export function flagModes(args: Pick<DaemonArgs, 'modes' | 'modesFromFlags'>): readonly Mode[] | null {
  return args.modesFromFlags ? args.modes : null;
}

export const USAGE = `usage: portsentryd [-tcp] [-udp] [-stcp] [-atcp] [-sudp] [-audp] [-c|--config FILE]
       portsentryd --check-config [-c FILE]      validate the config and ignore file, then exit
       portsentryd --remove-firewall [-c FILE]   delete the helper's nftables table, then exit
       portsentryd --disarm-trap [-c FILE]       disarm a kernel trap a stopped helper left armed
                                                 (blocks stay; the systemd unit runs it after every stop)
Modes: -tcp/-udp bind the tripwire ports; -stcp/-sudp watch them without binding (packet capture);
-atcp/-audp watch every unused port below ADVANCED_PORTS_*. Without a mode flag, the config's
MODES key decides (default "tcp udp"); mode flags win over it.
Without -c, the embedded defaults are used.`;

export class UsageError extends Error {}

export function parseDaemonArgs(argv: readonly string[]): DaemonArgs {
  const modes: Mode[] = [];
  let configPath: string | null = null;
  let action: DaemonArgs['action'] = 'run';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const mode = arg.startsWith('-') && !arg.startsWith('--') ? (arg.slice(1) as Mode) : null;
    if (mode !== null && ALL_MODES.includes(mode)) {
      if (!modes.includes(mode)) modes.push(mode);
    } else if (arg === '-c' || arg === '--config') {
      const value = argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${arg} needs a file path`);
      configPath = value;
    } else if (arg.startsWith('--config=')) {
      configPath = arg.slice('--config='.length);
      if (configPath === '') throw new UsageError('--config needs a file path');
    } else if (arg === '--check-config') action = 'check-config';
    else if (arg === '--remove-firewall') action = 'remove-firewall';
    else if (arg === '--disarm-trap') action = 'disarm-trap';
    else if (arg === '-h' || arg === '--help') action = 'help';
    else if (arg === '-v' || arg === '--version') action = 'version';
    else throw new UsageError(`unknown argument "${arg.replace(/[^\x20-\x7e]/g, '?').slice(0, 40)}"`);
  }
  return { action, modes: modes.length > 0 ? modes : ['tcp', 'udp'], modesFromFlags: modes.length > 0, configPath };
}
