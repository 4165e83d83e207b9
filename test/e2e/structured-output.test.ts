// Structured output end to end: a real rsyslog (the test's own config, in a lab namespace of the
// test's own, never the machine's /etc/rsyslog.conf) receives our RFC 5424 over TCP and over
// TLS (a CA and server certificate the test makes), parses the structured data (mmpstrucdata)
// and writes it as JSON; the test reads what rsyslog parsed. The same helper's JSON lines and
// RFC 5424 files are read back too, each JSON line valid by the shared schema.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { helperConfigText } from '../support/helper-config.js';
import { createLab, type Lab } from '../support/netns-lab.js';
import { eventRecordSchema } from '../../shared/structured-log/event-record.js';

const run = promisify(execFile);
const TCP_PORT = 1514;
const TLS_PORT = 6514;
const TRIPWIRE = 31337;

async function makeCertificates(dir: string, address: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-days', '2', '-subj', '/CN=portsentry test CA']);
  await run('openssl', ['req', ...ec, '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'), '-subj', '/CN=collector']);
  await writeFile(join(dir, 'server.ext'), `subjectAltName=IP:${address}\n`);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    join(dir, 'server.csr'),
    '-CA',
    join(dir, 'ca.pem'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    join(dir, 'server.pem'),
    '-days',
    '2',
    '-extfile',
    join(dir, 'server.ext'),
  ]);
}

function rsyslogConfig(dir: string, address: string): string {
  return `global(workDirectory="${dir}/work"
       defaultNetstreamDriverCAFile="${dir}/ca.pem"
       defaultNetstreamDriverCertFile="${dir}/server.pem"
       defaultNetstreamDriverKeyFile="${dir}/server.key")
module(load="imtcp")
module(load="mmpstrucdata")
template(name="parsed" type="string" string="%app-name% %msgid% %hostname% %$!%\\n")
ruleset(name="tcp") {
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="${dir}/tcp.out" template="parsed")
}
ruleset(name="tls") {
  action(type="mmpstrucdata" sd_name.lowercase="off")
  action(type="omfile" file="${dir}/tls.out" template="parsed")
}
input(type="imtcp" address="${address}" port="${TCP_PORT}" ruleset="tcp")
input(type="imtcp" address="${address}" port="${TLS_PORT}" ruleset="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`;
}

interface Parsed {
  readonly app: string;
  readonly msgid: string;
  readonly host: string;
  readonly sd: Record<string, string>;
}

/** rsyslog's output lines: "portsentry scan target {"rfc5424-sd":{"portsentry@32473":{...}}}". */
async function parsedBy(file: string): Promise<Parsed[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [app, msgid, host, ...json] = line.split(' ');
      const data = JSON.parse(json.join(' ')) as { 'rfc5424-sd'?: Record<string, Record<string, string>> };
      return { app: app!, msgid: msgid!, host: host!, sd: data['rfc5424-sd']?.['portsentry@32473'] ?? {} };
    });
}

async function waitForParsed(file: string, test: (p: Parsed) => boolean, what: string): Promise<Parsed> {
  // A safety net of 60 s, never the verdict.
  for (let i = 0; i < 1200; i++) {
    const found = (await parsedBy(file)).find(test);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`rsyslog never wrote ${what} to ${file}; it has:\n${await readFile(file, 'utf8').catch(() => '(nothing)')}`);
}

describe('structured output: JSON lines and RFC 5424 to files, and to a real rsyslog over TCP and TLS', { timeout: 600_000 }, () => {
  let lab: Lab<'viaTcp' | 'viaTls' | 'scanner' | 'collector'>;
  let dir: string;
  let rsyslog: ReturnType<Lab['spawn']> | undefined;
  const daemons: DaemonProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'structured-output-'));
    lab = await createLab(['viaTcp', 'viaTls', 'scanner', 'collector']);
    const collector = lab.hosts.collector;
    const logs = join(dir, 'rsyslog');
    await mkdir(join(logs, 'work'), { recursive: true });
    await makeCertificates(logs, collector.v4);
    await writeFile(join(logs, 'rsyslog.conf'), rsyslogConfig(logs, collector.v4));
    await run('rsyslogd', ['-N1', '-f', join(logs, 'rsyslog.conf')]);
    rsyslog = lab.spawn(collector, ['rsyslogd', '-n', '-f', join(logs, 'rsyslog.conf'), '-i', join(logs, 'rsyslog.pid')], { stdio: 'ignore' });
    for (const port of [TCP_PORT, TLS_PORT]) {
      for (let i = 0; i < 1200 && (await lab.exec(collector, ['ss', '-Hltn', `sport = :${port}`])).stdout.trim() === ''; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const helper = async (name: 'viaTcp' | 'viaTls', keys: Record<string, string>) => {
      const own = join(dir, name);
      await mkdir(own);
      await writeFile(join(own, 'ignore'), '');
      await writeFile(join(own, 'portsentry.conf'), helperConfigText(own, { TCP_PORTS: String(TRIPWIRE), UDP_PORTS: String(TRIPWIRE), ...keys }));
      const daemon = startDaemon(lab, lab.hosts[name], ['-c', join(own, 'portsentry.conf'), '-tcp']);
      daemons.push(daemon);
      await daemon.waitFor('PortSentry is now active and listening');
    };
    await helper('viaTcp', { SYSLOG_REMOTE: `${collector.v4}:${TCP_PORT}`, JSON_LOG_FILE: join(dir, 'viaTcp', 'events.jsonl'), RFC5424_FILE: join(dir, 'viaTcp', 'events.rfc5424') });
    await helper('viaTls', { SYSLOG_REMOTE: `${collector.v4}:${TLS_PORT}`, SYSLOG_REMOTE_TLS: '1', SYSLOG_REMOTE_CA: join(logs, 'ca.pem') });
    for (const name of ['viaTcp', 'viaTls'] as const) {
      await lab.exec(lab.hosts.scanner, ['socat', '-u', 'OPEN:/dev/null', `TCP4:${lab.hosts[name].v4}:${TRIPWIRE},connect-timeout=2`], { allowFailure: true });
      await daemons[name === 'viaTcp' ? 0 : 1]!.waitFor(`Host ${lab.hosts.scanner.v4} has been blocked`);
    }
  });

  after(async () => {
    for (const daemon of daemons) await daemon.stop();
    rsyslog?.kill('SIGTERM');
    if (lab !== undefined) {
      for (const name of ['viaTcp', 'viaTls'] as const) await lab.exec(lab.hosts[name], ['nft', 'delete', 'table', 'inet', 'portsentry'], { allowFailure: true });
      await lab.destroy();
    }
    await rm(dir, { recursive: true, force: true });
  });

  for (const [transport, file] of [
    ['TCP', 'tcp.out'],
    ['TLS', 'tls.out'],
  ] as const) {
    it(`rsyslog parses the scan and the block from RFC 5424 over ${transport} (octet-counted), structured data and all`, async () => {
      const scanner = lab.hosts.scanner.v4;
      const out = join(dir, 'rsyslog', file);
      const scan = await waitForParsed(out, (p) => p.msgid === 'scan' && p.sd['source'] === scanner, 'the scan');
      assert.equal(scan.app, 'portsentry');
      assert.deepEqual(
        { v: scan.sd['v'], port: scan.sd['port'], protocol: scan.sd['protocol'], mode: scan.sd['mode'], kind: scan.sd['kind'], action: scan.sd['action'], family: scan.sd['family'] },
        { v: '1', port: String(TRIPWIRE), protocol: 'tcp', mode: 'tcp', kind: 'connect', action: 'blocked', family: '4' },
      );
      const block = await waitForParsed(out, (p) => p.msgid === 'block' && p.sd['address'] === scanner, 'the block');
      assert.equal(block.sd['change'], 'added');
      assert.equal(block.sd['until'], '');
    });
  }

  it('the JSON lines file holds one schema-valid record per event, and the RFC 5424 file the same events', async () => {
    const scanner = lab.hosts.scanner.v4;
    const jsonPath = join(dir, 'viaTcp', 'events.jsonl');
    // The block's record is written after the scan's: wait for it (safety net 60 s).
    for (let i = 0; i < 1200 && !(await readFile(jsonPath, 'utf8').catch(() => '')).includes('"event":"block"'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const records = (await readFile(jsonPath, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((line) => eventRecordSchema.parse(JSON.parse(line)));
    assert.deepEqual(
      records.map((r) => (r.event === 'scan' ? ['scan', r.source, r.port, r.action] : ['block', r.address, r.change])),
      [
        ['scan', scanner, TRIPWIRE, 'blocked'],
        ['block', scanner, 'added'],
      ],
    );
    const rfc = (await readFile(join(dir, 'viaTcp', 'events.rfc5424'), 'utf8')).trimEnd().split('\n');
    assert.equal(rfc.length, 2);
    assert.match(rfc[0]!, new RegExp(`^<29>1 \\S+ \\S+ portsentry \\d+ scan \\[portsentry@32473 v="1" source="${scanner.replace(/\./g, '\\.')}" `));
  });
});
