// JSON-RPC 2.0 over newline-delimited JSON: framing, request/response parsing and message
// builders. Pure: bytes in, values out; the socket code lives elsewhere. Everything that
// reads peer input returns a value instead of throwing, because on the helper side the
// peer may be hostile and an exception would be a denial of service.
//
// Deliberate restrictions on top of JSON-RPC 2.0 (this is a private, local protocol):
// requests must carry an id (no client notifications exist), batches are refused, params
// must be an object (or left out), ids are strings of at most 64 characters or integers.

import type { z } from 'zod';
import {
  isMethodName,
  isNotificationName,
  methods,
  notifications,
  type MethodName,
  type NotificationName,
  type NotificationParamsOf,
  type ParamsOf,
  type ParsedParamsOf,
  type ResultOf,
} from './methods.js';

export const JSONRPC_VERSION = '2.0';
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
const MAX_ID_LENGTH = 64;
const MAX_ERROR_MESSAGE = 500;
const MAX_REPORTED_ISSUES = 10;

import { ErrorCode } from './error-codes.js';
export { ErrorCode, type ErrorCodeValue } from './error-codes.js';

export type JsonRpcId = string | number;

export interface JsonRpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export interface JsonRpcErrorResponse {
  readonly jsonrpc: '2.0';
  /** Null when the request's id could not be read. */
  readonly id: JsonRpcId | null;
  readonly error: JsonRpcErrorObject;
}

export interface JsonRpcResultResponse<R = unknown> {
  readonly jsonrpc: '2.0';
  readonly id: JsonRpcId;
  readonly result: R;
}

export interface JsonRpcRequest<M extends MethodName = MethodName> {
  readonly jsonrpc: '2.0';
  readonly id: JsonRpcId;
  readonly method: M;
  readonly params: ParamsOf<M>;
}

export interface JsonRpcNotification<N extends NotificationName = NotificationName> {
  readonly jsonrpc: '2.0';
  readonly method: N;
  readonly params: NotificationParamsOf<N>;
}

/** A request that passed every check, narrowed by method so handlers get their own params type. */
export type ParsedRequest = {
  [M in MethodName]: { readonly kind: 'request'; readonly id: JsonRpcId; readonly method: M; readonly params: ParsedParamsOf<M> };
}[MethodName];

/** What parseRequest gives back: a request to run, or the error response to send instead. */
export type RequestParseResult = ParsedRequest | { readonly kind: 'error'; readonly response: JsonRpcErrorResponse };

// ---------------------------------------------------------------------------------------
// Framing

export type DecodedFrame = { readonly kind: 'frame'; readonly text: string } | { readonly kind: 'oversized'; readonly maxBytes: number } | { readonly kind: 'invalid-utf8' };

export interface FrameDecoderOptions {
  /** Longest frame accepted, in bytes, not counting the line break. */
  readonly maxFrameBytes?: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into newline-terminated frames (a CR before the LF is dropped; blank
 * lines are skipped). Holds at most maxFrameBytes(+1) bytes: a longer frame is reported
 * once as `oversized`, and its remaining bytes are discarded up to the next newline.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside an oversized frame: drop bytes until the next newline. */
  private discarding = false;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${max}`);
    this.maxFrameBytes = max;
  }

  /** Bytes held for a frame whose newline has not arrived yet. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Uint8Array): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline === -1 ? bytes.length : newline;
      if (this.discarding) {
        if (newline !== -1) this.discarding = false;
      } else {
        this.hold(bytes.subarray(start, end), out);
        if (newline !== -1 && !this.discarding) this.finishFrame(out);
        else if (newline !== -1) this.discarding = false;
      }
      if (newline === -1) break;
      start = newline + 1;
    }
    return out;
  }

  /**
   * The stream ended: a last frame that lacks its newline is decoded like any other (a
   * peer that half-closes right after writing still gets its request read). Resets the decoder.
   */
  end(): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    if (!this.discarding && this.pendingBytes > 0) this.finishFrame(out);
    this.reset();
    return out;
  }

  private hold(piece: Buffer, out: DecodedFrame[]): void {
    if (piece.length === 0) return;
    // One byte of slack: a frame of exactly maxFrameBytes may still be followed by its CR.
    if (this.pendingBytes + piece.length > this.maxFrameBytes + 1) {
      out.push({ kind: 'oversized', maxBytes: this.maxFrameBytes });
      this.reset();
      this.discarding = true;
      return;
    }
    this.pending.push(Buffer.from(piece)); // copy: the caller may reuse its buffer
    this.pendingBytes += piece.length;
  }

  private finishFrame(out: DecodedFrame[]): void {
    let line = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.reset();
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.maxFrameBytes) {
      out.push({ kind: 'oversized', maxBytes: this.maxFrameBytes });
      return;
    }
    let text: string;
    try {
      text = this.utf8.decode(line);
    } catch {
      out.push({ kind: 'invalid-utf8' });
      return;
    }
    if (text.trim() === '') return;
    out.push({ kind: 'frame', text });
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** One message as a frame: JSON.stringify never emits a raw newline, so framing is safe. */
export function encodeFrame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}

// ---------------------------------------------------------------------------------------
// Builders

export function resultResponse<M extends MethodName>(id: JsonRpcId, _method: M, result: ResultOf<M>): JsonRpcResultResponse<ResultOf<M>> {
  return { jsonrpc: JSONRPC_VERSION, id, result };
}

export function errorResponse(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcErrorResponse {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: JSONRPC_VERSION, id, error };
}

export function notification<N extends NotificationName>(method: N, params: NotificationParamsOf<N>): JsonRpcNotification<N> {
  return { jsonrpc: JSONRPC_VERSION, method, params };
}

export function request<M extends MethodName>(id: JsonRpcId, method: M, params: ParamsOf<M>): JsonRpcRequest<M> {
  return { jsonrpc: JSONRPC_VERSION, id, method, params };
}

/** What a method handler throws to answer with a specific application error. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// ---------------------------------------------------------------------------------------
// Server side: requests

/** Turns one decoded frame into a request or the error response to send back. */
export function parseRequestFrame(frame: DecodedFrame): RequestParseResult {
  switch (frame.kind) {
    case 'frame':
      return parseRequest(frame.text);
    case 'oversized':
      return failure(null, ErrorCode.INVALID_REQUEST, `request is longer than ${frame.maxBytes} bytes`);
    case 'invalid-utf8':
      return failure(null, ErrorCode.PARSE_ERROR, 'request is not valid UTF-8');
  }
}

/** Parses and validates one request frame. Never throws. */
export function parseRequest(text: string): RequestParseResult {
  try {
    return parseRequestUnguarded(text);
  } catch {
    // Not expected to happen (the fuzz test checks), but a root daemon must not fall over.
    return failure(null, ErrorCode.INTERNAL_ERROR, 'internal error while reading the request');
  }
}

function parseRequestUnguarded(text: string): RequestParseResult {
  const message = parseJson(text);
  if (message === PARSE_FAILED) return failure(null, ErrorCode.PARSE_ERROR, 'request is not valid JSON');
  if (Array.isArray(message)) return failure(null, ErrorCode.INVALID_REQUEST, 'batch requests are not supported');
  if (!isPlainRecord(message)) return failure(null, ErrorCode.INVALID_REQUEST, 'request must be a JSON object');

  const id = readId(message);
  const replyId = id === undefined ? null : id;
  if (id === undefined) {
    return failure(null, ErrorCode.INVALID_REQUEST, `"id" must be a string of at most ${MAX_ID_LENGTH} characters or an integer (notifications are not accepted)`);
  }
  const extra = Object.keys(message).filter((key) => !['jsonrpc', 'id', 'method', 'params'].includes(key));
  if (extra.length > 0) return failure(replyId, ErrorCode.INVALID_REQUEST, `unexpected member ${quoteKey(extra[0] as string)}`);
  if (message['jsonrpc'] !== JSONRPC_VERSION) return failure(replyId, ErrorCode.INVALID_REQUEST, '"jsonrpc" must be "2.0"');
  const method = message['method'];
  if (typeof method !== 'string') return failure(replyId, ErrorCode.INVALID_REQUEST, '"method" must be a string');
  if (!isMethodName(method)) return failure(replyId, ErrorCode.METHOD_NOT_FOUND, `no method named ${quoteKey(method)}`);

  const rawParams = Object.hasOwn(message, 'params') ? message['params'] : {};
  if (!isPlainRecord(rawParams)) return failure(replyId, ErrorCode.INVALID_PARAMS, `params of ${method} must be an object`);
  const checked = (methods[method].params as z.ZodType).safeParse(rawParams);
  if (!checked.success) {
    const issues = describeIssues(checked.error.issues);
    return failure(replyId, ErrorCode.INVALID_PARAMS, truncate(`invalid params for ${method}: ${issues.map(formatIssue).join('; ')}`), { issues });
  }
  return { kind: 'request', id, method, params: checked.data } as ParsedRequest;
}

/** Handlers for every method; each gets its validated params. */
export type MethodHandlers<Context = void> = {
  [M in MethodName]: (params: ParsedParamsOf<M>, context: Context) => ResultOf<M> | Promise<ResultOf<M>>;
};

/**
 * Runs the handler for a parsed request and builds its response. The handler's result is
 * checked against the result schema before it leaves the helper; a ProtocolError becomes
 * that error, anything else an internal error without details (no stack traces to clients).
 */
export async function dispatchRequest<Context>(parsed: ParsedRequest, handlers: MethodHandlers<Context>, context: Context): Promise<JsonRpcResultResponse | JsonRpcErrorResponse> {
  const handler = handlers[parsed.method] as (params: unknown, context: Context) => unknown;
  let result: unknown;
  try {
    result = await handler(parsed.params, context);
  } catch (error) {
    if (error instanceof ProtocolError) return errorResponse(parsed.id, error.code, truncate(error.message), error.data);
    return errorResponse(parsed.id, ErrorCode.INTERNAL_ERROR, 'internal error');
  }
  const checked = (methods[parsed.method].result as z.ZodType).safeParse(result);
  if (!checked.success) return errorResponse(parsed.id, ErrorCode.INTERNAL_ERROR, `internal error: the ${parsed.method} result did not match the protocol`);
  return { jsonrpc: JSONRPC_VERSION, id: parsed.id, result: checked.data };
}

// ---------------------------------------------------------------------------------------
// Client side: responses and notifications

export type ServerMessage =
  | {
      [M in MethodName]: { readonly kind: 'result'; readonly id: JsonRpcId; readonly method: M; readonly result: ResultOf<M> };
    }[MethodName]
  | { readonly kind: 'error'; readonly id: JsonRpcId | null; readonly error: JsonRpcErrorObject }
  | {
      [N in NotificationName]: { readonly kind: 'notification'; readonly method: N; readonly params: NotificationParamsOf<N> };
    }[NotificationName]
  /** The message could not be trusted; `id` is set when it names a pending call, which should fail. */
  | { readonly kind: 'invalid'; readonly id: JsonRpcId | null; readonly message: string };

/**
 * Parses one frame from the helper. `methodFor` says which method a pending id was for
 * (undefined for ids the client never sent), so the result can be checked against its schema.
 * Never throws.
 */
export function parseResponse(text: string, methodFor: (id: JsonRpcId) => MethodName | undefined): ServerMessage {
  try {
    return parseResponseUnguarded(text, methodFor);
  } catch {
    return invalid(null, 'internal error while reading the response');
  }
}

function parseResponseUnguarded(text: string, methodFor: (id: JsonRpcId) => MethodName | undefined): ServerMessage {
  const message = parseJson(text);
  if (message === PARSE_FAILED) return invalid(null, 'response is not valid JSON');
  if (!isPlainRecord(message)) return invalid(null, 'response must be a JSON object');
  if (message['jsonrpc'] !== JSONRPC_VERSION) return invalid(null, '"jsonrpc" must be "2.0"');

  if (!Object.hasOwn(message, 'id')) return parseNotification(message);

  const rawId = message['id'];
  const id = rawId === null ? null : readId(message);
  if (id === undefined) return invalid(null, 'response has an invalid id');
  const hasResult = Object.hasOwn(message, 'result');
  const hasError = Object.hasOwn(message, 'error');
  if (hasResult === hasError) return invalid(id, 'response must carry exactly one of "result" and "error"');
  const extra = Object.keys(message).filter((key) => !['jsonrpc', 'id', 'result', 'error'].includes(key));
  if (extra.length > 0) return invalid(id, `unexpected member ${quoteKey(extra[0] as string)}`);

  if (hasError) {
    const error = readErrorObject(message['error']);
    return error === null ? invalid(id, 'malformed error object') : { kind: 'error', id, error };
  }
  if (id === null) return invalid(null, 'a result must carry an id');
  const method = methodFor(id);
  if (method === undefined) return invalid(id, 'response to a request that was not sent');
  const checked = (methods[method].result as z.ZodType).safeParse(message['result']);
  if (!checked.success) {
    return invalid(id, truncate(`invalid result for ${method}: ${describeIssues(checked.error.issues).map(formatIssue).join('; ')}`));
  }
  return { kind: 'result', id, method, result: checked.data } as ServerMessage;
}

function parseNotification(message: Record<string, unknown>): ServerMessage {
  const method = message['method'];
  if (typeof method !== 'string') return invalid(null, 'message has neither an id nor a method');
  if (!isNotificationName(method)) return invalid(null, `unknown notification ${quoteKey(method)}`);
  const extra = Object.keys(message).filter((key) => !['jsonrpc', 'method', 'params'].includes(key));
  if (extra.length > 0) return invalid(null, `unexpected member ${quoteKey(extra[0] as string)}`);
  const checked = (notifications[method].params as z.ZodType).safeParse(message['params']);
  if (!checked.success) {
    return invalid(null, truncate(`invalid ${method} notification: ${describeIssues(checked.error.issues).map(formatIssue).join('; ')}`));
  }
  return { kind: 'notification', method, params: checked.data } as ServerMessage;
}

function readErrorObject(value: unknown): JsonRpcErrorObject | null {
  if (!isPlainRecord(value)) return null;
  const { code, message } = value;
  if (!Number.isInteger(code) || typeof message !== 'string') return null;
  const extra = Object.keys(value).filter((key) => !['code', 'message', 'data'].includes(key));
  if (extra.length > 0) return null;
  const base = { code: code as number, message: truncate(message) };
  return Object.hasOwn(value, 'data') ? { ...base, data: value['data'] } : base;
}

// ---------------------------------------------------------------------------------------
// Shared helpers

const PARSE_FAILED = Symbol('parse failed');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return PARSE_FAILED;
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The id if it is one we accept; undefined when it is missing or unacceptable. */
function readId(message: Record<string, unknown>): JsonRpcId | undefined {
  if (!Object.hasOwn(message, 'id')) return undefined;
  const id = message['id'];
  if (typeof id === 'string' && id.length <= MAX_ID_LENGTH) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return undefined;
}

function failure(id: JsonRpcId | null, code: number, message: string, data?: unknown): RequestParseResult {
  return { kind: 'error', response: errorResponse(id, code, message, data) };
}

function invalid(id: JsonRpcId | null, message: string): ServerMessage {
  return { kind: 'invalid', id, message };
}

export interface IssueSummary {
  /** Dotted path of the offending field, e.g. "changes.KILL_ROUTE"; "" for the params object itself. */
  readonly field: string;
  readonly message: string;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): IssueSummary[] {
  return issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
    // Paths and messages can carry peer text (record keys, unknown key names): keep it printable.
    field: truncate(printableOnly(issue.path.map((part) => String(part)).join('.')), 80),
    message: truncate(printableOnly(issue.message), 200),
  }));
}

function formatIssue(issue: IssueSummary): string {
  return issue.field === '' ? issue.message : `${issue.field}: ${issue.message}`;
}

/** Names peer-supplied text in a message without echoing control characters or megabytes. */
function quoteKey(text: string): string {
  return JSON.stringify(truncate(printableOnly(text), 60));
}

function printableOnly(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function truncate(text: string, max = MAX_ERROR_MESSAGE): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
