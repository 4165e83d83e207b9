// The one way the helper runs a program: the admin's KILL_ROUTE / KILL_RUN_CMD, and the
// firewall tools (nft, pfctl, netsh). Always an argument vector through execFile, never a
// shell: an address was validated before it was substituted, and even so it can only ever be
// one word of one command. Output is bounded, a hung program is killed, and a failure comes
// back as one clean line a person can read.

import { execFile } from 'node:child_process';
import { parseAddress } from '../../shared/domain/address.js';
import { BlockError, type BlockBackend, type BlockOptions } from '../firewall/block-backend.js';
import { renderCommand, type CommandTemplate } from '../../shared/domain/command-template.js';

/** What a program did: its exit status (or the signal that killed it) and its output. */
export interface ProgramResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Written to the program's stdin, which is then closed. */
  readonly stdin?: string;
  /** A program still running after this is killed (SIGTERM). */
  readonly timeoutMs?: number;
  /** Output beyond this (stdout or stderr) kills the program. */
  readonly maxOutputBytes?: number;
  /** Told the child's process id once it runs (the firewall owner tells its own nft changes from others'). */
  readonly onSpawn?: (pid: number) => void;
}

/** A hung program must not hold a response forever. */
export const PROGRAM_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 256 * 1024;
const DETAIL_CHARS = 200;

/**
 * Runs argv and resolves with what it did, whatever its exit status. Rejects only when the
 * program could not be started at all (missing, not executable): 'backend-unavailable'.
 */
export function runProgram(argv: readonly [string, ...string[]], options: RunOptions = {}): Promise<ProgramResult> {
  const [program, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = execFile(
      program,
      args,
      { shell: false, timeout: options.timeoutMs ?? PROGRAM_TIMEOUT_MS, maxBuffer: options.maxOutputBytes ?? MAX_OUTPUT_BYTES, windowsHide: true, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ code: 0, signal: null, stdout, stderr });
          return;
        }
        const failure = error as NodeJS.ErrnoException & { code?: number | string; signal?: string | null };
        // A program that could not be started (ENOENT, EACCES) has a string code and no signal.
        if (typeof failure.code === 'string' && failure.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          reject(new BlockError('backend-unavailable', `${failure.code}: cannot run ${program}`));
          return;
        }
        const tooMuch = failure.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' ? `\n${program} printed more than ${options.maxOutputBytes ?? MAX_OUTPUT_BYTES} bytes` : '';
        resolve({ code: typeof failure.code === 'number' ? failure.code : null, signal: failure.signal ?? null, stdout, stderr: `${stderr}${tooMuch}` });
      },
    );
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.stdin?.on('error', () => undefined); // a program that exits early (or never started) closes its stdin
    child.stdin?.end(options.stdin ?? '');
  });
}

/**
 * "exit status 3: <the line that says why>" or "killed by SIGTERM", for logs and errors. The
 * line is nft's "Error: ..." where there is one, else the last line that is not noise;
 * control characters go, and it is cut to a readable length.
 */
export function describeFailure(result: Pick<ProgramResult, 'code' | 'signal' | 'stdout' | 'stderr'>, noise?: RegExp): string {
  const status = result.signal !== null ? `killed by ${result.signal}` : `exit status ${String(result.code)}`;
  const lines = `${result.stdout}\n${result.stderr}`
    .split(/\r?\n/)
    .map((line) => line.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim())
    .filter((line) => line !== '' && (noise === undefined || !noise.test(line)));
  const detail = lines.find((line) => line.startsWith('Error:')) ?? lines[lines.length - 1] ?? '';
  return detail === '' ? status : `${status}: ${detail.slice(0, DETAIL_CHARS)}`;
}

/** An argv as a person would type it: words with blanks or quotes in double quotes. */
export function displayArgv(argv: readonly string[]): string {
  return argv.map((word) => (word === '' || /[\s"'\\]/.test(word) ? `"${word.replace(/(["\\])/g, '\\$1')}"` : word)).join(' ');
}

/** The runner a firewall backend uses; tests inject a recorder with this shape. */
export type ToolRunner = (argv: readonly [string, ...string[]], stdin?: string) => Promise<ProgramResult>;

export const runTool: ToolRunner = (argv, stdin) => runProgram(argv, stdin === undefined ? {} : { stdin });

export interface CommandResult {
  readonly ok: boolean;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

/** The admin's KILL_* programs: never rejects; a program that cannot start is a failed result. */
export async function runCommand(argv: readonly [string, ...string[]], timeoutMs = PROGRAM_TIMEOUT_MS): Promise<CommandResult> {
  try {
    const result = await runProgram(argv, { timeoutMs });
    return { ok: result.code === 0 && result.signal === null, argv, exitCode: result.code, signal: result.signal, stderr: result.stderr };
  } catch (error) {
    return { ok: false, argv, exitCode: null, signal: null, stderr: (error as Error).message };
  }
}

/** "exit status 3: <last stderr line>" or "killed by SIGTERM", for logs and errors. */
export function describeCommandFailure(result: Pick<CommandResult, 'exitCode' | 'signal' | 'stderr'>): string {
  return describeFailure({ code: result.exitCode, signal: result.signal, stdout: '', stderr: result.stderr });
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

  /** The real argv, as 1.2 logged its KILL_ROUTE line. */
  describeBlock(address: string, options: BlockOptions = {}): string {
    return displayArgv(this.argv(address, options));
  }

  async block(address: string, options: BlockOptions = {}): Promise<void> {
    const argv = this.argv(address, options);
    const result = await runCommand(argv);
    if (!result.ok) throw new BlockError('command-failed', `KILL_ROUTE command "${displayArgv(argv)}" failed (${describeCommandFailure(result)})`);
    this.blocked.add(parseAddress(address)!.address);
  }

  async unblock(address: string): Promise<void> {
    if (!this.blocked.has(address)) return;
    throw new BlockError('backend-unavailable', `KILL_ROUTE commands cannot be undone automatically; remove the block of ${address} by hand, or use BLOCK_BACKEND="nftables"`);
  }

  async list(): Promise<string[]> {
    return [...this.blocked];
  }

  async stop(): Promise<void> {}

  async remove(): Promise<void> {}

  private argv(address: string, options: BlockOptions): [string, ...string[]] {
    const parsed = parseAddress(address);
    if (parsed === null) throw new BlockError('invalid-address', `refusing to block "${String(address).slice(0, 64)}": not an IP address`);
    return renderCommand(this.template, { target: parsed.address, port: options.port ?? 0, mode: options.mode ?? '' });
  }
}
