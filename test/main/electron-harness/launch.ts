// Starts dist/main/electron/main.js as its own process under the electron harness
// (register.ts), the way `electron .` would start it, and talks to the harness over the
// child-process IPC channel: what the tray shows, clicking its items, evaluating in a window.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HarnessCommand, HarnessState } from './electron.js';

export const MAIN = fileURLToPath(new URL('../../../main/electron/main.js', import.meta.url));
const REGISTER = new URL('./register.js', import.meta.url).href;

export interface LaunchOptions {
  readonly userData: string;
  readonly socketPath: string;
  readonly env?: Record<string, string>;
  readonly platform?: 'linux' | 'darwin' | 'win32';
  /** What showMessageBox answers (button index). */
  readonly dialogResponse?: number;
}

export interface AppProcess {
  readonly child: ChildProcess;
  /** Resolves when the app process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  send(command: HarnessCommand): Promise<unknown>;
  state(): Promise<HarnessState>;
  /** Polls the state until check returns true. */
  waitFor(what: string, check: (state: HarnessState) => boolean, timeoutMs?: number): Promise<HarnessState>;
  kill(): Promise<void>;
}

export function launchApp(options: LaunchOptions): AppProcess {
  const child = spawn(process.execPath, ['--unhandled-rejections=warn', '--import', REGISTER, MAIN], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: {
      ...process.env,
      PORTSENTRY_SOCKET: options.socketPath,
      HARNESS_USER_DATA: options.userData,
      HARNESS_DIALOG_RESPONSE: String(options.dialogResponse ?? 0),
      ...(options.platform === undefined ? {} : { HARNESS_PLATFORM: options.platform }),
      ...(options.env ?? {}),
    },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let alive = true;
  void exited.then(() => (alive = false));

  let nextId = 1;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on('message', (message: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const entry = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.ok) entry?.resolve(message.result);
    else entry?.reject(new Error(message.error));
  });
  void exited.then(() => {
    for (const entry of waiting.values()) entry.reject(new Error(`the app exited; output:\n${text.slice(-3000)}`));
    waiting.clear();
  });

  const send = (command: HarnessCommand): Promise<unknown> => {
    if (!alive) return Promise.reject(new Error(`the app is not running; output:\n${text.slice(-3000)}`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      child.send({ id, command });
    });
  };
  const state = () => send({ cmd: 'state' }) as Promise<HarnessState>;

  return {
    child,
    exited,
    output: () => text,
    send,
    state,
    waitFor: async (what, check, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await state();
        if (check(current)) return current;
        if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}; last state: ${JSON.stringify(current).slice(0, 3000)}\noutput:\n${text.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    kill: async () => {
      if (!alive) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
