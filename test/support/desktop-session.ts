// A private desktop for notification tests: Xvfb on a display number it picks itself (no clash
// with another suite or the machine's own X), a private D-Bus session bus, and dunst, the
// notification daemon, on it. All three are children of the test process and stop() ends them;
// nothing of the machine's own session is used.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { untilValue } from './wait.js';

const run = promisify(execFile);

export interface DesktopSession {
  /** The test process's environment with DISPLAY and DBUS_SESSION_BUS_ADDRESS of this session. */
  readonly env: NodeJS.ProcessEnv;
  readonly busAddress: string;
  /** Runs dunstctl against this session's dunst; resolves with its trimmed output. */
  dunstctl(args: readonly string[]): Promise<string>;
  /** Ends dunst and starts a new one (a new owner of the notification service on the bus); resolves once it answers. */
  restartDunst(): Promise<void>;
  stop(): Promise<void>;
}

/** The first line a child writes to stdout (Xvfb's display number, dbus-daemon's address). */
function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
    });
    child.once('exit', (code, signal) => reject(new Error(`${what} exited (${code ?? signal}) before it was ready`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts Xvfb, dbus-daemon and dunst; `dir` holds the bus socket, `dunstConfig` is dunst's
 * config file (/dev/null for its defaults). Resolves once dunst answers on the bus.
 */
export async function startDesktopSession(dir: string, dunstConfig = '/dev/null'): Promise<DesktopSession> {
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) {
      child.kill();
      await exited(child);
    }
  };
  try {
    // -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
    const xvfb = spawn('Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '800x600x24'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(xvfb);
    // Not --fork: a child of this process is reaped here, not left a zombie of init.
    const dbus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${join(dir, 'bus')}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(dbus);
    const [display, busAddress] = await Promise.all([firstLine(xvfb, 'Xvfb'), firstLine(dbus, 'dbus-daemon')]);
    const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: `:${display}`, DBUS_SESSION_BUS_ADDRESS: busAddress };
    const dunstctl = async (args: readonly string[]) => (await run('dunstctl', [...args], { env })).stdout.trim();
    const startDunst = async () => {
      const dunst = spawn('dunst', ['-config', dunstConfig], { env, stdio: 'ignore' });
      children.push(dunst);
      await untilValue('dunst answers on the bus', async () => ((await dunstctl(['is-paused']).catch(() => '')) === 'false' ? true : undefined));
      return dunst;
    };
    let dunst = await startDunst();
    const restartDunst = async () => {
      const old = dunst;
      old.kill();
      await exited(old);
      children.splice(children.indexOf(old), 1);
      dunst = await startDunst();
    };
    return { env, busAddress, dunstctl, restartDunst, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
