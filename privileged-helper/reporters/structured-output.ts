// Structured output for SIEMs, each off by default: JSON lines to a file (JSON_LOG_FILE), RFC
// 5424 with structured data to a file (RFC5424_FILE) and to a remote syslog over TCP or TLS
// (SYSLOG_REMOTE, SYSLOG_REMOTE_TLS, SYSLOG_REMOTE_CA), octet-counted. Fed the daemon's events;
// rebuilt on reload; its failures are logged once per outage and never stop detection.

import { readFile } from '../files/start-fs.js';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { HelperEvent } from '../../shared/domain/detection-event.js';
import { toEventRecord } from '../../shared/structured-log/event-record.js';
import { parseRemoteSyslog } from '../../shared/domain/config-keys.js';
import { appendToFile } from '../files/safe-paths.js';
import { messages } from './messages.js';
import { formatRfc5424, octetFrame } from './rfc5424.js';

export interface StructuredSettings {
  readonly jsonLogFile: string;
  readonly rfc5424File: string;
  readonly syslogRemote: string;
  readonly syslogRemoteTls: boolean;
  readonly syslogRemoteCa: string;
}

export interface StructuredDeps {
  readonly log: (message: string) => void;
  readonly hostname: string;
  readonly pid: number;
}

/** Messages kept for a remote that is down; the oldest are dropped beyond this. */
const REMOTE_QUEUE_LIMIT = 10_000;
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** The files list attackers: root's alone, as the history file. */
const FILE_MODE = 0o600;

/** Appends lines to one file; lines that come during a write go together in the next one. */
class FileLines {
  private pending = '';
  private writing: Promise<void> | null = null;
  private failing = false;

  constructor(
    readonly path: string,
    private readonly what: string,
    private readonly log: (message: string) => void,
  ) {}

  add(line: string): void {
    this.pending += `${line}\n`;
    this.writing ??= this.flush();
  }

  private async flush(): Promise<void> {
    while (this.pending !== '') {
      const text = this.pending;
      this.pending = '';
      try {
        await appendToFile(this.path, text, FILE_MODE, this.what);
        if (this.failing) this.log(messages.notice(`${this.what} ${this.path} is written again`));
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.log(messages.warning(`cannot write ${this.what} ${this.path}: ${(error as Error).message}`));
        this.failing = true;
      }
    }
    this.writing = null;
  }

  async drain(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }
}

/** A remote syslog over TCP or TLS: connects when needed, queues while down, retries with backoff. */
class RemoteSyslog {
  private socket: Socket | null = null;
  private connected = false;
  private readonly queue: string[] = [];
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private down = false;
  private dropped = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly tls: { readonly ca: Buffer | null } | null,
    private readonly log: (message: string) => void,
  ) {}

  get label(): string {
    return `${this.tls === null ? 'tcp' : 'tls'}://${isIP(this.host) === 6 ? `[${this.host}]` : this.host}:${this.port}`;
  }

  send(message: string): void {
    const frame = octetFrame(message);
    if (this.connected && this.socket !== null) {
      this.socket.write(frame);
      return;
    }
    if (this.queue.length >= REMOTE_QUEUE_LIMIT) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.queue.push(frame);
    if (this.socket === null && this.retryTimer === null) this.open();
  }

  private open(): void {
    if (this.closed) return;
    const socket =
      this.tls === null
        ? tcpConnect({ host: this.host, port: this.port })
        : tlsConnect({ host: this.host, port: this.port, ...(this.tls.ca === null ? {} : { ca: this.tls.ca }), ...(isIP(this.host) === 0 ? { servername: this.host } : {}) });
    this.socket = socket;
    socket.setKeepAlive(true);
    socket.once(this.tls === null ? 'connect' : 'secureConnect', () => {
      this.connected = true;
      this.retryMs = RETRY_FIRST_MS;
      if (this.down) this.log(messages.notice(`structured output: syslog server ${this.label} reached again${this.dropped > 0 ? ` (${this.dropped} messages dropped while it was not)` : ''}`));
      this.down = false;
      this.dropped = 0;
      socket.write(this.queue.splice(0).join(''));
    });
    socket.on('data', () => undefined);
    socket.once('error', (error) => {
      if (!this.down) this.log(messages.warning(`structured output: cannot send to syslog server ${this.label} (${error.message}); queueing, retrying with backoff`));
      this.down = true;
    });
    socket.once('close', () => {
      this.socket = null;
      this.connected = false;
      if (this.closed) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (this.queue.length > 0) this.open();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    });
  }

  /** Sends what is queued if connected, then closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const socket = this.socket;
    if (socket === null) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 2000).unref();
    });
  }
}

function sameSettings(a: StructuredSettings | null, b: StructuredSettings): boolean {
  return (
    a !== null &&
    a.jsonLogFile === b.jsonLogFile &&
    a.rfc5424File === b.rfc5424File &&
    a.syslogRemote === b.syslogRemote &&
    a.syslogRemoteTls === b.syslogRemoteTls &&
    a.syslogRemoteCa === b.syslogRemoteCa
  );
}

export class StructuredOutputs {
  private settings: StructuredSettings | null = null;
  private json: FileLines | null = null;
  private rfcFile: FileLines | null = null;
  private remote: RemoteSyslog | null = null;

  constructor(private readonly deps: StructuredDeps) {}

  /** Applies the settings (start and reload); an unreadable CA file is an error, the old outputs stay. */
  async reconfigure(next: StructuredSettings): Promise<void> {
    if (sameSettings(this.settings, next)) return;
    let remote: RemoteSyslog | null = null;
    if (next.syslogRemote !== '') {
      const target = parseRemoteSyslog(next.syslogRemote, 'SYSLOG_REMOTE');
      const ca = next.syslogRemoteTls && next.syslogRemoteCa !== '' ? await readFile(next.syslogRemoteCa) : null;
      remote = new RemoteSyslog(target.host, target.port, next.syslogRemoteTls ? { ca } : null, this.deps.log);
    }
    await this.close();
    this.settings = next;
    this.json = next.jsonLogFile === '' ? null : new FileLines(next.jsonLogFile, 'JSON log file', this.deps.log);
    this.rfcFile = next.rfc5424File === '' ? null : new FileLines(next.rfc5424File, 'RFC 5424 log file', this.deps.log);
    this.remote = remote;
  }

  observe(event: HelperEvent): void {
    if (this.json === null && this.rfcFile === null && this.remote === null) return;
    const record = toEventRecord(event, this.deps.hostname);
    this.json?.add(JSON.stringify(record));
    if (this.rfcFile === null && this.remote === null) return;
    const message = formatRfc5424(record, this.deps.hostname, this.deps.pid);
    this.rfcFile?.add(message);
    this.remote?.send(message);
  }

  async close(): Promise<void> {
    await this.json?.drain();
    await this.rfcFile?.drain();
    await this.remote?.close();
    this.json = this.rfcFile = null;
    this.remote = null;
    this.settings = null;
  }
}
