import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planCapture } from '../../../privileged-helper/capture/capture-plan.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { EMBEDDED_CONFIG_NAME, EMBEDDED_CONFIG_TEXT } from '../../../privileged-helper/config/default-config.js';
import type { Mode } from '../../../shared/domain/types.js';

const SMALL = parseConfig(
  ['TCP_PORTS="79,1,31337"', 'UDP_PORTS="161,7"', 'ADVANCED_PORTS_TCP="1024"', 'ADVANCED_PORTS_UDP="512"', 'ADVANCED_EXCLUDE_TCP="113,139"', 'ADVANCED_EXCLUDE_UDP="520,138,137,67"'].join('\n'),
  'small.conf',
);
const EMBEDDED = parseConfig(EMBEDDED_CONFIG_TEXT, EMBEDDED_CONFIG_NAME);

describe('planCapture', () => {
  it('nothing to capture: no modes, or the classic -udp alone', () => {
    assert.equal(planCapture(SMALL, []), null);
    assert.equal(planCapture(SMALL, ['udp']), null);
  });

  it('-tcp: the configured ports but those another program holds, listening ports not asked, not required', () => {
    assert.deepEqual(planCapture(SMALL, ['tcp'], new Set([79]))?.rules[0], {
      mode: 'tcp',
      protocol: 'tcp',
      ports: { kind: 'list', ports: [79, 1, 31337] },
      exclude: new Set([79]),
      skipListening: false,
    });
    const plan = planCapture(SMALL, ['tcp']);
    assert.deepEqual(plan, {
      rules: [{ mode: 'tcp', protocol: 'tcp', ports: { kind: 'list', ports: [79, 1, 31337] }, exclude: new Set(), skipListening: false }],
      // The handshake's ACKs on the -tcp tripwires tell a connect from a half-open SYN.
      watch: { tcp: { kind: 'list', ports: [1, 79, 31337] }, udp: null, outbound: false, tcpHandshake: { kind: 'list', ports: [79, 1, 31337] } },
      requiredBy: [],
    });
  });

  it('-stcp and -sudp: the configured ports, listening ports skipped, required, outbound on (replies to our own traffic)', () => {
    assert.deepEqual(planCapture(SMALL, ['stcp']), {
      rules: [{ mode: 'stcp', protocol: 'tcp', ports: { kind: 'list', ports: [79, 1, 31337] }, exclude: new Set(), skipListening: true }],
      // SCTP INIT / COOKIE ECHO to the same ports and IP protocol probes are this mode's too.
      watch: { tcp: { kind: 'list', ports: [1, 79, 31337] }, udp: null, outbound: true, otherProtocols: { kind: 'list', ports: [1, 79, 31337] } },
      requiredBy: ['stcp'],
    });
    assert.deepEqual(planCapture(SMALL, ['sudp']), {
      rules: [{ mode: 'sudp', protocol: 'udp', ports: { kind: 'list', ports: [161, 7] }, exclude: new Set(), skipListening: true }],
      watch: { tcp: null, udp: { kind: 'list', ports: [7, 161] }, outbound: true },
      requiredBy: ['sudp'],
    });
  });

  it('-atcp and -audp: a range up to ADVANCED_PORTS_*, ADVANCED_EXCLUDE_* as the exclusions, outbound on', () => {
    assert.deepEqual(planCapture(SMALL, ['atcp']), {
      rules: [{ mode: 'atcp', protocol: 'tcp', ports: { kind: 'below', limit: 1024 }, exclude: new Set([113, 139]), skipListening: true }],
      watch: { tcp: { kind: 'below', limit: 1024 }, udp: null, outbound: true, otherProtocols: { kind: 'below', limit: 1024 } },
      requiredBy: ['atcp'],
    });
    assert.deepEqual(planCapture(SMALL, ['audp']), {
      rules: [{ mode: 'audp', protocol: 'udp', ports: { kind: 'below', limit: 512 }, exclude: new Set([520, 138, 137, 67]), skipListening: true }],
      watch: { tcp: null, udp: { kind: 'below', limit: 512 }, outbound: true },
      requiredBy: ['audp'],
    });
  });

  it('every mode of the embedded config: rule order tcp, stcp, sudp, atcp, audp; ranges cover the listed ports above them', () => {
    const plan = planCapture(EMBEDDED, ['audp', 'atcp', 'sudp', 'stcp', 'udp', 'tcp']);
    assert.ok(plan !== null);
    assert.deepEqual(
      plan.rules.map((rule) => rule.mode),
      ['tcp', 'stcp', 'sudp', 'atcp', 'audp'],
    );
    assert.deepEqual(plan.requiredBy, ['stcp', 'sudp', 'atcp', 'audp']);
    // TCP_PORTS goes up to 31337 and UDP_PORTS up to 31338, above the 1024 ranges.
    // SCTP and IP protocol probes: the stealth and advanced TCP ports only, not -tcp's tripwires.
    assert.deepEqual(plan.watch, {
      tcp: { kind: 'below', limit: 31337 },
      udp: { kind: 'below', limit: 31338 },
      outbound: true,
      tcpHandshake: { kind: 'list', ports: [...EMBEDDED.tcpPorts] },
      otherProtocols: { kind: 'below', limit: 31337 },
    });
    assert.deepEqual(plan.rules[3]?.exclude, new Set([113, 139]));
    assert.deepEqual(plan.rules[4]?.exclude, new Set([520, 138, 137, 67]));
    assert.deepEqual(plan.rules[0]?.ports, { kind: 'list', ports: [...EMBEDDED.tcpPorts] });
  });

  it('listed ports inside the advanced range add nothing to the range', () => {
    const config = parseConfig('TCP_PORTS="1,79,1024"\nADVANCED_PORTS_TCP="1024"', 'in-range.conf');
    assert.deepEqual(planCapture(config, ['stcp', 'atcp'])?.watch, { tcp: { kind: 'below', limit: 1024 }, udp: null, outbound: true, otherProtocols: { kind: 'below', limit: 1024 } });
  });

  it('-tcp with -stcp: one sorted list without duplicates', () => {
    const plan = planCapture(SMALL, ['stcp', 'tcp']);
    assert.deepEqual(plan?.watch, {
      tcp: { kind: 'list', ports: [1, 79, 31337] },
      udp: null,
      outbound: true,
      tcpHandshake: { kind: 'list', ports: [79, 1, 31337] },
      otherProtocols: { kind: 'list', ports: [1, 79, 31337] },
    });
    assert.deepEqual(
      plan?.rules.map((rule) => [rule.mode, rule.skipListening]),
      [
        ['tcp', false],
        ['stcp', true],
      ],
    );
    assert.deepEqual(plan?.requiredBy, ['stcp']);
  });

  it('a mode with no ports configured is dropped; with nothing left there is no plan', () => {
    const noTcp = parseConfig('TCP_PORTS=""\nUDP_PORTS="53"', 'no-tcp.conf');
    assert.equal(planCapture(noTcp, ['stcp']), null);
    assert.equal(planCapture(noTcp, ['tcp', 'stcp']), null);
    const plan = planCapture(noTcp, ['stcp', 'sudp']);
    assert.deepEqual(
      plan?.rules.map((rule) => rule.mode),
      ['sudp'],
    );
    assert.deepEqual(plan?.watch, { tcp: null, udp: { kind: 'list', ports: [53] }, outbound: true });
    // An advanced range never depends on the lists.
    assert.deepEqual(planCapture(noTcp, ['atcp'])?.watch, { tcp: { kind: 'below', limit: 1024 }, udp: null, outbound: true, otherProtocols: { kind: 'below', limit: 1024 } });
  });

  it('the plan does not share the config arrays', () => {
    const plan = planCapture(SMALL, ['stcp']);
    const rule = plan?.rules[0];
    assert.ok(rule?.ports.kind === 'list');
    assert.notEqual(rule.ports.ports, SMALL.tcpPorts);
  });

  it('each single mode against the embedded config', () => {
    const expectations: [Mode, string][] = [
      ['tcp', 'tcp:list'],
      ['stcp', 'tcp:list'],
      ['sudp', 'udp:list'],
      ['atcp', 'tcp:below'],
      ['audp', 'udp:below'],
    ];
    for (const [mode, shape] of expectations) {
      const plan = planCapture(EMBEDDED, [mode]);
      assert.ok(plan !== null, mode);
      assert.equal(plan.rules.length, 1, mode);
      const [protocol, kind] = shape.split(':');
      assert.equal(plan.rules[0]?.protocol, protocol, mode);
      assert.equal(plan.rules[0]?.ports.kind, kind, mode);
      assert.equal(plan.watch.outbound, mode !== 'tcp', mode);
    }
  });
});
