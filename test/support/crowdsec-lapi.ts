// A CrowdSec Local API of the test's own: Debian's crowdsec binary run with `-no-cs` (the
// API only, no log agent) inside a lab namespace, listening on that host's test address,
// with its config, credentials and SQLite database in a temp directory. Never the
// machine's /etc/crowdsec service. cscli runs against the same config. With `tls`, the
// LAPI serves https with a certificate from a CA of the test's own, made by the README's
// commands (fleet-readme: lapi-tls), and cscli trusts that CA as the README says.

import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readFile } from 'node:fs/promises';
import { DaemonProcess } from './daemon-process.js';
import type { Lab, LabHost } from './netns-lab.js';
import { readmeCommands, substitute } from './readme-blocks.js';

const run = promisify(execFile);
export const LAPI_PORT = 8080;

export class CrowdsecLapi {
  private process: DaemonProcess | null = null;

  private constructor(
    private readonly lab: Lab,
    readonly host: LabHost,
    readonly dir: string,
    readonly tls: boolean,
  ) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host.v4}:${LAPI_PORT}`;
  }

  /** The private CA's certificate (with tls). */
  get caFile(): string {
    return join(this.dir, 'tls', 'ca.crt');
  }

  /** The README's example paths and address, made this LAPI's. */
  readmeWords(): (word: string) => string {
    return substitute([
      ['/etc/crowdsec/', `${this.dir}/`],
      ['10.0.0.5', this.host.v4],
    ]);
  }

  /** The LAPI host's own credentials file (cscli's login). */
  get credentialsFile(): string {
    return join(this.dir, 'local_api_credentials.yaml');
  }

  get configFile(): string {
    return join(this.dir, 'config.yaml');
  }

  /** Writes the config into dir (created) and registers the admin machine cscli itself uses. */
  static async create(lab: Lab, host: LabHost, dir: string, options: { tls?: boolean } = {}): Promise<CrowdsecLapi> {
    const lapi = new CrowdsecLapi(lab, host, dir, options.tls === true);
    await mkdir(join(dir, 'data'), { recursive: true });
    await mkdir(join(dir, 'hub'), { recursive: true });
    await writeFile(join(dir, 'hub', '.index.json'), '{}\n');
    await writeFile(join(dir, 'simulation.yaml'), 'simulation: false\n');
    // Alerts that arrive with their own decisions keep them; this profile only matters for
    // alerts without (none of ours).
    await writeFile(
      join(dir, 'profiles.yaml'),
      ['name: default_ip_remediation', 'filters:', ' - Alert.Remediation == true && Alert.GetScope() == "Ip"', 'decisions:', ' - type: ban', '   duration: 4h', 'on_success: break', ''].join('\n'),
    );
    await writeFile(
      join(dir, 'config.yaml'),
      [
        'common:',
        '  daemonize: false',
        '  log_media: stdout',
        '  log_level: info',
        'config_paths:',
        `  config_dir: ${dir}/`,
        `  data_dir: ${dir}/data/`,
        `  simulation_path: ${dir}/simulation.yaml`,
        `  hub_dir: ${dir}/hub/`,
        `  index_path: ${dir}/hub/.index.json`,
        `  notification_dir: ${dir}/notifications/`,
        '  plugin_dir: /usr/lib/crowdsec/plugins/',
        'db_config:',
        '  log_level: info',
        '  type: sqlite',
        `  db_path: ${dir}/data/crowdsec.db`,
        '  use_wal: true',
        'api:',
        '  client:',
        `    credentials_path: ${dir}/local_api_credentials.yaml`,
        '  server:',
        '    log_level: info',
        `    listen_uri: ${host.v4}:${LAPI_PORT}`,
        `    profiles_path: ${dir}/profiles.yaml`,
        ...(lapi.tls ? ['    tls:', `      cert_file: ${dir}/tls/lapi.crt`, `      key_file: ${dir}/tls/lapi.key`] : []),
        'prometheus:',
        '  enabled: false',
        '',
      ].join('\n'),
    );
    if (lapi.tls) for (const argv of readmeCommands('lapi-tls', lapi.readmeWords())) await lab.exec(host, argv);
    await lapi.cscli(['machines', 'add', 'test-admin', '--password', 'test-admin-password-0123456789', '-f', lapi.credentialsFile]);
    if (lapi.tls) {
      // As the README says: the LAPI host's own cscli logs in at the new address and trusts the CA.
      const credentials = (await readFile(lapi.credentialsFile, 'utf8')).replace(/^url: .*$/m, `url: ${lapi.url}/`);
      await writeFile(lapi.credentialsFile, `${credentials.trimEnd()}\nca_cert_path: ${lapi.caFile}\n`);
    }
    return lapi;
  }

  async addMachine(name: string, password: string): Promise<void> {
    await this.cscli(['machines', 'add', name, '--password', password, '-f', join(this.dir, `machine-${name}.yaml`)]);
  }

  async addBouncer(name: string, key: string): Promise<void> {
    await this.cscli(['bouncers', 'add', name, '-k', key]);
  }

  /** Starts the LAPI and waits until it listens. */
  async start(): Promise<void> {
    if (this.process !== null) throw new Error('the LAPI already runs');
    this.process = new DaemonProcess(this.lab.spawn(this.host, ['crowdsec', '-c', this.configFile, '-no-cs'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await this.process.waitFor('CrowdSec Local API listening');
  }

  async stop(): Promise<void> {
    const process = this.process;
    this.process = null;
    await process?.stop();
  }

  /** cscli against this LAPI's config, run inside its namespace (commands that call the API need that). */
  async cscli(argv: readonly string[]): Promise<string> {
    const result = await this.lab.exec(this.host, ['cscli', '-c', this.configFile, '--error', ...argv], { timeoutMs: 60_000 });
    return result.stdout;
  }

  /** `cscli machines list -o json`: each machine with the LAPI's own timestamps (RFC 3339). */
  async machines(): Promise<Array<{ machineId: string; created_at: string; last_heartbeat?: string; ipAddress?: string }>> {
    return JSON.parse(await this.cscli(['machines', 'list', '-o', 'json'])) as Array<{ machineId: string; created_at: string; last_heartbeat?: string; ipAddress?: string }>;
  }

  /** `cscli decisions list -o json`, flattened to the decisions. */
  async decisions(): Promise<Array<{ id: number; value: string; scenario: string; origin: string; type: string }>> {
    const text = await this.cscli(['decisions', 'list', '-o', 'json']);
    const alerts = JSON.parse(text) as Array<{ decisions?: Array<{ id: number; value: string; scenario: string; origin: string; type: string }> }> | null;
    return (alerts ?? []).flatMap((alert) => alert.decisions ?? []);
  }
}

/** True when crowdsec and cscli are installed (scripts/install-system-deps.sh). */
export async function crowdsecInstalled(): Promise<boolean> {
  return run('cscli', ['version']).then(
    () => true,
    () => false,
  );
}
