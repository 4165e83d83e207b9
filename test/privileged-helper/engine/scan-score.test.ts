import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kernelScope, scoreOptions, serviceName, weigh, type ScoreOptions } from '../../../privileged-helper/engine/scan-score.js';
import { DetectionEngine } from '../../../privileged-helper/engine/engine.js';
import { NeverBlock } from '../../../privileged-helper/never-block/never-block.js';
import { CONFIG_KEYS } from '../../../shared/domain/config-keys.js';
import type { Probe, Protocol } from '../../../shared/domain/types.js';

const DEFAULTS = scoreOptions({
  scanScoring: 'lan',
  scanScoreThreshold: Number(CONFIG_KEYS.SCAN_SCORE_THRESHOLD.defaultText),
  scanScorePort: Number(CONFIG_KEYS.SCAN_SCORE_PORT.defaultText),
  scanScoreLanService: Number(CONFIG_KEYS.SCAN_SCORE_LAN_SERVICE.defaultText),
  lanServicePortsTcp: CONFIG_KEYS.LAN_SERVICE_PORTS_TCP.parse(CONFIG_KEYS.LAN_SERVICE_PORTS_TCP.defaultText, 'LAN_SERVICE_PORTS_TCP', { trustedFile: true }),
  lanServicePortsUdp: CONFIG_KEYS.LAN_SERVICE_PORTS_UDP.parse(CONFIG_KEYS.LAN_SERVICE_PORTS_UDP.defaultText, 'LAN_SERVICE_PORTS_UDP', { trustedFile: true }),
});

function probe(source: string, port: number, protocol: Protocol = 'tcp', at = 0): Probe {
  return { source, family: 4, port, protocol, kind: protocol === 'tcp' ? 'syn' : 'udp', mode: protocol === 'tcp' ? 'atcp' : 'audp', at };
}

function engine(score: ScoreOptions = DEFAULTS, scanTrigger = 0): DetectionEngine {
  return new DetectionEngine({ scanTrigger, windowMs: 3_600_000, maxSources: 1000, score }, new NeverBlock([], []));
}

describe('scan score: weights', () => {
  it('an on-link touch of a LAN service port weighs the service weight, once per service', () => {
    assert.deepEqual(weigh({ protocol: 'tcp', port: 445 }, true, DEFAULTS), { key: 'service SMB/NetBIOS', weight: 2, service: 'SMB/NetBIOS' });
    assert.equal(weigh({ protocol: 'udp', port: 137 }, true, DEFAULTS).key, 'service SMB/NetBIOS');
    assert.equal(weigh({ protocol: 'udp', port: 68 }, true, DEFAULTS).key, weigh({ protocol: 'udp', port: 67 }, true, DEFAULTS).key);
  });

  it('the same port from off-link, or another port on-link, weighs the port weight', () => {
    assert.deepEqual(weigh({ protocol: 'tcp', port: 445 }, false, DEFAULTS), { key: 'tcp/445', weight: 4, service: null });
    assert.deepEqual(weigh({ protocol: 'tcp', port: 31337 }, true, DEFAULTS), { key: 'tcp/31337', weight: 4, service: null });
    // 445 is a LAN port for TCP only.
    assert.equal(weigh({ protocol: 'udp', port: 445 }, true, DEFAULTS).service, null);
  });

  it('classic: every probe weighs the threshold, on-link or not', () => {
    const classic = { ...DEFAULTS, scoring: 'classic' as const, portWeight: 0 };
    assert.deepEqual(weigh({ protocol: 'udp', port: 161 }, true, classic), { key: 'udp/161', weight: 4, service: null });
  });

  it('a listed port with no known service is a service of its own', () => {
    assert.equal(serviceName('udp', 9999), 'UDP port 9999');
    assert.equal(serviceName('tcp', 631), 'IPP printing');
  });

  it('the kernel trap acts alone only when every first touch acts, and leaves LAN touches to user space', () => {
    assert.deepEqual(kernelScope(DEFAULTS), { firstTouchActs: true, leaveLanToUserSpace: true });
    assert.deepEqual(kernelScope({ ...DEFAULTS, lanServiceWeight: 4 }), { firstTouchActs: true, leaveLanToUserSpace: false });
    assert.deepEqual(kernelScope({ ...DEFAULTS, portWeight: 1 }), { firstTouchActs: false, leaveLanToUserSpace: true });
    assert.deepEqual(kernelScope({ ...DEFAULTS, scoring: 'classic', portWeight: 1 }), { firstTouchActs: true, leaveLanToUserSpace: false });
  });
});

describe('scan score: the engine', () => {
  it("reports an on-link neighbour's lone SMB touch, and its repeats, without counting them to a block", () => {
    const e = engine();
    assert.deepEqual(e.assess(probe('198.18.0.20', 445), { onLink: true }), { kind: 'below-threshold', score: 2, threshold: 4, service: 'SMB/NetBIOS', first: true });
    assert.deepEqual(e.assess(probe('198.18.0.20', 139, 'tcp', 5), { onLink: true }), { kind: 'below-threshold', score: 2, threshold: 4, service: 'SMB/NetBIOS', first: false });
    assert.equal(e.isBlocked('198.18.0.20', 10), false);
  });

  it('a second distinct service from the same neighbour acts at once', () => {
    const e = engine();
    assert.equal(e.assess(probe('198.18.0.20', 161, 'udp'), { onLink: true }).kind, 'below-threshold');
    assert.deepEqual(e.assess(probe('198.18.0.20', 631, 'tcp', 1), { onLink: true }), { kind: 'triggered', hits: 2 });
  });

  it('a tripwire from an on-link neighbour, and a LAN port from off-link, act at the first probe', () => {
    assert.equal(engine().assess(probe('198.18.0.20', 31337), { onLink: true }).kind, 'triggered');
    assert.equal(engine().assess(probe('198.51.100.7', 445), { onLink: false }).kind, 'triggered');
    // No context: off-link.
    assert.equal(engine().assess(probe('198.51.100.7', 445)).kind, 'triggered');
  });

  it('the score lapses with the counting window', () => {
    const e = new DetectionEngine({ scanTrigger: 0, windowMs: 1000, maxSources: 1000, score: DEFAULTS }, new NeverBlock([], []));
    assert.equal(e.assess(probe('198.18.0.20', 161, 'udp', 0), { onLink: true }).kind, 'below-threshold');
    assert.equal(e.assess(probe('198.18.0.20', 631, 'tcp', 1000), { onLink: true }).kind, 'below-threshold');
  });

  it('a service weight of 0 never adds, so every touch is a first, and never blocks', () => {
    const e = engine({ ...DEFAULTS, lanServiceWeight: 0 });
    for (const port of [445, 631, 1716])
      assert.deepEqual(e.assess(probe('198.18.0.20', port), { onLink: true }), {
        kind: 'below-threshold',
        score: 0,
        threshold: 4,
        service: port === 445 ? 'SMB/NetBIOS' : port === 631 ? 'IPP printing' : 'KDE Connect',
        first: false,
      });
  });

  it('over the threshold, SCAN_TRIGGER still counts touches', () => {
    const e = engine(DEFAULTS, 3);
    assert.equal(e.assess(probe('198.18.0.20', 445), { onLink: true }).kind, 'below-threshold');
    assert.deepEqual(e.assess(probe('198.18.0.20', 631, 'tcp', 1), { onLink: true }), { kind: 'counted', hits: 2, needed: 3 });
    assert.deepEqual(e.assess(probe('198.18.0.20', 1, 'tcp', 2), { onLink: true }), { kind: 'triggered', hits: 3 });
  });

  it('classic: the lone LAN touch blocks, as in 1.2', () => {
    assert.equal(engine({ ...DEFAULTS, scoring: 'classic' }).assess(probe('198.18.0.20', 445), { onLink: true }).kind, 'triggered');
  });
});
