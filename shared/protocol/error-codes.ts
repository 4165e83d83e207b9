// The error codes of the helper protocol, in a module of their own with no imports, so the
// renderer (which must not load zod or Node modules) can share them with the helper.

/** Standard JSON-RPC codes and the helper's application codes (-32000..-32099 is ours). */
export const ErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  NOT_AUTHORIZED: -32001,
  RATE_LIMITED: -32002,
  PROTECTED_ADDRESS: -32010,
  FIREWALL_FAILED: -32011,
  CONFIG_INVALID: -32012,
  INVALID_ADDRESS: -32013,
  /** Blocking was asked for but BLOCK_BACKEND is "none" (the daemon's "no-firewall"). */
  NO_FIREWALL: -32014,
  /** The event store cannot do what was asked (damaged, replaced, locked); the message names the file. */
  STORE_FAILED: -32015,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];
