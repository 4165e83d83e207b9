// Every message a renderer sends is checked here before the main process acts on it. A
// renderer is treated as hostile (it shows data from the network: addresses, names), so
// anything not exactly one of the channels of shared/ipc-schema.ts with an argument that
// passes that entry's zod schema is answered with an error object and goes no further.

import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import type { ApiError } from '../shared/desktop-api.js';
import { INVOKE_CHANNELS, parseParams, type InvokeMethod, type ParsedParamsOf } from '../shared/ipc-schema.js';
import { ErrorCode } from '../shared/protocol/json-rpc.js';

/** A request that passed: which method of the IPC table, with its argument as the schema parsed it. */
export type ValidRequest = { [K in InvokeMethod]: { readonly method: K; readonly params: ParsedParamsOf<K> } }[InvokeMethod];

export type ValidationResult = { readonly ok: true; readonly request: ValidRequest } | { readonly ok: false; readonly error: ApiError };

/** At most one argument crosses the bridge; preload never sends more. */
const MAX_ARGS = 1;

/** Checks one request against shared/ipc-schema.ts: a channel of the table, its one argument valid. */
export function validateIpcRequest(channel: unknown, args: readonly unknown[]): ValidationResult {
  // A Map, not an object: "constructor" or "__proto__" are never mistaken for channels.
  const method = typeof channel === 'string' ? INVOKE_CHANNELS.get(channel) : undefined;
  if (method === undefined) return fail(ErrorCode.METHOD_NOT_FOUND, 'unknown channel');
  if (!Array.isArray(args) || args.length > MAX_ARGS) return fail(ErrorCode.INVALID_PARAMS, `expected at most ${MAX_ARGS} argument`);
  const parsed = parseParams(method, args[0]);
  if (!parsed.success) return fail(ErrorCode.INVALID_PARAMS, `invalid argument for ${method}: ${summarize(parsed.error)}`);
  return { ok: true, request: { method, params: parsed.data } as ValidRequest };
}

/**
 * Only our own pages may talk to main: file:// URLs inside the renderer directory. Anything
 * else (a navigation that slipped through, an iframe, devtools-injected pages) is refused.
 * The directory is a filesystem path (C:\\...\\renderer\\ on Windows); it is turned into
 * a file URL's path the way the platform's own would be, so the two sides compare as the
 * same kind of thing (Windows drive letters and names compare case-insensitively).
 */
export function isTrustedSender(url: string, rendererDir: string, platform: NodeJS.Platform = process.platform): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'file:' || parsed.host !== '') return false;
  const windows = platform === 'win32';
  let path: string;
  let root: string;
  try {
    path = decodeURIComponent(parsed.pathname);
    root = decodeURIComponent(pathToFileURL(rendererDir, { windows }).pathname);
  } catch {
    return false; // malformed percent-encoding
  }
  if (!root.endsWith('/')) root = `${root}/`;
  if (windows) {
    // A backslash is a separator there; Chromium already normalises it, we do too.
    path = path.replace(/\\/g, '/').toLowerCase();
    root = root.toLowerCase();
  }
  return path.startsWith(root) && !path.slice(root.length).split('/').includes('..') && path.endsWith('.html');
}

function fail(code: number, message: string): ValidationResult {
  return { ok: false, error: { code, message: message.slice(0, 500) } };
}

/** The first few issues, without echoing the (possibly huge or hostile) input back. */
function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
