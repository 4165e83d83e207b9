// The dashboard's data logic, free of DOM: which events a filter keeps, what the helper is
// asked for, what export writes, and the shapes the charts draw (the helper's stats fill them).

import type { ParamsOf } from '../../shared/protocol/methods.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';
import { parseAddress } from '../../shared/domain/address.js';
import { ACTION_LABELS, KIND_LABELS, formatTime } from '../lib/format.js';

export type ScanEvent = Extract<StoredEvent, { type: 'scan' }>;
export type ScanKind = ScanEvent['kind'];
export type ScanAction = ScanEvent['action'];
export type ScanProtocol = ScanEvent['protocol'];

export const SCAN_KINDS = Object.keys(KIND_LABELS) as ScanKind[];
export const SCAN_ACTIONS = Object.keys(ACTION_LABELS) as ScanAction[];
export const PROTOCOLS: readonly ScanProtocol[] = ['tcp', 'udp'];

export interface EventFilter {
  readonly host?: string;
  readonly port?: number;
  readonly kind?: ScanKind;
  readonly protocol?: ScanProtocol;
  readonly action?: ScanAction;
}

export interface FilterInputs {
  readonly host: string;
  readonly port: string;
  readonly kind: string;
  readonly protocol: string;
  readonly action: string;
}

export interface ParsedFilter {
  readonly filter: EventFilter;
  readonly errors: { readonly host?: string; readonly port?: string };
}

/** Reads the filter fields; bad host or port text is an error, not a silent "any". */
export function parseFilter(inputs: FilterInputs): ParsedFilter {
  const filter: { -readonly [K in keyof EventFilter]: EventFilter[K] } = {};
  const errors: { host?: string; port?: string } = {};
  const host = inputs.host.trim();
  if (host !== '') {
    const parsed = parseAddress(host);
    if (parsed === null) errors.host = 'Enter a single IPv4 or IPv6 address, e.g. 198.51.100.7 or 2001:db8::7.';
    else filter.host = parsed.address;
  }
  const port = inputs.port.trim();
  if (port !== '') {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) errors.port = 'Enter a port number from 1 to 65535.';
    else filter.port = Number(port);
  }
  if ((SCAN_KINDS as string[]).includes(inputs.kind)) filter.kind = inputs.kind as ScanKind;
  if ((PROTOCOLS as string[]).includes(inputs.protocol)) filter.protocol = inputs.protocol as ScanProtocol;
  if ((SCAN_ACTIONS as string[]).includes(inputs.action)) filter.action = inputs.action as ScanAction;
  return { filter, errors };
}

/** The helper query for a filter (the helper filters the stored events itself). */
export function listParams(filter: EventFilter, limit: number, before?: number): ParamsOf<'events.list'> {
  return { ...filter, limit, ...(before === undefined ? {} : { before }) };
}

/** The same filter applied to a live event, so the list never shows what a reload would not. */
export function matchesFilter(event: ScanEvent, filter: EventFilter): boolean {
  return (
    (filter.host === undefined || event.source === filter.host) &&
    (filter.port === undefined || event.port === filter.port) &&
    (filter.kind === undefined || event.kind === filter.kind) &&
    (filter.protocol === undefined || event.protocol === filter.protocol) &&
    (filter.action === undefined || event.action === filter.action)
  );
}

/** Free-text search over what a row shows: every word must appear somewhere (case-insensitive). */
export function matchesSearch(event: ScanEvent, search: string): boolean {
  const words = search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return true;
  const haystack = [
    formatTime(event.at),
    event.source,
    event.resolvedName ?? '',
    String(event.port),
    event.protocol,
    event.kind,
    KIND_LABELS[event.kind],
    event.action,
    ACTION_LABELS[event.action],
    event.mode,
    event.reason ?? '',
  ]
    .join(' ')
    .toLowerCase();
  return words.every((word) => haystack.includes(word));
}

const CSV_COLUMNS = ['id', 'time', 'host', 'name', 'port', 'protocol', 'kind', 'action', 'mode', 'reason'] as const;

/** One CSV cell: quoted when needed, and never a formula a spreadsheet would run. */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(events: readonly ScanEvent[]): string {
  const rows = events.map((e) =>
    [String(e.id), new Date(e.at).toISOString(), e.source, e.resolvedName ?? '', String(e.port), e.protocol, e.kind, e.action, e.mode, e.reason ?? ''].map(csvCell).join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

export function toJson(events: readonly ScanEvent[]): string {
  return `${JSON.stringify(events, null, 2)}\n`;
}

export interface Count {
  readonly label: string;
  readonly count: number;
}

export interface TimeBucket {
  readonly start: number;
  readonly count: number;
}
