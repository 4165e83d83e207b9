// Every message a renderer sends is checked here before the main process acts on it. A
// renderer is treated as hostile (it shows data from the network: addresses, names), so
// anything not exactly one of the fixed channels with arguments that pass the shared zod
// schemas is answered with an error object and goes no further.

import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { ApiError } from '../shared/desktop-api.js';
import { ErrorCode } from '../shared/protocol/json-rpc.js';
import { methods, type MethodName, type ParsedParamsOf } from '../shared/protocol/methods.js';
import { HELPER_CHANNELS, LOCAL_CHANNELS, type HelperChannel } from './ipc-channels.js';
import { preferenceChangesSchema, type PreferenceChanges } from './preferences-schema.js';
import type { HelperFix } from '../shared/desktop-api.js';
import { ignoreEntrySchema } from '../shared/protocol/schemas.js';

/** The fixes a page may ask for; which one applies is decided again in main. */
const HELPER_FIXES: readonly HelperFix[] = ['install', 'start', 'join-group', 'log-out', 'retry'];

export type ValidRequest =
  | { readonly kind: 'helper'; readonly method: MethodName; readonly params: ParsedParamsOf<MethodName> }
  | { readonly kind: 'preferences.get' }
  | { readonly kind: 'preferences.set'; readonly changes: PreferenceChanges }
  | { readonly kind: 'copy-address'; readonly address: string }
  | { readonly kind: 'helper.setup' }
  | { readonly kind: 'helper.fix'; readonly action: HelperFix };

export type ValidationResult = { readonly ok: true; readonly request: ValidRequest } | { readonly ok: false; readonly error: ApiError };

/** At most one argument crosses the bridge; preload never sends more. */
const MAX_ARGS = 1;

export function validateIpcRequest(channel: unknown, args: readonly unknown[]): ValidationResult {
  if (typeof channel !== 'string') return fail(ErrorCode.METHOD_NOT_FOUND, 'unknown channel');
  if (!Array.isArray(args) || args.length > MAX_ARGS) return fail(ErrorCode.INVALID_PARAMS, `expected at most ${MAX_ARGS} argument`);
  const arg = args[0];

  if (Object.hasOwn(HELPER_CHANNELS, channel)) {
    const method = HELPER_CHANNELS[channel as HelperChannel];
    // Methods without params take nothing or {}; the schema says which.
    const parsed = (methods[method].params as z.ZodType).safeParse(arg === undefined ? {} : arg);
    if (!parsed.success) return fail(ErrorCode.INVALID_PARAMS, `invalid params for ${method}: ${summarize(parsed.error)}`);
    return { ok: true, request: { kind: 'helper', method, params: parsed.data as ParsedParamsOf<MethodName> } };
  }
  if (channel === LOCAL_CHANNELS.getPreferences) {
    if (arg !== undefined) return fail(ErrorCode.INVALID_PARAMS, 'preferences.get takes no argument');
    return { ok: true, request: { kind: 'preferences.get' } };
  }
  if (channel === LOCAL_CHANNELS.setPreferences) {
    const parsed = preferenceChangesSchema.safeParse(arg);
    if (!parsed.success) return fail(ErrorCode.INVALID_PARAMS, `invalid preferences: ${summarize(parsed.error)}`);
    return { ok: true, request: { kind: 'preferences.set', changes: parsed.data } };
  }
  if (channel === LOCAL_CHANNELS.copyAddress) {
    // Only an address or address/prefix reaches the clipboard: a page cannot plant a command there.
    const parsed = ignoreEntrySchema.safeParse(arg);
    if (!parsed.success) return fail(ErrorCode.INVALID_PARAMS, `invalid address: ${summarize(parsed.error)}`);
    return { ok: true, request: { kind: 'copy-address', address: parsed.data } };
  }
  if (channel === LOCAL_CHANNELS.helperSetup) {
    if (arg !== undefined) return fail(ErrorCode.INVALID_PARAMS, 'helper.setup takes no argument');
    return { ok: true, request: { kind: 'helper.setup' } };
  }
  if (channel === LOCAL_CHANNELS.fixHelper) {
    if (typeof arg !== 'string' || !HELPER_FIXES.includes(arg as HelperFix)) return fail(ErrorCode.INVALID_PARAMS, `fix must be one of ${HELPER_FIXES.join(', ')}`);
    return { ok: true, request: { kind: 'helper.fix', action: arg as HelperFix } };
  }
  return fail(ErrorCode.METHOD_NOT_FOUND, 'unknown channel');
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
