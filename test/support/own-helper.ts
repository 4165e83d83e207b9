// A test helper with a directory of its own: its ignore file, its portsentry.conf
// (helperConfigText: store, history, sockets all inside that directory) and the real
// portsentryd started on a lab host and waited for. So a test that runs several helpers one
// after another (one per mode) never restores a block, an event or a socket of another.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon, type DaemonOptions, type DaemonProcess } from './daemon-process.js';
import { helperConfigText } from './helper-config.js';
import type { Lab, LabHost } from './netns-lab.js';

/** The line a helper writes once it is up with every sensor, which tests wait for by default. */
export const ACTIVE_LINE = 'PortSentry is now active and listening';

export interface OwnHelper {
  readonly daemon: DaemonProcess;
  /** The helper's directory: ignore, portsentry.conf, run/helper.sock, events.db, history... */
  readonly dir: string;
  readonly conf: string;
  /** The control socket (RPC_SOCKET), unless the keys turned it off. */
  readonly socketPath: string;
  readonly table: string;
  /** Stops the helper and deletes its nftables table (blocks stay until then, as for a real one). */
  stop(): Promise<void>;
}

export interface OwnHelperOptions {
  /** The helper's own config keys; NFT_TABLE names its table, so tests never share one. */
  readonly keys: Readonly<Record<string, string>> & { readonly NFT_TABLE: string };
  /** portsentryd's arguments after `-c CONF` (mode flags); default none, so MODES governs. */
  readonly args?: readonly string[];
  /** The ignore file's text; default empty. */
  readonly ignore?: string;
  /** The config's first line (a comment saying whose it is). */
  readonly comment?: string;
  /** The log line that says it is up; default ACTIVE_LINE. */
  readonly ready?: string;
  readonly daemon?: DaemonOptions;
}

/** Writes `dir` (created if need be) and starts the helper on `host`; resolves once it logged `ready`. */
export async function startOwnHelper(lab: Lab, host: LabHost, dir: string, options: OwnHelperOptions): Promise<OwnHelper> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ignore'), options.ignore ?? '');
  const conf = join(dir, 'portsentry.conf');
  await writeFile(conf, helperConfigText(dir, options.keys, options.comment));
  const table = options.keys.NFT_TABLE;
  const daemon = startDaemon(lab, host, ['-c', conf, ...(options.args ?? [])], options.daemon);
  const helper: OwnHelper = {
    daemon,
    dir,
    conf,
    socketPath: options.keys['RPC_SOCKET'] ?? join(dir, 'run', 'helper.sock'),
    table,
    stop: async () => {
      await daemon.stop();
      await lab.exec(host, ['nft', 'delete', 'table', 'inet', table], { allowFailure: true });
    },
  };
  try {
    await daemon.waitFor(options.ready ?? ACTIVE_LINE);
  } catch (error) {
    await helper.stop();
    throw error;
  }
  return helper;
}
