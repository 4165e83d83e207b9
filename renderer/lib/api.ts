// The renderer's only way out: window.portsentry (main/electron/preload.ts in the app, a
// fetch/EventSource shim in the tests). This file finds it and turns its errors into words.

import type { PortSentryApi } from '../../shared/desktop-api.js';

declare global {
  interface Window {
    readonly portsentry?: PortSentryApi;
  }
}

/** JSON-RPC codes of shared/protocol/json-rpc.ts ErrorCode and desktop-api.ts APP_UNAVAILABLE. */
const CODES = {
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  NOT_AUTHORIZED: -32001,
  RATE_LIMITED: -32002,
  PROTECTED_ADDRESS: -32010,
  FIREWALL_FAILED: -32011,
  CONFIG_INVALID: -32012,
  INVALID_ADDRESS: -32013,
  NO_FIREWALL: -32014,
  APP_UNAVAILABLE: -32099,
} as const;

export function getApi(): PortSentryApi {
  const api = window.portsentry;
  if (api === undefined) throw new Error('window.portsentry is missing: this page must run inside PortSentry Desktop');
  return api;
}

/** The code of an ApiError crossing the bridge, if there is one. */
export function errorCode(error: unknown): number | null {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number') return (error as { code: number }).code;
  return null;
}

function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}

/** A sentence for the user: what went wrong, in plain words, with the helper's detail. */
export function describeError(error: unknown, doing: string): string {
  const detail = errorMessage(error).trim();
  const prefix = (() => {
    switch (errorCode(error)) {
      case CODES.PROTECTED_ADDRESS:
        return `Not allowed to ${doing}`;
      case CODES.INVALID_ADDRESS:
      case CODES.INVALID_PARAMS:
        return `The helper refused to ${doing} because the request was not valid`;
      case CODES.NO_FIREWALL:
        return `Cannot ${doing}: blocking is turned off (BLOCK_BACKEND is "none")`;
      case CODES.FIREWALL_FAILED:
        return `The firewall could not ${doing}`;
      case CODES.CONFIG_INVALID:
        return 'The helper did not accept these settings; nothing was changed';
      case CODES.NOT_AUTHORIZED:
        return `You are not allowed to ${doing}`;
      case CODES.RATE_LIMITED:
        return 'Too many requests at once; wait a moment and try again';
      case CODES.INTERNAL_ERROR:
        return `The helper hit an internal error and could not ${doing}; its log has the details`;
      case CODES.APP_UNAVAILABLE:
        return `Cannot ${doing}: the PortSentry helper is not reachable`;
      default:
        return `Could not ${doing}`;
    }
  })();
  // The helper's bare "internal error" adds nothing to the sentence above.
  return detail === '' || /^internal error$/i.test(detail) ? `${prefix}.` : `${prefix}: ${detail}`;
}
