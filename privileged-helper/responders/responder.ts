// Carries out a response plan for one scanner: hosts.deny line, firewall block, admin
// command, in the order the plan gives, and returns what happened as log lines and a
// verdict. Each action is injected, so this file holds only the order and the wording.

import type { Mode, Probe } from '../../shared/domain/types.js';
import type { PortSentryConfig } from '../config/config.js';
import type { BlockBackend } from '../firewall/block-backend.js';
import { renderCommand, substitute, type CommandVariables } from '../../shared/domain/command-template.js';
import { messages } from '../reporters/messages.js';
import type { ResponsePlan, ResponseStep } from './response-plan.js';

export interface CommandOutcome {
  readonly ok: boolean;
  /** A short reason when not ok (exit status, signal, stderr tail). */
  readonly detail: string;
}

export interface ResponseActions {
  readonly firewall: BlockBackend | null;
  runCommand(argv: readonly [string, ...string[]]): Promise<CommandOutcome>;
  /** Appends a line to the hosts.deny file unless it is there already. */
  addHostsDenyLine(line: string): Promise<void>;
}

export interface ResponseOutcome {
  /** Every step that was asked for succeeded. */
  readonly ok: boolean;
  /** The firewall now drops the source. */
  readonly firewalled: boolean;
  /** Log lines in the original's order. */
  readonly lines: readonly string[];
}

export async function carryOut(
  plan: ResponsePlan,
  probe: Probe,
  config: PortSentryConfig,
  actions: ResponseActions,
  /** What the firewall blocks: the source, or the prefix it belongs to (IPv6 aggregation). */
  firewallTarget: string = probe.source,
  /** A repeat offender's longer block, in seconds: it replaces whatever element the kernel trap added. */
  longerSeconds?: number,
): Promise<ResponseOutcome> {
  const vars: CommandVariables = { target: probe.source, port: probe.port, mode: probe.mode satisfies Mode };
  const lines: string[] = [];
  let ok = true;
  let firewalled = false;
  for (const stage of plan) {
    const results = await Promise.all(stage.map((step) => runStep(step, vars, probe, config, actions, firewallTarget, longerSeconds)));
    for (const result of results) {
      lines.push(result.line);
      ok &&= result.ok;
      firewalled ||= result.firewalled;
    }
  }
  return { ok, firewalled, lines };
}

interface StepResult {
  readonly ok: boolean;
  readonly firewalled: boolean;
  readonly line: string;
}

async function runStep(
  step: ResponseStep,
  vars: CommandVariables,
  probe: Probe,
  config: PortSentryConfig,
  actions: ResponseActions,
  firewallTarget: string,
  longerSeconds: number | undefined,
): Promise<StepResult> {
  try {
    switch (step) {
      case 'firewall': {
        if (actions.firewall === null) throw new Error('no firewall backend is available');
        const seconds = longerSeconds ?? config.blockTimeoutSeconds;
        const timeout = seconds > 0 ? { timeoutSeconds: seconds } : {};
        const options = { ...timeout, ...(longerSeconds === undefined ? {} : { replace: true }), port: vars.port, mode: vars.mode };
        // The kernel trap put it in the set already (and said so): learned, not done again,
        // unless a repeat offender's longer block must replace the trap's.
        if (probe.kernelBlocked !== true || longerSeconds !== undefined) await actions.firewall.block(firewallTarget, options);
        // A block wider than the address seen (its IPv6 prefix) says what it covers, after the command.
        const covers = firewallTarget === probe.source ? undefined : `covers ${firewallTarget}`;
        return { ok: true, firewalled: true, line: messages.blockedViaRoute(probe.source, actions.firewall.describeBlock(firewallTarget, options), covers) };
      }
      case 'hosts-deny': {
        const template = config.killHostsDeny as string;
        // TCP wrappers write IPv6 addresses in brackets.
        const line = substitute(template, { ...vars, target: probe.family === 6 ? `[${probe.source}]` : probe.source });
        await actions.addHostsDenyLine(line);
        return { ok: true, firewalled: false, line: messages.blockedViaWrappers(probe.source, line) };
      }
      case 'run-command': {
        const argv = renderCommand(config.killRunCmd!, vars);
        const outcome = await actions.runCommand(argv);
        const shown = argv.join(' ');
        return outcome.ok
          ? { ok: true, firewalled: false, line: messages.externalCommand(probe.source, shown) }
          : { ok: false, firewalled: false, line: messages.commandFailed(probe.source, shown, outcome.detail) };
      }
    }
  } catch (error) {
    return { ok: false, firewalled: false, line: messages.couldNotBlock(probe.source, `${step}: ${(error as Error).message}`) };
  }
}
