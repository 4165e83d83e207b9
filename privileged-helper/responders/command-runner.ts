// Runs the admin's KILL_ROUTE / KILL_RUN_CMD programs. Always an argument vector through
// execFile, never a shell: the address was validated before it was substituted, and even
// so it can only ever be one word of one command.

import { execFile } from 'node:child_process';
import { parseAddress } from '../../shared/domain/address.js';
import { BlockError, type BlockBackend, type BlockOptions } from './block-backend.js';
import { renderCommand, type CommandTemplate } from '../../shared/domain/command-template.js';

export interface CommandResult {
  readonly ok: boolean;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

/** A hung admin script must not hold a response forever. */
const COMMAND_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 256 * 1024;

export function runCommand(argv: readonly [string, ...string[]], timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  const [program, ...args] = argv;
  return new Promise((resolve) => {
    execFile(program, args, { shell: false, timeout: timeoutMs, maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve({ ok: true, argv, exitCode: 0, signal: null, stderr: String(stderr) });
        return;
      }
      const failure = error as NodeJS.ErrnoException & { code?: number | string; signal?: string | null };
      // A program that could not be started at all (ENOENT, EACCES) has a string code.
      const startError = typeof failure.code === 'string' ? `${failure.code}: cannot run ${program}` : '';
      resolve({
        ok: false,
        argv,
        exitCode: typeof failure.code === 'number' ? failure.code : null,
        signal: failure.signal ?? null,
        stderr: startError !== '' ? startError : String(stderr),
      });
    });
  });
}

/** "exit status 3: <last stderr line>" or "killed by SIGTERM", for logs and errors. */
export function describeCommandFailure(result: Pick<CommandResult, 'exitCode' | 'signal' | 'stderr'>): string {
  const status = result.signal !== null ? `killed by ${result.signal}` : `exit status ${String(result.exitCode)}`;
  const tail = result.stderr.trim().split('\n').slice(-1)[0] ?? '';
  return tail === '' ? status : `${status}: ${tail.slice(0, 200)}`;
}

/**
 * KILL_ROUTE as a firewall backend: the admin's command blocks, and we remember what it
 * blocked in this run. Classic KILL_ROUTE commands have no inverse, so unblock is refused
 * with a message that says so rather than pretending.
 */
export class CommandBackend implements BlockBackend {
  readonly name = 'KILL_ROUTE';
  readonly prefixes = false;
  private readonly blocked = new Set<string>();

  constructor(private readonly template: CommandTemplate) {}

  async start(): Promise<void> {}

  async block(address: string, options: BlockOptions = {}): Promise<void> {
    const parsed = parseAddress(address);
    if (parsed === null) throw new BlockError('invalid-address', `refusing to block "${address}": not an IP address`);
    const argv = renderCommand(this.template, { target: parsed.address, port: options.port ?? 0, mode: options.mode ?? '' });
    const result = await runCommand(argv);
    if (!result.ok) throw new BlockError('command-failed', `KILL_ROUTE command "${argv.join(' ')}" failed (${describeCommandFailure(result)})`);
    this.blocked.add(parsed.address);
  }

  async unblock(address: string): Promise<void> {
    if (!this.blocked.has(address)) return;
    throw new BlockError(
      'backend-unavailable',
      `KILL_ROUTE commands cannot be undone automatically; remove the block of ${address} by hand, or use BLOCK_BACKEND="nftables"`,
    );
  }

  async list(): Promise<string[]> {
    return [...this.blocked];
  }

  async stop(): Promise<void> {}

  async remove(): Promise<void> {}
}
