import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRfc5424, octetFrame } from '../../../privileged-helper/reporters/rfc5424.js';
import { toEventRecord } from '../../../shared/structured-log/event-record.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';

describe('RFC 5424 messages', () => {
  it('carry the record as structured data, values escaped, and are octet-counted in bytes', () => {
    const record = toEventRecord({ type: 'block', change: 'added', at: 0, address: '198.18.0.3', reason: 'by hand: "x" ] \\ é', until: null }, 'target');
    const message = formatRfc5424(record, 'target', 42);
    assert.equal(
      message,
      '<29>1 1970-01-01T00:00:00.000Z target portsentry 42 block [portsentry@32473 v="1" change="added" address="198.18.0.3" reason="by hand: \\"x\\" \\] \\\\ é" until=""] block added: 198.18.0.3 (by hand: "x" ] \\ é)',
    );
    assert.equal(octetFrame('é a'), '4 é a');
    assert.match(formatRfc5424(record, 'bad host', 1), /^<29>1 \S+ - portsentry 1 block /);
  });

  it('SYSLOG_REMOTE is host:port or [IPv6]:port', () => {
    for (const good of ['198.18.0.9:6514', '[fd00::9]:514', 'logs.example.org:6514']) assert.equal(parseConfig(`SYSLOG_REMOTE="${good}"`, 'u.conf').syslogRemote, good);
    for (const bad of ['198.18.0.9', 'host:0', '[nothost]:514', '-x:514', 'a b:514', 'host:99999'])
      assert.throws(() => parseConfig(`SYSLOG_REMOTE="${bad}"`, 'u.conf'), /SYSLOG_REMOTE must be host:port/, bad);
  });
});
