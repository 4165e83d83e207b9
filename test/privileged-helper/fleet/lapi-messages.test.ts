// What the LAPI sends is hostile input: decisions that aim at ranges, carry hostnames or
// shell text, lie about their duration, or arrive oversized and malformed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LapiClient, LapiError } from '../../../privileged-helper/fleet/lapi-client.js';
import { alertFor, decisionTarget, MAX_STREAM_DECISIONS, parseGoDuration, type StreamDecision } from '../../../privileged-helper/fleet/lapi-messages.js';

const decision = (overrides: Partial<StreamDecision> = {}): StreamDecision => ({
  id: 7,
  origin: 'crowdsec',
  type: 'ban',
  scope: 'Ip',
  value: '198.18.5.5',
  duration: '3h59m58.5s',
  scenario: 'portsentry/port-scan',
  ...overrides,
});

describe('fleet decisions as hostile input', () => {
  it('reads Go durations and refuses what is not one', () => {
    assert.equal(parseGoDuration('3h59m58.5s'), 14399);
    assert.equal(parseGoDuration('59m59.967660658s'), 3600);
    assert.equal(parseGoDuration('1.5ms'), 1);
    for (const bad of ['', '-1h', '1d', '4h ', 'h', '1e3s', '99999999h', '1h; rm -rf /']) assert.equal(parseGoDuration(bad), null, bad);
  });

  it('turns a ban on one address into its canonical form, and nothing else', () => {
    assert.deepEqual(decisionTarget(decision()), { ok: true, address: '198.18.5.5', seconds: 14399 });
    assert.deepEqual(decisionTarget(decision({ value: '::ffff:198.18.5.5' })), { ok: true, address: '198.18.5.5', seconds: 14399 });
    assert.deepEqual(decisionTarget(decision({ scope: 'Range', value: 'fd00:0::1/128' })), { ok: true, address: 'fd00::1', seconds: 14399 });
    // A ban of years lasts a year here at most (and nft takes it: see nft-duration.ts).
    assert.deepEqual(decisionTarget(decision({ duration: '87599h59m59s' })), { ok: true, address: '198.18.5.5', seconds: 365 * 86400 });
    assert.deepEqual(decisionTarget(decision({ duration: '8759h' })), { ok: true, address: '198.18.5.5', seconds: 8759 * 3600 });
    const refused: Array<[Partial<StreamDecision>, string]> = [
      [{ type: 'captcha' }, 'not-a-ban'],
      [{ simulated: true }, 'simulated'],
      [{ scope: 'Range', value: '198.18.0.0/15' }, 'range'],
      [{ scope: 'Range', value: '0.0.0.0/0' }, 'range'],
      [{ scope: 'Country', value: 'FR' }, 'scope'],
      [{ scope: 'Username', value: 'root' }, 'scope'],
      [{ value: 'scanner.example' }, 'bad-value'],
      [{ value: '198.18.5.5; reboot' }, 'bad-value'],
      [{ value: 'fd00::1%eth0' }, 'bad-value'],
      [{ value: '198.18.5.5/32' }, 'bad-value'],
      [{ duration: 'forever' }, 'bad-duration'],
    ];
    for (const [overrides, reason] of refused) assert.deepEqual(decisionTarget(decision(overrides)), { ok: false, reason }, JSON.stringify(overrides));
  });

  it('builds an alert that carries a ban decision, the scan kind and the ports', () => {
    const alert = alertFor(
      { address: '198.18.5.5', at: 1_700_000_000_000, kind: 'syn', protocol: 'tcp', ports: [22, 80], mode: 'stcp' },
      { scenario: 'portsentry/port-scan', origin: 'crowdsec', durationSeconds: 600 },
    );
    assert.deepEqual(alert['decisions'], [{ origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.18.5.5', duration: '600s', scenario: 'portsentry/port-scan', simulated: false }]);
    assert.deepEqual(alert['meta'], [
      { key: 'kind', value: 'syn' },
      { key: 'protocol', value: 'tcp' },
      { key: 'ports', value: '22,80' },
      { key: 'mode', value: 'stcp' },
    ]);
    // Without a scan record, the alert is the one probe's moment.
    assert.equal(alert['start_at'], alert['stop_at']);
  });

  it("spans the scan's record: from its first probe to the block, its probes counted, its kinds named", () => {
    const alert = alertFor(
      { address: '198.18.5.5', at: 1_700_000_002_000, kind: 'fin', protocol: 'tcp', ports: [1, 11, 15], mode: 'atcp', scan: { firstProbe: 1_700_000_000_000, probes: 7, kinds: ['fin', 'syn'] } },
      { scenario: 'portsentry/port-scan', origin: 'crowdsec', durationSeconds: 600 },
    );
    assert.equal(alert['start_at'], '2023-11-14T22:13:20.000Z');
    assert.equal(alert['stop_at'], '2023-11-14T22:13:22.000Z');
    assert.equal(alert['events_count'], 7);
    assert.deepEqual((alert['meta'] as Array<{ key: string; value: string }>)[0], { key: 'kind', value: 'fin,syn' });
    assert.match(String(alert['message']), /\(7 probes\)$/);
  });
});

describe('LapiClient against a hostile LAPI', () => {
  const credentials = { url: 'http://198.18.9.9:8080', machineId: 'hostA', password: 'pw-secret-123', bouncerKey: 'key-secret-456' };
  const answering = (body: string | ReadableStream<Uint8Array>, status = 200, headers: Record<string, string> = {}) => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const fake: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
      return new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });
    };
    return { fake, seen };
  };

  it('keeps the valid decisions of a stream and counts the malformed ones', async () => {
    const stream = JSON.stringify({
      new: [
        { id: 1, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.18.5.5', duration: '1h', scenario: 'x/y', extra: 'ignored' },
        { id: 'two', origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.18.5.6', duration: '1h', scenario: 'x/y' },
        { id: 3, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: 'x'.repeat(5000), duration: '1h', scenario: 'x/y' },
        null,
      ],
      deleted: null,
    });
    const { fake, seen } = answering(stream);
    const answer = await new LapiClient(credentials, Date.now, fake).pullDecisions(true);
    assert.deepEqual(
      answer.added.map((d) => d.id),
      [1],
    );
    assert.equal(answer.malformed, 3);
    assert.match(seen[0]?.url ?? '', /\/v1\/decisions\/stream\?startup=true$/);
    assert.equal(seen[0]?.headers['x-api-key'], 'key-secret-456');
    assert.match(seen[0]?.headers['user-agent'] ?? '', /^[\w-]+\/[\d.]+$/, 'the LAPI wants name/version');
  });

  it('reads a stream with more decisions than it takes: the first ones, the rest counted (the answer is not thrown away)', async () => {
    const entry = (id: number) => ({ id, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '198.18.5.5', duration: '1h', scenario: 'x/y' });
    const flood = Array.from({ length: MAX_STREAM_DECISIONS + 5 }, (_, i) => entry(i));
    const { fake } = answering(JSON.stringify({ new: flood, deleted: [entry(1), entry(2)] }));
    const answer = await new LapiClient(credentials, Date.now, fake).pullDecisions(true);
    assert.equal(answer.added.length, MAX_STREAM_DECISIONS);
    assert.equal(answer.overLimit, 5);
    assert.deepEqual(
      answer.deleted.map((d) => d.id),
      [1, 2],
      'the withdrawals in the same answer are still read',
    );
  });

  it('refuses answers that are not JSON, not the envelope, or too large, without echoing secrets', async () => {
    const cases: Array<[string | ReadableStream<Uint8Array>, number, Record<string, string>, RegExp]> = [
      ['<html>', 200, {}, /not JSON/],
      ['[1,2,3]', 200, {}, /not \{new, deleted\}/],
      ['{"new": "everything"}', 200, {}, /not \{new, deleted\}/],
      ['{}', 200, { 'content-length': String(200 * 1024 * 1024) }, /too large/],
      [endless(), 200, {}, /larger than/],
      ['{"message":"access forbidden\\u0007"}', 403, {}, /HTTP 403/],
    ];
    for (const [body, status, headers, expected] of cases) {
      const { fake } = answering(body, status, headers);
      await assert.rejects(new LapiClient(credentials, Date.now, fake).pullDecisions(false), (error: Error) => {
        assert.ok(error instanceof LapiError, String(error));
        assert.match(error.message, expected);
        assert.ok(!/secret/.test(error.message) && !error.message.includes('\u0007'), error.message);
        return true;
      });
    }
  });

  it('refuses a login answer without a token-shaped token', async () => {
    for (const body of ['{}', '{"token":"short"}', '{"token":"has spaces in it, not a jwt at all"}']) {
      const { fake } = answering(body);
      await assert.rejects(new LapiClient(credentials, Date.now, fake).pushAlerts([{}]), /holds no token/);
    }
  });
});

/** A body that never ends: the reader must stop at the cap. */
function endless(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(32);
  return new ReadableStream({ pull: (controller) => controller.enqueue(chunk) });
}
