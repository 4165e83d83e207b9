// RFC 5424 syslog messages of the helper's event records, with the record as structured data
// (SD-ID portsentry@32473: 32473 is the enterprise number RFC 5612 reserves for documentation;
// we have none of our own), and RFC 6587/5425 octet-counting framing for TCP and TLS. Pure.

import type { EventRecord } from '../../shared/structured-log/event-record.js';

export const SD_ID = 'portsentry@32473';
const APP_NAME = 'portsentry';
/** daemon.notice, as the classic lines. */
const PRI = 3 * 8 + 5;

/** PARAM-VALUE escaping (RFC 5424 6.3.3): '"', '\' and ']' take a backslash. */
function escapeParam(value: string): string {
  return value.replace(/[\\"\]]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
}

/** HOSTNAME is 1-255 printable US-ASCII without spaces; anything else becomes "-" (nil). */
export function syslogHostname(name: string): string {
  return /^[\x21-\x7e]{1,255}$/.test(name) ? name : '-';
}

function sentence(record: EventRecord): string {
  if (record.event === 'scan') {
    const why = record.reason === undefined ? '' : ` (${record.reason})`;
    return `${record.action}: ${record.protocol.toUpperCase()} port ${record.port} from ${record.source} (${record.mode} ${record.kind})${why}`;
  }
  return `block ${record.change}: ${record.address} (${record.reason})`;
}

/** One RFC 5424 message (no framing, no newline). */
export function formatRfc5424(record: EventRecord, hostname: string, pid: number): string {
  const params: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (name === 'time' || name === 'host' || name === 'event' || value === undefined) continue;
    params.push(`${name}="${escapeParam(value === null ? '' : String(value))}"`);
  }
  const header = `<${PRI}>1 ${record.time} ${syslogHostname(hostname)} ${APP_NAME} ${pid} ${record.event}`;
  return `${header} [${SD_ID} ${params.join(' ')}] ${sentence(record).replace(/[\r\n]+/g, ' ')}`;
}

/** RFC 6587 3.4.1 / RFC 5425 4.3 octet counting: "<length in bytes> <message>". */
export function octetFrame(message: string): string {
  return `${Buffer.byteLength(message, 'utf8')} ${message}`;
}
