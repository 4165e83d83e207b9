import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Probe } from '../../../shared/domain/types.js';
import { formatHistoryLine } from '../../../privileged-helper/reporters/history-file.js';
import { messages, stealthDescription } from '../../../privileged-helper/reporters/messages.js';

// These regexes are the shapes classic Logcheck/fail2ban rules look for in PortSentry's lines.
const FAIL2BAN_PORTSENTRY = /attackalert: Connect from host: (\S+)\/(\S+) to (TCP|UDP) port: (\d+)/;

const base: Probe = { source: '198.18.0.3', family: 4, port: 1524, protocol: 'tcp', kind: 'connect', mode: 'tcp', at: 0 };

describe('classic log lines', () => {
  it('connect lines match the original text', () => {
    assert.equal(messages.attack(base, '198.18.0.3'), 'attackalert: Connect from host: 198.18.0.3/198.18.0.3 to TCP port: 1524');
    const udp = messages.attack({ ...base, protocol: 'udp', kind: 'udp', mode: 'udp', port: 31337 }, 'scanner.example');
    assert.equal(udp, 'attackalert: Connect from host: scanner.example/198.18.0.3 to UDP port: 31337');
    assert.match(udp, FAIL2BAN_PORTSENTRY);
    assert.match(messages.attack({ ...base, source: 'fd00::3' }, 'fd00::3'), FAIL2BAN_PORTSENTRY);
  });
  it('raw UDP (stealth and advanced) says "UDP scan", as the original -sudp/-audp do', () => {
    for (const mode of ['sudp', 'audp'] as const) {
      assert.equal(messages.attack({ ...base, protocol: 'udp', kind: 'udp', mode, port: 161 }, '198.18.0.3'), 'attackalert: UDP scan from host: 198.18.0.3/198.18.0.3 to UDP port: 161');
    }
  });
  it('stealth lines use the original packet descriptions', () => {
    assert.equal(messages.attack({ ...base, kind: 'syn', tcpFlags: 0x02 }, 'h'), 'attackalert: TCP SYN/Normal scan from host: h/198.18.0.3 to TCP port: 1524');
    assert.equal(stealthDescription(0x01), 'TCP FIN scan');
    // Kinds 1.2 never saw, in its style, with nmap's names (a Window scan sends the ACK scan's probe).
    assert.equal(stealthDescription(0x10), 'TCP ACK scan');
    assert.equal(stealthDescription(0x11), 'TCP Maimon scan');
    assert.equal(stealthDescription(0x00), ' TCP NULL scan', "1.2's own leading space");
    assert.equal(stealthDescription(0x29), 'TCP XMAS scan');
    assert.equal(stealthDescription(0x03), 'Unknown Type: TCP Packet Flags: SYN: 1 FIN: 1 ACK: 0 PSH: 0 URG: 0 RST: 0');
  });
  it("SCTP and IP protocol probes: in 1.2's style, with nmap's names and what they touched", () => {
    const probe: Probe = { ...base, mode: 'stcp', port: 31337 };
    assert.equal(messages.attack({ ...probe, kind: 'sctp-init' }, 'h'), 'attackalert: SCTP INIT scan from host: h/198.18.0.3 to SCTP port: 31337');
    assert.equal(messages.attack({ ...probe, kind: 'sctp-cookie-echo' }, 'h'), 'attackalert: SCTP COOKIE-ECHO scan from host: h/198.18.0.3 to SCTP port: 31337');
    assert.equal(messages.attack({ ...probe, kind: 'ip-protocol', port: 99 }, 'h'), 'attackalert: IP protocol scan from host: h/198.18.0.3 to IP protocol: 99');
    assert.match(messages.lanTouch({ ...probe, kind: 'ip-protocol', port: 99 }, 'why'), /touched IP protocol: 99, reported/);
    assert.match(messages.lanTouch(probe, 'why'), /touched TCP port: 31337, reported/);
  });
  it('response lines', () => {
    assert.equal(messages.alreadyBlocked('198.18.0.3'), 'attackalert: Host: 198.18.0.3 is already blocked. Ignoring');
    assert.equal(messages.alreadyBlocked('198.18.0.3', true), 'attackalert: Host: 198.18.0.3/198.18.0.3 is already blocked Ignoring', 'the stealth modes, as 1.2');
    assert.deepEqual(messages.shuttingDown(), ['securityalert: PortSentry is shutting down', 'adminalert: PortSentry is shutting down']);
    assert.equal(messages.blockedViaWrappers('198.18.0.3', 'ALL: 198.18.0.3'), 'attackalert: Host 198.18.0.3 has been blocked via wrappers with string: "ALL: 198.18.0.3"');
    // 1.2's dropped-route line, the backend's own description inside the quotes; who asked after them.
    assert.equal(
      messages.blockedViaRoute('198.18.0.3', 'nft add element inet portsentry blocked4 { 198.18.0.3 timeout 3600s }'),
      'attackalert: Host 198.18.0.3 has been blocked via dropped route using command: "nft add element inet portsentry blocked4 { 198.18.0.3 timeout 3600s }"',
    );
    assert.equal(
      messages.blockedViaRoute('fd00:5e::7', 'nft add element inet portsentry blocked6 { fd00:5e:: }', 'covers fd00:5e::/64'),
      'attackalert: Host fd00:5e::7 has been blocked via dropped route using command: "nft add element inet portsentry blocked6 { fd00:5e:: }" (covers fd00:5e::/64)',
    );
    assert.equal(messages.externalCommand('198.18.0.3', '/bin/x 198.18.0.3'), 'attackalert: External command run for host: 198.18.0.3 using command: "/bin/x 198.18.0.3"');
    assert.equal(messages.responseIgnored('TCP'), 'attackalert: Ignoring TCP response per configuration file setting.');
    assert.equal(messages.active(), 'adminalert: PortSentry is now active and listening.');
  });
});

describe('history and blocked file line', () => {
  it('has the original layout: epoch - MM/DD/YYYY HH:MM:SS Host: name/addr Port: N PROTO Blocked', () => {
    const at = new Date(2026, 10, 5, 3, 4, 5).getTime();
    const line = formatHistoryLine({ at, resolved: 'h', source: '198.18.0.3', port: 7, protocol: 'UDP' });
    assert.equal(line, `${Math.floor(at / 1000)} - 11/05/2026 03:04:05 Host: h/198.18.0.3 Port: 7 UDP Blocked\n`);
  });
});
