// The renderer's only way out: window.portsentry (main/electron/preload.cts in the app, a
// fetch/EventSource shim in the tests). This file finds it and turns its errors into words.

import { APP_UNAVAILABLE, type PortSentryApi } from '../../shared/desktop-api.js';
import { ErrorCode } from '../../shared/protocol/error-codes.js';

declare global {
  interface Window {
    readonly portsentry?: PortSentryApi;
  }
}

/** The helper's JSON-RPC codes, and desktop-api.ts APP_UNAVAILABLE. */
const CODES = { ...ErrorCode, APP_UNAVAILABLE } as const;

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
