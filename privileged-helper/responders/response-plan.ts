// What to do once a source crosses SCAN_TRIGGER, following the original's BLOCK_TCP /
// BLOCK_UDP meaning: 0 = report only, 1 = hosts.deny + route (firewall) + KILL_RUN_CMD,
// 2 = KILL_RUN_CMD only; KILL_RUN_CMD_FIRST moves the command to the front. Steps inside
// one stage run together; stages run in order. Pure.

import type { Protocol } from '../../shared/domain/types.js';
import type { PortSentryConfig } from '../config/config.js';

export type ResponseStep = 'hosts-deny' | 'firewall' | 'run-command';
export type ResponsePlan = ReadonlyArray<readonly ResponseStep[]>;

export function responsePlan(config: PortSentryConfig, protocol: Protocol): ResponsePlan {
  const level = protocol === 'tcp' ? config.blockTcp : config.blockUdp;
  const runCommand: ResponseStep[] = config.killRunCmd === null ? [] : ['run-command'];
  if (level === 0) return [];
  if (level === 2) return runCommand.length > 0 ? [runCommand] : [];
  const blocking: ResponseStep[] = [];
  if (config.killHostsDeny !== null) blocking.push('hosts-deny');
  if (config.blockBackend !== 'none') blocking.push('firewall');
  const stages = config.killRunCmdFirst ? [runCommand, blocking] : [blocking, runCommand];
  return stages.filter((stage) => stage.length > 0);
}

/** True when the plan puts the source behind the firewall (so the block has a lifetime). */
export function planBlocks(plan: ResponsePlan): boolean {
  return plan.some((stage) => stage.includes('firewall'));
}
