// portsentryctl as the tests drive it: the real command on a helper's socket, as root or as a
// given user (runuser), answering with its exit code and output instead of throwing; and the
// events of one host, read back through it.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CTL = fileURLToPath(new URL('../../privileged-helper/bin/portsentryctl.js', import.meta.url));

export interface CtlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type Ctl = (args: readonly string[]) => Promise<CtlResult>;

/** portsentryctl on `socketPath`, run by root, or by `asUser` when given. */
export function portsentryctl(socketPath: string, asUser?: string): Ctl {
  return async (args) => {
    const command = [process.execPath, CTL, '--socket', socketPath, ...args];
    const [file, ...argv] = asUser === undefined ? command : ['runuser', '-u', asUser, '--', ...command];
    return run(file!, argv).then(
      (r) => ({ code: 0, stdout: String(r.stdout), stderr: String(r.stderr) }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') }),
    );
  };
}

/** One stored event as `events --json` prints it (the fields the tests look at). */
export interface CtlEvent {
  readonly type: string;
  readonly source?: string;
  readonly port?: number;
  readonly mode?: string;
  readonly action?: string;
}

/** The stored events of one host (the latest 200). */
export async function eventsOf(ctl: Ctl, host: string): Promise<CtlEvent[]> {
  const result = await ctl(['--json', 'events', '--host', host, '--limit', '200']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as CtlEvent);
}
