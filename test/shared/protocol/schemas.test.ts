// Every method's params and result schemas: a good example passes (and comes out canonical),
// hostile or malformed input is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { methods, METHOD_NAMES, isMethodName, type MethodName } from '../../../shared/protocol/methods.js';
import { helperEventSchema, storedEventSchema, addressSchema, addressOrPrefixSchema, ignoreEntrySchema } from '../../../shared/protocol/schemas.js';
import type { HelperEvent } from '../../../shared/domain/detection-event.js';

const HOSTILE_ADDRESSES = [
  'example.com',
  '1.2.3.4; rm -rf /',
  '$(reboot)',
  '`reboot`',
  '::1%eth0',
  'fe80::1%eth0',
  '999.1.1.1',
  '1.2.3',
  '01.2.3.4',
  ' 1.2.3.4',
  '1.2.3.4\n',
  '198.18.0.0/15',
  'fd00::/8',
  '',
  'localhost',
  '1.2.3.4 5.6.7.8',
  '-1.2.3.4',
  '0x7f.0.0.1',
  '2130706433',
];
/** block/unblock take a prefix too: anything else hostile, and prefixes that are not networks. */
const HOSTILE_PREFIXES = [
  ...HOSTILE_ADDRESSES.filter((a) => !['198.18.0.0/15', 'fd00::/8'].includes(a)),
  '198.18.0.7/24',
  '198.18.0.0/33',
  'fd00::/129',
  '::ffff:198.18.0.0/120',
  '198.18.0.0/24/1',
  '198.18.0.0/',
];

const scanEvent: HelperEvent = {
  type: 'scan',
  at: 1_700_000_000_000,
  source: '198.18.0.7',
  family: 4,
  port: 1524,
  protocol: 'tcp',
  kind: 'syn',
  mode: 'stcp',
  action: 'blocked',
  reason: '2 of 3 touches',
  resolvedName: 'scanner.example.net',
};
const blockEvent: HelperEvent = {
  type: 'block',
  change: 'added',
  at: 1_700_000_000_000,
  address: 'fd00::7',
  reason: 'scan of TCP port 1524',
  until: null,
};

/** A valid params value and a valid result value for every method. */
const GOOD: { [M in MethodName]: { params: unknown[]; result: unknown } } = {
  status: {
    params: [{}],
    result: {
      version: '0.1.0',
      running: true,
      paused: false,
      modes: ['tcp', 'sudp'],
      uptimeSeconds: 12.5,
      blockedCount: 3,
      eventsStored: 1200,
      captureActive: true,
      backend: 'nftables',
      role: 'operator',
    },
  },
  version: { params: [{}], result: { version: '0.1.0', protocolVersion: 1 } },
  'events.list': {
    params: [{}, { since: 0, until: 1_700_000_000_000, host: '198.18.0.7', port: 22, kind: 'syn', protocol: 'tcp', action: 'blocked', limit: 1000, before: 42 }, { host: 'fd00::1', limit: 1 }],
    result: {
      events: [
        { ...scanEvent, id: 2 },
        { ...blockEvent, id: 1 },
      ],
      nextCursor: null,
    },
  },
  'events.subscribe': { params: [{}], result: { subscribed: true } },
  'scans.list': {
    params: [{}, { limit: 1 }, { limit: 1000 }],
    result: {
      scans: [
        {
          id: '198.18.0.7@1',
          scanner: '198.18.0.7',
          family: 4,
          firstProbe: 1,
          lastProbe: 2,
          ports: { tcp: [22, 445], udp: [] },
          kinds: ['syn'],
          protocols: ['tcp'],
          probes: 3,
          outcome: 'blocked',
        },
      ],
    },
  },
  'blocks.list': {
    params: [{}],
    result: {
      blocks: [
        { address: '198.18.0.7', since: 1, until: null, reason: 'by hand' },
        { address: 'fd00::9', since: 1, until: 5000, reason: 'scan of UDP port 31337' },
      ],
    },
  },
  block: {
    params: [{ address: '198.18.0.7' }, { address: 'fd00::7', reason: 'noisy', timeoutSeconds: 0 }, { address: '198.18.0.7', timeoutSeconds: 31_536_000 }],
    result: { address: '198.18.0.7', until: null },
  },
  unblock: { params: [{ address: '198.18.0.7' }, { address: 'fd00::7', reason: 'false alarm' }], result: { address: 'fd00::7', removed: true } },
  'ignore.list': { params: [{}], result: { entries: [{ entry: '198.18.0.0/15', comment: 'lab' }, { entry: 'fd00::1' }] } },
  'ignore.add': {
    params: [{ entry: '198.18.0.0/15' }, { entry: 'fd00::/8', comment: 'lab net' }, { entry: '198.18.0.1' }],
    result: { entry: '198.18.0.0/15', added: true },
  },
  'ignore.remove': { params: [{ entry: '198.18.0.0/15' }], result: { entry: '198.18.0.0/15', removed: false } },
  'ignore.undo': {
    params: [{ entry: '198.18.0.7', reblock: [{ address: '198.18.0.7', since: 1, until: null, reason: 'scan of TCP port 1' }] }],
    result: { entry: '198.18.0.7', removed: true, reblocked: ['198.18.0.7'] },
  },
  'config.get': {
    params: [{}],
    result: { text: 'TCP_PORTS="1,11"\n', values: { TCP_PORTS: '1,11', IPV6: '1' }, sources: { TCP_PORTS: '/etc/ps.conf', IPV6: 'default' }, mainFile: '/etc/ps.conf', operatorFile: null },
  },
  'config.set': {
    params: [{ changes: { SCAN_TRIGGER: '2' } }, { changes: { IPV6: '0', KILL_ROUTE: '/sbin/route add -host $TARGET$ reject', PORT_BANNER: '' } }],
    result: { changed: ['SCAN_TRIGGER'] },
  },
  pause: { params: [{}, { durationSeconds: 900 }], result: { paused: true, pausedUntil: 1_700_000_900_000 } },
  resume: { params: [{}], result: { paused: false } },
  stats: {
    params: [{}, { since: 0, until: 1000, buckets: 240 }, { host: '198.18.0.7' }],
    result: {
      since: 0,
      until: 60_000,
      total: 3,
      sources: 1,
      firstSeen: 10,
      lastSeen: 50_000,
      bucketMs: 1000,
      timeline: [{ start: 0, count: 3 }],
      topSources: [{ address: '198.18.0.7', count: 3 }],
      topPorts: [{ port: 79, protocol: 'tcp', count: 3 }],
      kinds: [{ kind: 'syn', count: 3 }],
      actions: [{ action: 'blocked', count: 1 }],
      ports: [{ port: 79, protocol: 'tcp', count: 3 }],
      distinctPorts: 1,
    },
  },
};

/** Params every method must refuse. */
const BAD_FOR_ALL: unknown[] = [null, [], 'x', 42, true, { unexpected: 1 }];

/** Params each method must refuse, beyond BAD_FOR_ALL. */
const BAD: { [M in MethodName]: unknown[] } = {
  status: [],
  version: [],
  'events.list': [
    { limit: 0 },
    { limit: 1001 },
    { limit: 1.5 },
    { limit: '100' },
    { port: 0 },
    { port: 65536 },
    { port: 22.5 },
    { port: '22' },
    { since: -1 },
    { since: 10, until: 5 },
    { until: 'yesterday' },
    { kind: 'ping' },
    { protocol: 'icmp' },
    { action: 'nuked' },
    { before: 0 },
    { before: -3 },
    ...HOSTILE_ADDRESSES.map((host) => ({ host })),
  ],
  'events.subscribe': [{ subscribed: true }],
  'blocks.list': [],
  'scans.list': [{ limit: 0 }, { limit: 1001 }, { limit: '5' }, { limit: 1.5 }],
  block: [
    {},
    { address: 42 },
    { address: '198.18.0.7', reason: 'x'.repeat(201) },
    { address: '198.18.0.7', reason: 'line\ninjected' },
    { address: '198.18.0.7', timeoutSeconds: -1 },
    { address: '198.18.0.7', timeoutSeconds: 31_536_001 },
    { address: '198.18.0.7', timeoutSeconds: 1.5 },
    { address: '198.18.0.7', timeoutSeconds: '60' },
    { address: '198.18.0.7', until: 5 },
    ...HOSTILE_PREFIXES.map((address) => ({ address })),
  ],
  unblock: [{}, { address: '198.18.0.7', reason: 7 }, { address: '198.18.0.7', timeoutSeconds: 5 }, ...HOSTILE_PREFIXES.map((address) => ({ address }))],
  'ignore.list': [],
  'ignore.add': [
    {},
    { entry: '198.18.0.0/33' },
    { entry: 'fd00::/129' },
    { entry: '198.18.0.0/' },
    { entry: '198.18.0.0/15/1' },
    { entry: '/8' },
    { entry: '198.18.0.0/+8' },
    { entry: 'example.com' },
    { entry: '$(reboot)' },
    { entry: '::1%eth0/128' },
    { entry: '198.18.0.1', comment: 'two\nlines' },
    { entry: '198.18.0.1', comment: 'x'.repeat(201) },
  ],
  'ignore.remove': [{}, { entry: 'example.com' }, { entry: '198.18.0.1', comment: 'no comment here' }],
  'ignore.undo': [{ entry: '198.18.0.1' }, { entry: '198.18.0.1', reblock: [{ address: 'example.com', since: 1, until: null, reason: 'x' }] }],
  'config.get': [],
  'config.set': [
    {},
    { changes: {} },
    { changes: { scan_trigger: '1' } },
    { changes: { '1ABC': '1' } },
    { changes: { A_VERY_LONG_KEY_NAME_THAT_GOES_PAST_FORTY_CHARS: '1' } },
    { changes: { SCAN_TRIGGER: 1 } },
    { changes: { SCAN_TRIGGER: '1"\nKILL_ROUTE="/bin/sh' } },
    { changes: { SCAN_TRIGGER: '1\n' } },
    { changes: { SCAN_TRIGGER: 'x'.repeat(4097) } },
    { changes: { PORT_BANNER: 'caf\u00e9' } },
    { changes: { __proto__: 'x' } },
    { changes: JSON.parse('{"__proto__": "x"}') },
    { changes: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`KEY_${String.fromCharCode(65 + (i % 26))}${i}`, '1'])) },
    { changes: [] },
  ],
  pause: [{ durationSeconds: 0 }, { durationSeconds: 604_801 }, { durationSeconds: 1.5 }, { durationSeconds: '900' }, { until: 5 }],
  resume: [{ durationSeconds: 900 }],
  stats: [{ since: 2000, until: 1000 }, { buckets: 0 }, { buckets: 241 }, { host: '198.18.0.0/24' }, { host: '$(reboot)' }, { since: -1 }, { limit: 10 }],
};

test('the method table lists exactly the methods of the protocol', () => {
  assert.deepEqual([...METHOD_NAMES].sort(), Object.keys(GOOD).sort());
  assert.equal(isMethodName('status'), true);
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'Status', 'events', '']) {
    assert.equal(isMethodName(name), false, name);
  }
});

for (const method of METHOD_NAMES) {
  test(`${method}: accepts good params and a good result`, () => {
    const schemas = methods[method];
    for (const params of GOOD[method].params) {
      const parsed = schemas.params.safeParse(params);
      assert.equal(parsed.success, true, `${method} params ${JSON.stringify(params)}: ${parsed.error?.message}`);
    }
    const result = schemas.result.safeParse(GOOD[method].result);
    assert.equal(result.success, true, `${method} result: ${result.error?.message}`);
  });

  test(`${method}: rejects bad params`, () => {
    for (const params of [...BAD_FOR_ALL, ...BAD[method]]) {
      const parsed = methods[method].params.safeParse(params);
      assert.equal(parsed.success, false, `${method} accepted ${JSON.stringify(params)}`);
    }
  });

  test(`${method}: rejects a result with an extra key`, () => {
    const result = { ...(GOOD[method].result as object), extra: 1 };
    assert.equal(methods[method].result.safeParse(result).success, false);
  });
}

test('block and unblock take a CIDR prefix, in canonical form', () => {
  assert.equal(addressOrPrefixSchema.parse('198.18.0.0/24'), '198.18.0.0/24');
  assert.equal(addressOrPrefixSchema.parse('FD00:5E:0::/64'), 'fd00:5e::/64');
  assert.equal(addressOrPrefixSchema.parse('198.18.0.7/32'), '198.18.0.7');
  assert.equal(methods.block.params.safeParse({ address: '198.19.0.0/16' }).success, true);
});

test('addresses come out in canonical form', () => {
  assert.equal(addressSchema.parse('::FFFF:198.18.0.7'), '198.18.0.7');
  assert.equal(addressSchema.parse('FD00:0:0:0:0:0:0:7'), 'fd00::7');
  assert.deepEqual(methods.block.params.parse({ address: 'FD00::0007' }), { address: 'fd00::7' });
  assert.equal(ignoreEntrySchema.parse('198.18.0.1/32'), '198.18.0.1');
  assert.equal(ignoreEntrySchema.parse('FD00::/8'), 'fd00::/8');
  assert.equal(ignoreEntrySchema.parse('FD00::1/128'), 'fd00::1');
  for (const hostile of HOSTILE_ADDRESSES) assert.equal(addressSchema.safeParse(hostile).success, false, hostile);
  assert.equal(addressSchema.safeParse(42).success, false);
  assert.equal(addressSchema.safeParse('1'.repeat(100_000)).success, false);
});

test('events.list fills in the default page size', () => {
  assert.deepEqual(methods['events.list'].params.parse({}), { limit: 100 });
});

test('events: the daemon types round-trip and malformed events are refused', () => {
  assert.deepEqual(helperEventSchema.parse(scanEvent), scanEvent);
  assert.deepEqual(helperEventSchema.parse(blockEvent), blockEvent);
  assert.deepEqual(storedEventSchema.parse({ ...blockEvent, id: 9 }), { ...blockEvent, id: 9 });
  const bad: unknown[] = [
    { ...scanEvent, type: 'other' },
    { ...scanEvent, extra: true },
    { ...scanEvent, source: 'example.com' },
    { ...scanEvent, family: 5 },
    { ...scanEvent, port: 0 },
    { ...scanEvent, mode: 'xtcp' },
    { ...scanEvent, resolvedName: 'evil name\n' },
    { ...scanEvent, reason: 'forged\nline' },
    { ...blockEvent, change: 'replaced' },
    { ...blockEvent, until: undefined },
    { ...blockEvent, at: -1 },
    { ...scanEvent, id: 1 }, // HelperEvent has no id; only stored events do
  ];
  for (const event of bad) assert.equal(helperEventSchema.safeParse(event).success, false, JSON.stringify(event));
  assert.equal(storedEventSchema.safeParse(scanEvent).success, false, 'stored events need an id');
  assert.equal(storedEventSchema.safeParse({ ...scanEvent, id: 0 }).success, false);
});
