// Property-style check: hostile bytes through FrameDecoder + parseRequest must never throw,
// and every frame must come out as either a validated request or a well-formed error
// response. Seeded, so a failure reproduces; the seed and input are in the assertion message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, FrameDecoder, encodeFrame, parseRequest, parseRequestFrame, parseResponse, type RequestParseResult } from '../../../shared/protocol/json-rpc.js';
import { methods, METHOD_NAMES, isMethodName } from '../../../shared/protocol/methods.js';

const CASES = 25_000;
const STANDARD_CODES = new Set<number>([ErrorCode.PARSE_ERROR, ErrorCode.INVALID_REQUEST, ErrorCode.METHOD_NOT_FOUND, ErrorCode.INVALID_PARAMS]);

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID_REQUESTS = [
  { jsonrpc: '2.0', id: 1, method: 'status' },
  { jsonrpc: '2.0', id: 'b', method: 'block', params: { address: '198.18.0.7', reason: 'x', timeoutSeconds: 60 } },
  { jsonrpc: '2.0', id: 3, method: 'events.list', params: { since: 1, host: 'fd00::1', port: 22, kind: 'syn', limit: 10, before: 5 } },
  { jsonrpc: '2.0', id: 4, method: 'config.set', params: { changes: { SCAN_TRIGGER: '2', KILL_ROUTE: '/sbin/iptables -I INPUT -s $TARGET$ -j DROP' } } },
  { jsonrpc: '2.0', id: 5, method: 'ignore.add', params: { entry: '198.18.0.0/15', comment: 'lab' } },
  { jsonrpc: '2.0', id: 6, method: 'unblock', params: { address: 'fd00::7' } },
].map((request) => JSON.stringify(request));

const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\\u0000',
  '\\ud800',
  'null',
  'true',
  'false',
  '-0',
  '1e999',
  '0.1',
  '9007199254740993',
  '"jsonrpc"',
  '"2.0"',
  '"id"',
  '"method"',
  '"params"',
  '"__proto__"',
  '"constructor"',
  '"prototype"',
  '"toString"',
  '"status"',
  '"block"',
  '"config.set"',
  '"events.list"',
  '"address"',
  '"changes"',
  '"entry"',
  '"limit"',
  '"example.com"',
  '"1.2.3.4; rm -rf /"',
  '"$(reboot)"',
  '"::1%eth0"',
  '"999.1.1.1"',
  '"198.18.0.0/15"',
  '"`id`"',
  '\n',
  '\r',
  '\r\n',
  ' ',
  '\t',
  '\u2028',
  '\u00e9',
  '\ud83d\ude00',
  '\u0000',
  '\uffff',
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function hostileBytes(random: () => number): Buffer {
  const kind = Math.floor(random() * 8);
  switch (kind) {
    case 0: {
      // Pure noise.
      const bytes = Buffer.alloc(Math.floor(random() * 200));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      return bytes;
    }
    case 1: {
      // JSON-ish token soup.
      const parts: string[] = [];
      const count = Math.floor(random() * 40);
      for (let i = 0; i < count; i++) parts.push(pick(random, TOKENS));
      return Buffer.from(parts.join(''));
    }
    case 2: {
      // A valid request with a few bytes flipped, inserted or removed.
      const bytes = [...Buffer.from(pick(random, VALID_REQUESTS))];
      const edits = 1 + Math.floor(random() * 4);
      for (let i = 0; i < edits; i++) {
        const at = Math.floor(random() * (bytes.length + 1));
        const op = random();
        if (op < 0.4) bytes[at] = Math.floor(random() * 256);
        else if (op < 0.7) bytes.splice(at, 0, ...Buffer.from(pick(random, TOKENS)));
        else bytes.splice(at, 1 + Math.floor(random() * 5));
      }
      return Buffer.from(bytes);
    }
    case 3: {
      // A structurally valid request with hostile values in its params.
      const method = random() < 0.9 ? pick(random, METHOD_NAMES) : pick(random, ['__proto__', 'constructor', 'hasOwnProperty', '']);
      const key = pick(random, ['address', 'entry', 'host', 'changes', 'limit', 'reason', 'port', '__proto__', 'constructor', 'since']);
      const value = pick<unknown>(random, [
        'example.com',
        '1.2.3.4; rm -rf /',
        '$(reboot)',
        '::1%eth0',
        '999.1.1.1',
        '198.18.0.0/15',
        'x'.repeat(5000),
        -1,
        0,
        1e308,
        65536,
        null,
        [],
        {},
        { KEY: 'a"\nb' },
        { toString: 'x' },
        { __proto__: null },
        true,
        '\u0000',
        '198.18.0.7',
        'fd00::1',
      ]);
      const params = random() < 0.1 ? pick<unknown>(random, [[], 'x', 1, null]) : { [key]: value };
      const id = pick<unknown>(random, [1, 'a', null, 1.5, -1, {}, [], 'x'.repeat(100), 2 ** 60]);
      return Buffer.from(JSON.stringify({ jsonrpc: random() < 0.9 ? '2.0' : '1.0', id, method, params }));
    }
    case 4: {
      // Deep nesting, to look for stack exhaustion.
      const depth = Math.floor(random() * 5000);
      const open = random() < 0.5 ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return Buffer.from(`{"jsonrpc":"2.0","id":1,"method":"status","params":{"x":${open.repeat(depth)}1${close.repeat(depth)}}}`);
    }
    case 5: {
      // Long lines around the frame limit.
      return Buffer.alloc(60_000 + Math.floor(random() * 10_000), pick(random, ['a', '{', ' ', '\r']));
    }
    case 6: {
      // Broken UTF-8 inside an otherwise valid request.
      const text = Buffer.from(pick(random, VALID_REQUESTS));
      const at = Math.floor(random() * text.length);
      return Buffer.concat([text.subarray(0, at), Buffer.from([pick(random, [0x80, 0xc0, 0xed, 0xf4, 0xf8, 0xff])]), text.subarray(at)]);
    }
    default: {
      // Several valid and invalid requests glued together with assorted line endings.
      const parts: Buffer[] = [];
      const count = 1 + Math.floor(random() * 4);
      for (let i = 0; i < count; i++) parts.push(Buffer.from(pick(random, VALID_REQUESTS)), Buffer.from(pick(random, ['\n', '\r\n', '\n\n', '', ' '])));
      return Buffer.concat(parts);
    }
  }
}

function checkResult(result: RequestParseResult, context: string): void {
  if (result.kind === 'request') {
    assert.ok(isMethodName(result.method), context);
    assert.ok(typeof result.id === 'string' || Number.isSafeInteger(result.id), context);
    // What the dispatcher gets must itself be valid params (idempotent once canonical).
    assert.equal(methods[result.method].params.safeParse(result.params).success, true, context);
    return;
  }
  assert.equal(result.kind, 'error', context);
  const { response } = result;
  assert.equal(response.jsonrpc, '2.0', context);
  assert.ok(STANDARD_CODES.has(response.error.code), `unexpected code ${response.error.code}: ${context}`);
  assert.equal(typeof response.error.message, 'string', context);
  assert.ok(response.error.message.length <= 600, context);
  const frame = encodeFrame(response);
  assert.equal(frame.indexOf('\n'), frame.length - 1, context);
}

test(`${CASES} hostile byte strings through FrameDecoder + parseRequest never throw`, () => {
  const seed = 0x5eed;
  const random = rng(seed);
  const counts = { request: 0, error: 0, frames: 0 };
  for (let i = 0; i < CASES; i++) {
    const input = hostileBytes(random);
    const maxFrameBytes = random() < 0.2 ? 1 + Math.floor(random() * 256) : undefined;
    const decoder = new FrameDecoder(maxFrameBytes === undefined ? {} : { maxFrameBytes });
    const context = `seed ${seed} case ${i} max ${maxFrameBytes}: ${input.toString('base64').slice(0, 300)}`;
    // Feed the bytes (plus a final newline, sometimes) in random-sized chunks.
    const stream = random() < 0.8 ? Buffer.concat([input, Buffer.from('\n')]) : input;
    let offset = 0;
    const frames = [];
    while (offset < stream.length) {
      const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 4096));
      frames.push(...decoder.push(stream.subarray(offset, offset + size)));
      offset += size;
      assert.ok(decoder.bufferedBytes <= decoder.maxFrameBytes + 1, context);
    }
    frames.push(...decoder.end());
    for (const frame of frames) {
      const result = parseRequestFrame(frame);
      checkResult(result, context);
      counts[result.kind] += 1;
      counts.frames += 1;
    }
    // The same text straight into parseRequest and into the client's parser.
    const text = input.toString('utf8');
    checkResult(parseRequest(text), context);
    const message = parseResponse(text, () => pick(random, METHOD_NAMES));
    assert.ok(['result', 'error', 'notification', 'invalid'].includes(message.kind), context);
  }
  // The generator must actually reach both outcomes, or the test proves little.
  assert.ok(counts.request > 1000, `only ${counts.request} valid requests`);
  assert.ok(counts.error > 5000, `only ${counts.error} errors`);
});
