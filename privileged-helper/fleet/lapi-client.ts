// The CrowdSec Local API over HTTP, with Node's own fetch: the watcher side (login for a
// JWT, heartbeats, push alerts) and the bouncer side (the decision stream). Every answer is read with a
// size cap and a timeout and checked against lapi-messages.ts before anything uses it; the
// password and the API key go only into request headers and bodies, never into errors.

import { z } from 'zod';
import { DESKTOP_VERSION } from '../version.js';
import { alertLookupSchema, loginAnswerSchema, MAX_STREAM_DECISIONS, streamAnswerSchema, streamDecisionSchema, type StreamDecision } from './lapi-messages.js';

/** The LAPI refuses clients whose User-Agent is not "name/version". */
const USER_AGENT = `portsentry-desktop/${DESKTOP_VERSION}`;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_SMALL_ANSWER = 64 * 1024;
/** A first stream answer carries every active decision: allow for a large blocklist. */
const MAX_STREAM_ANSWER = 64 * 1024 * 1024;
/** Renew the JWT this long before the LAPI says it expires. */
const TOKEN_MARGIN_MS = 60_000;

export interface LapiCredentials {
  readonly url: string;
  readonly machineId: string;
  readonly password: string;
  readonly bouncerKey: string;
}

export class LapiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when the LAPI could not be reached or answered nonsense. */
    readonly status: number,
  ) {
    super(message);
    this.name = 'LapiError';
  }
}

export interface StreamAnswer {
  readonly added: StreamDecision[];
  readonly deleted: StreamDecision[];
  /** Entries that failed validation (skipped, counted). */
  readonly malformed: number;
  /** Entries beyond MAX_STREAM_DECISIONS in a list (not read, counted). */
  readonly overLimit: number;
}

export class LapiClient {
  private token: { value: string; until: number } | null = null;

  constructor(
    private readonly credentials: LapiCredentials,
    private readonly clock: () => number = Date.now,
    /** Node's fetch; a test passes a hostile LAPI's answers here. */
    private readonly fetchAnswer: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /** Sends alerts (each with its ban decision); resolves with the LAPI's alert ids. */
  async pushAlerts(alerts: readonly Record<string, unknown>[]): Promise<string[]> {
    const answer = await this.asWatcher((token) => this.request('POST', '/v1/alerts', { authorization: `Bearer ${token}` }, alerts, MAX_SMALL_ANSWER));
    const ids = z
      .array(z.union([z.string().max(32), z.int()]))
      .max(alerts.length)
      .safeParse(answer);
    if (!ids.success) throw new LapiError('the LAPI answered an alert push with something that is not a list of ids', 0);
    return ids.data.map(String);
  }

  /**
   * Tells the LAPI this machine is alive (GET /v1/heartbeat with its JWT, as CrowdSec's own
   * agents do every 30 s): `cscli machines list` shows the time as its last heartbeat.
   */
  async heartbeat(): Promise<void> {
    await this.asWatcher((token) => this.request('GET', '/v1/heartbeat', { authorization: `Bearer ${token}` }, undefined, MAX_SMALL_ANSWER));
  }

  /** The machine that sent the alert holding this decision (null if none says). */
  async machineOfDecision(address: string, decisionId: number): Promise<string | null> {
    const query = new URLSearchParams({ ip: address, limit: '50' });
    const answer = await this.asWatcher((token) => this.request('GET', `/v1/alerts?${query.toString()}`, { authorization: `Bearer ${token}` }, undefined, 4 * 1024 * 1024));
    const alerts = alertLookupSchema.safeParse(answer);
    if (!alerts.success) throw new LapiError('the LAPI answered an alert lookup with something unexpected', 0);
    for (const alert of alerts.data ?? []) {
      if ((alert.decisions ?? []).some((d) => d.id === decisionId)) return alert.machine_id ?? null;
    }
    return null;
  }

  /** One pull of the bouncer's decision stream; `startup` asks for every active decision. */
  async pullDecisions(startup: boolean): Promise<StreamAnswer> {
    const answer = await this.request('GET', `/v1/decisions/stream${startup ? '?startup=true' : ''}`, { 'x-api-key': this.credentials.bouncerKey }, undefined, MAX_STREAM_ANSWER);
    const envelope = streamAnswerSchema.safeParse(answer);
    if (!envelope.success) throw new LapiError('the LAPI decision stream is not {new, deleted}', 0);
    let malformed = 0;
    let overLimit = 0;
    const keep = (list: unknown[] | null | undefined) => {
      const out: StreamDecision[] = [];
      const all = list ?? [];
      overLimit += Math.max(0, all.length - MAX_STREAM_DECISIONS);
      for (const item of all.slice(0, MAX_STREAM_DECISIONS)) {
        const decision = streamDecisionSchema.safeParse(item);
        if (decision.success) out.push(decision.data);
        else malformed += 1;
      }
      return out;
    };
    return { added: keep(envelope.data.new), deleted: keep(envelope.data.deleted), malformed, overLimit };
  }

  get canPush(): boolean {
    return this.credentials.machineId !== '' && this.credentials.password !== '';
  }

  get canPull(): boolean {
    return this.credentials.bouncerKey !== '';
  }

  /** Runs a watcher request with a valid JWT; on 401 logs in again once. */
  private async asWatcher<T>(call: (token: string) => Promise<T>): Promise<T> {
    try {
      return await call(await this.jwt());
    } catch (error) {
      if (!(error instanceof LapiError) || error.status !== 401) throw error;
      this.token = null;
      return call(await this.jwt());
    }
  }

  private async jwt(): Promise<string> {
    if (this.token !== null && this.token.until - TOKEN_MARGIN_MS > this.clock()) return this.token.value;
    const body = { machine_id: this.credentials.machineId, password: this.credentials.password };
    const answer = loginAnswerSchema.safeParse(await this.request('POST', '/v1/watchers/login', {}, body, MAX_SMALL_ANSWER));
    if (!answer.success) throw new LapiError('the LAPI login answer holds no token', 0);
    const expires = answer.data.expire === undefined ? Number.NaN : Date.parse(answer.data.expire);
    // No (or a nonsensical) expiry: assume the LAPI's default hour, capped at a day.
    const until = Number.isFinite(expires) ? Math.min(expires, this.clock() + 86_400_000) : this.clock() + 3_600_000;
    this.token = { value: answer.data.token, until };
    return answer.data.token;
  }

  private async request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: unknown, maxBytes: number): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchAnswer(`${this.credentials.url}${path}`, {
        method,
        headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        redirect: 'error',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new LapiError(`the LAPI at ${this.credentials.url} is not reachable: ${describeFetchError(error)}`, 0);
    }
    const text = await readCapped(response, maxBytes);
    if (!response.ok) {
      // The LAPI's own message, bounded and reduced to printable text, says what went wrong.
      const message = /"message"\s*:\s*"([^"]{0,200})"/.exec(text)?.[1]?.replace(/[^\x20-\x7e]/g, '?') ?? '';
      throw new LapiError(`the LAPI refused ${method} ${path.split('?')[0]}: HTTP ${response.status}${message === '' ? '' : ` (${message})`}`, response.status);
    }
    // An answer with no body (the heartbeat's) is null: every caller's schema check refuses it where it needs more.
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LapiError(`the LAPI answered ${path.split('?')[0]} with something that is not JSON`, 0);
    }
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new LapiError(`the LAPI answer is too large (${declared} bytes)`, 0);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw new LapiError(`the LAPI answer broke off: ${describeFetchError(error)}`, 0);
    }
    if (chunk.done) break;
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new LapiError(`the LAPI answer is larger than ${maxBytes} bytes`, 0);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return (cause?.code ?? cause?.message ?? (error as Error).message ?? 'unknown error').slice(0, 200);
}
