// Builds the concrete response actions a config asks for: which firewall backend (our
// nftables table, the admin's KILL_ROUTE command, or none), how KILL_RUN_CMD runs, and where
// KILL_HOSTS_DENY lines go. The one place that maps config keys to responder modules.

import type { PortSentryConfig } from '../config/config.js';
import type { BlockBackend } from '../firewall/block-backend.js';
import { CommandBackend, describeCommandFailure, runCommand } from './command-runner.js';
import { appendHostsDenyLine } from './hosts-deny.js';
import { NftablesBackend } from '../firewall/nftables-backend.js';
import { PfBackend } from '../firewall/pf-backend.js';
import { WindowsFirewallBackend } from '../firewall/windows-firewall-backend.js';
import { messages } from '../reporters/messages.js';
import { cleanText } from '../reporters/clean-text.js';
import type { CommandOutcome, ResponseActions } from './responder.js';
import { FirewallOwner, type FirewallHealth } from '../firewall/firewall-owner.js';
import { BlockLedger } from '../firewall/block-ledger.js';

export interface ResponseActionsHandle {
  readonly actions: ResponseActions;
  /** Whether the kernel holds what the helper believes; null without a firewall backend. */
  firewallHealth(): FirewallHealth | null;
  /** Addresses the firewall already drops (e.g. from before a restart). */
  existingBlocks(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * `ledger`: the helper's record of its blocks, kept across reloads; a new backend (another
 * table, another kind) is brought up holding every block in it.
 */
export async function createResponseActions(config: PortSentryConfig, log: (m: string) => void, ledger: BlockLedger = new BlockLedger(), onHealthChange?: () => void): Promise<ResponseActionsHandle> {
  const backend = createBackend(config, log);
  // Every change to the kernel goes through its one owner, which also keeps it true.
  const firewall = backend === null ? null : new FirewallOwner(backend, ledger, { log, clock: Date.now, ...(onHealthChange === undefined ? {} : { onHealthChange }) });
  const blocking = config.blockTcp === 1 || config.blockUdp === 1;
  if (firewall !== null) {
    try {
      await firewall.start();
    } catch (error) {
      const why = `the ${firewall.name} firewall backend could not start: ${(error as Error).message}`;
      // Blocking was asked for: refusing to start beats pretending to protect the host.
      if (blocking) throw new Error(why, { cause: error });
      log(messages.warning(why));
    }
  }
  const actions: ResponseActions = {
    firewall,
    runCommand: async (argv): Promise<CommandOutcome> => {
      const result = await runCommand(argv);
      // The admin's program writes what it likes: bounded and cleaned here, where the text is made.
      return { ok: result.ok, detail: result.ok ? '' : cleanText(describeCommandFailure(result), 300) };
    },
    addHostsDenyLine: async (line) => {
      await appendHostsDenyLine(config.hostsDenyFile, line);
    },
  };
  return {
    actions,
    firewallHealth: () => firewall?.health() ?? null,
    existingBlocks: async () => (firewall === null ? [] : firewall.list().catch(() => [])),
    stop: async () => firewall?.stop(),
  };
}

/** True when two configs need the same backend, so a reload can keep the running one. */
export function sameResponseSetup(a: PortSentryConfig, b: PortSentryConfig): boolean {
  return a.blockBackend === b.blockBackend && a.nftTable === b.nftTable && a.killRoute?.raw === b.killRoute?.raw && a.blockSetSize === b.blockSetSize && a.blockPrefix6 === b.blockPrefix6;
}

export async function removeFirewall(config: PortSentryConfig): Promise<void> {
  await (createBackend(config) ?? new NftablesBackend({ table: config.nftTable })).remove();
}

/** Disarms a kernel trap left by a helper that did not stop itself (see disarmLeftoverTrap). */
export async function disarmLeftoverTrap(table: string): Promise<'no-table' | 'not-armed' | 'was-armed'> {
  return new NftablesBackend({ table }).disarmLeftoverTrap();
}

function createBackend(config: PortSentryConfig, log?: (m: string) => void): BlockBackend | null {
  switch (config.blockBackend) {
    case 'nftables':
      return new NftablesBackend({ table: config.nftTable, setSize: config.blockSetSize, prefix6: config.blockPrefix6, ...(log === undefined ? {} : { log }) });
    case 'pf':
      return new PfBackend();
    case 'windows-firewall':
      return new WindowsFirewallBackend();
    case 'command':
      return config.killRoute === null ? null : new CommandBackend(config.killRoute);
    case 'none':
      return null;
  }
}
