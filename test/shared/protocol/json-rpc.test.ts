// Framing, request parsing with the standard error codes, response parsing on the client
// side, and the dispatcher's result check.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_FRAME_BYTES,
  dispatchRequest,
  encodeFrame,
  ErrorCode,
  errorResponse,
  FrameDecoder,
  notification,
  parseRequest,
  parseRequestFrame,
  parseResponse,
  ProtocolError,
  request,
  resultResponse,
  type DecodedFrame,
  type MethodHandlers,
  type RequestParseResult,
} from '../../../shared/protocol/json-rpc.js';
import type { MethodName } from '../../../shared/protocol/methods.js';

const texts = (frames: DecodedFrame[]) => frames.map((frame) => (frame.kind === 'frame' ? frame.text : `<${frame.kind}>`));

function errorOf(result: RequestParseResult): { id: unknown; code: number; message: string } {
  assert.equal(result.kind, 'error', `expected an error, got ${JSON.stringify(result)}`);
  if (result.kind !== 'error') throw new Error('unreachable');
  return { id: result.response.id, code: result.response.error.code, message: result.response.error.message };
}

// ---------------------------------------------------------------------------------------
// Framing

test('FrameDecoder: frames survive being split at every byte boundary', () => {
  const stream = Buffer.from('{"a":1}\n{"b":"\u00e9\u6f22\ud83d\ude00"}\r\n\n  \r\n{"c":3}\n');
  const expected = ['{"a":1}', '{"b":"\u00e9\u6f22\ud83d\ude00"}', '{"c":3}'];
  for (let cut = 0; cut <= stream.length; cut++) {
    for (let cut2 = cut; cut2 <= stream.length; cut2 += 3) {
      const decoder = new FrameDecoder();
      const out = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut, cut2)), ...decoder.push(stream.subarray(cut2))];
      assert.deepEqual(texts(out), expected, `cuts at ${cut}, ${cut2}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  }
});

test('FrameDecoder: one byte at a time', () => {
  const decoder = new FrameDecoder();
  const out: DecodedFrame[] = [];
  for (const byte of Buffer.from('{"x":1}\r\n{"y":2}\n')) out.push(...decoder.push(Buffer.from([byte])));
  assert.deepEqual(texts(out), ['{"x":1}', '{"y":2}']);
});

test('FrameDecoder: CRLF tolerated, blank and whitespace-only lines skipped', () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(texts(decoder.push(Buffer.from('\n\r\n \t \n{"a":1}\r\n\r\n'))), ['{"a":1}']);
});

test('FrameDecoder: an oversized frame is reported once and the decoder resyncs at the next newline', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 16 });
  const out: DecodedFrame[] = [];
  out.push(...decoder.push(Buffer.from('{"ok":1}\n{"big":"')));
  // Lots more of the oversized frame, in pieces: none of it may be buffered.
  for (let i = 0; i < 1000; i++) {
    out.push(...decoder.push(Buffer.alloc(1024, 0x61)));
    assert.ok(decoder.bufferedBytes <= 17, `buffered ${decoder.bufferedBytes}`);
  }
  out.push(...decoder.push(Buffer.from('"}\n{"next":2}\n')));
  assert.deepEqual(texts(out), ['{"ok":1}', '<oversized>', '{"next":2}']);
});

test('FrameDecoder: the limit counts the frame without its line break', () => {
  const decoder = new FrameDecoder({ maxFrameBytes: 8 });
  assert.deepEqual(texts(decoder.push(Buffer.from('12345678\n12345678\r\n123456789\n1234567890\r\nok\n'))), ['12345678', '12345678', '<oversized>', '<oversized>', 'ok']);
  assert.equal(new FrameDecoder().maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  assert.throws(() => new FrameDecoder({ maxFrameBytes: 0 }), RangeError);
});

test('FrameDecoder: invalid UTF-8 is an error item, not a mangled frame', () => {
  const decoder = new FrameDecoder();
  const out = decoder.push(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"b":1}\n')]));
  assert.deepEqual(texts(out), ['<invalid-utf8>', '{"b":1}']);
  assert.equal(errorOf(parseRequestFrame(out[0] as DecodedFrame)).code, ErrorCode.PARSE_ERROR);
});

test('FrameDecoder: end() yields a last frame without newline', () => {
  const decoder = new FrameDecoder();
  assert.deepEqual(decoder.push(Buffer.from('{"a":1}')), []);
  assert.deepEqual(texts(decoder.end()), ['{"a":1}']);
  assert.deepEqual(decoder.end(), []);
});

test("FrameDecoder: does not keep a reference to the caller's buffer", () => {
  const decoder = new FrameDecoder();
  const chunk = Buffer.from('{"a":1');
  decoder.push(chunk);
  chunk.fill(0x20);
  assert.deepEqual(texts(decoder.push(Buffer.from('}\n'))), ['{"a":1}']);
});

test('encodeFrame: one line, even when strings contain line breaks', () => {
  const frame = encodeFrame(errorResponse(1, ErrorCode.FIREWALL_FAILED, 'nft said:\nno\r\nway\u2028'));
  assert.equal(frame.indexOf('\n'), frame.length - 1);
  const decoder = new FrameDecoder();
  assert.equal(decoder.push(Buffer.from(frame)).length, 1);
});

// ---------------------------------------------------------------------------------------
// Requests

test('parseRequest: a valid request comes back typed and canonical', () => {
  const result = parseRequest('{"jsonrpc":"2.0","id":7,"method":"block","params":{"address":"::ffff:198.18.0.7","timeoutSeconds":60}}');
  assert.deepEqual(result, { kind: 'request', id: 7, method: 'block', params: { address: '198.18.0.7', timeoutSeconds: 60 } });
  assert.deepEqual(parseRequest('{"jsonrpc":"2.0","id":"a-1","method":"status"}'), { kind: 'request', id: 'a-1', method: 'status', params: {} });
  assert.deepEqual(parseRequest('{"jsonrpc":"2.0","id":0,"method":"events.list","params":{}}'), {
    kind: 'request',
    id: 0,
    method: 'events.list',
    params: { limit: 100 },
  });
  assert.deepEqual(parseRequest(JSON.stringify(request(3, 'config.set', { changes: { IPV6: '0' } }))), {
    kind: 'request',
    id: 3,
    method: 'config.set',
    params: { changes: { IPV6: '0' } },
  });
});

test('parseRequest: -32700 for text that is not JSON', () => {
  for (const text of ['{', 'nope', '{"jsonrpc":"2.0",}', '\u0000', "{'a':1}"]) {
    assert.deepEqual(errorOf(parseRequest(text)), { id: null, code: ErrorCode.PARSE_ERROR, message: 'request is not valid JSON' });
  }
});

test('parseRequest: -32600 for JSON that is not a request', () => {
  const cases: Array<[string, unknown]> = [
    ['[]', null],
    ['[{"jsonrpc":"2.0","id":1,"method":"status"}]', null],
    ['42', null],
    ['null', null],
    ['"status"', null],
    ['{"jsonrpc":"2.0","method":"status"}', null], // notification: no id
    ['{"jsonrpc":"2.0","id":null,"method":"status"}', null],
    ['{"jsonrpc":"2.0","id":1.5,"method":"status"}', null],
    ['{"jsonrpc":"2.0","id":{},"method":"status"}', null],
    [`{"jsonrpc":"2.0","id":"${'x'.repeat(65)}","method":"status"}`, null],
    ['{"jsonrpc":"1.0","id":1,"method":"status"}', 1],
    ['{"id":1,"method":"status"}', 1],
    ['{"jsonrpc":"2.0","id":1}', 1],
    ['{"jsonrpc":"2.0","id":1,"method":5}', 1],
    ['{"jsonrpc":"2.0","id":"q","method":"status","extra":true}', 'q'],
    ['{"jsonrpc":"2.0","id":"q","method":"status","__proto__":{}}', 'q'],
  ];
  for (const [text, id] of cases) {
    const error = errorOf(parseRequest(text));
    assert.equal(error.code, ErrorCode.INVALID_REQUEST, text);
    assert.equal(error.id, id, text);
  }
  assert.equal(errorOf(parseRequestFrame({ kind: 'oversized', maxBytes: 65536 })).code, ErrorCode.INVALID_REQUEST);
});

test('parseRequest: -32601 for unknown methods, including prototype names', () => {
  for (const method of ['reboot', 'constructor', '__proto__', 'toString', 'Status', 'events', 'status ', 'x'.repeat(5000)]) {
    const error = errorOf(parseRequest(JSON.stringify({ jsonrpc: '2.0', id: 9, method })));
    assert.equal(error.code, ErrorCode.METHOD_NOT_FOUND, method);
    assert.equal(error.id, 9);
    assert.ok(error.message.length < 200);
  }
});

test('parseRequest: -32602 names the offending field', () => {
  const call = (method: string, params: unknown) => errorOf(parseRequest(JSON.stringify({ jsonrpc: '2.0', id: 'p', method, params })));
  const cases: Array<[string, unknown, RegExp]> = [
    ['block', { address: 'example.com' }, /^invalid params for block: address: "example.com" is not an IPv4 or IPv6 address$/],
    ['block', { address: '1.2.3.4; rm -rf /' }, /address: "1\.2\.3\.4; rm -rf " is not an IPv4 or IPv6 address/],
    ['block', { address: '$(reboot)' }, /address: /],
    ['block', { address: '::1%eth0' }, /address: /],
    ['block', { address: '999.1.1.1' }, /address: /],
    ['block', { address: '198.18.0.1/15' }, /address: 198\.18\.0\.1\/15 has host bits set; the network is 198\.18\.0\.0\/15/],
    ['block', { address: '198.18.0.7', timeoutSeconds: -5 }, /timeoutSeconds: /],
    ['block', { address: '198.18.0.7', force: true }, /force/],
    ['block', [], /params of block must be an object/],
    ['block', 'x', /params of block must be an object/],
    ['block', null, /params of block must be an object/],
    ['status', { verbose: true }, /verbose/],
    ['events.list', { limit: 5000 }, /limit: /],
    ['events.list', { since: 9, until: 1 }, /since: since must not be after until/],
    ['ignore.add', { entry: '198.18.0.0/40' }, /entry: "\/40" is not a valid prefix length/],
    ['config.set', { changes: { lower: '1' } }, /changes\.lower: /],
    ['config.set', { changes: { SCAN_TRIGGER: 'a\nb' } }, /changes\.SCAN_TRIGGER: /],
  ];
  for (const [method, params, pattern] of cases) {
    const error = call(method, params);
    assert.equal(error.code, ErrorCode.INVALID_PARAMS, `${method} ${JSON.stringify(params)}`);
    assert.equal(error.id, 'p');
    assert.match(error.message, pattern);
  }
});

test('parseRequest: invalid-params messages are bounded and printable', () => {
  const keys = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k\u0007\n${'z'.repeat(300)}${i}`, 1]));
  const result = parseRequest(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'status', params: keys }));
  const error = errorOf(result);
  assert.equal(error.code, ErrorCode.INVALID_PARAMS);
  assert.ok(error.message.length <= 503, `${error.message.length}`);
  assert.doesNotMatch(error.message, /[\u0000-\u001f]/);
});

test('error codes: standard and application codes', () => {
  assert.deepEqual(
    { ...ErrorCode },
    {
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
      NO_FIREWALL: -32014,
      STORE_FAILED: -32015,
    },
  );
});

// ---------------------------------------------------------------------------------------
// Builders and client-side parsing

test('builders produce JSON-RPC 2.0 messages', () => {
  assert.deepEqual(resultResponse(1, 'pause', { paused: true }), { jsonrpc: '2.0', id: 1, result: { paused: true } });
  assert.deepEqual(errorResponse(null, ErrorCode.PARSE_ERROR, 'bad'), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'bad' } });
  assert.deepEqual(errorResponse(2, ErrorCode.PROTECTED_ADDRESS, 'no', { address: '127.0.0.1' }), {
    jsonrpc: '2.0',
    id: 2,
    error: { code: -32010, message: 'no', data: { address: '127.0.0.1' } },
  });
  assert.deepEqual(request('r', 'unblock', { address: '198.18.0.7' }), { jsonrpc: '2.0', id: 'r', method: 'unblock', params: { address: '198.18.0.7' } });
});

const pending = new Map<string | number, MethodName>([
  [1, 'pause'],
  [2, 'blocks.list'],
  ['s', 'status'],
]);
const methodFor = (id: string | number) => pending.get(id);

test('parseResponse: results are validated against the method that was called', () => {
  assert.deepEqual(parseResponse(encodeFrame(resultResponse(1, 'pause', { paused: true })), methodFor), {
    kind: 'result',
    id: 1,
    method: 'pause',
    result: { paused: true },
  });
  const blocks = { blocks: [{ address: 'FD00::7', since: 1, until: null, reason: 'by hand' }] };
  const parsed = parseResponse(JSON.stringify({ jsonrpc: '2.0', id: 2, result: blocks }), methodFor);
  assert.equal(parsed.kind, 'result');
  if (parsed.kind === 'result' && parsed.method === 'blocks.list') assert.equal(parsed.result.blocks[0]?.address, 'fd00::7');

  const wrong = parseResponse(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { paused: 'yes' } }), methodFor);
  assert.equal(wrong.kind, 'invalid');
  assert.equal(wrong.kind === 'invalid' && wrong.id, 1);
  const hostile = parseResponse(JSON.stringify({ jsonrpc: '2.0', id: 2, result: { blocks: [{ address: '$(reboot)', since: 1, until: null, reason: '' }] } }), methodFor);
  assert.equal(hostile.kind, 'invalid');
  assert.equal(parseResponse(JSON.stringify({ jsonrpc: '2.0', id: 99, result: {} }), methodFor).kind, 'invalid');
});

test('parseResponse: errors, notifications and garbage', () => {
  assert.deepEqual(parseResponse(encodeFrame(errorResponse('s', ErrorCode.NOT_AUTHORIZED, 'not allowed')), methodFor), {
    kind: 'error',
    id: 's',
    error: { code: -32001, message: 'not allowed' },
  });
  assert.deepEqual(parseResponse(encodeFrame(errorResponse(null, ErrorCode.PARSE_ERROR, 'x')), methodFor), {
    kind: 'error',
    id: null,
    error: { code: -32700, message: 'x' },
  });
  const event = { type: 'block', change: 'removed', at: 5, address: '198.18.0.7', reason: 'expired', until: null, id: 12 } as const;
  assert.deepEqual(parseResponse(encodeFrame(notification('event', event)), methodFor), { kind: 'notification', method: 'event', params: event });
  const garbage = [
    'nope',
    '[]',
    '{"jsonrpc":"2.0","method":"event","params":{"type":"block"}}',
    '{"jsonrpc":"2.0","method":"reboot","params":{}}',
    '{"jsonrpc":"2.0","id":1,"result":{"paused":true},"error":{"code":1,"message":"x"}}',
    '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"y"}}',
    '{"jsonrpc":"2.0","id":null,"result":{}}',
    '{"id":1,"result":{"paused":true}}',
  ];
  for (const text of garbage) assert.equal(parseResponse(text, methodFor).kind, 'invalid', text);
});

// ---------------------------------------------------------------------------------------
// Dispatch

function handlers(overrides: Partial<MethodHandlers>): MethodHandlers {
  const unused = () => {
    throw new Error('not used in this test');
  };
  const all = Object.fromEntries(
    [
      'status',
      'version',
      'events.list',
      'events.subscribe',
      'blocks.list',
      'block',
      'unblock',
      'ignore.list',
      'ignore.add',
      'ignore.remove',
      'config.get',
      'config.set',
      'pause',
      'resume',
      'stats',
    ].map((m) => [m, unused]),
  );
  return { ...all, ...overrides } as MethodHandlers;
}

test('dispatchRequest: runs the handler with validated params and checks its result', async () => {
  const parsed = parseRequest('{"jsonrpc":"2.0","id":4,"method":"block","params":{"address":"FD00::7"}}');
  assert.equal(parsed.kind, 'request');
  if (parsed.kind !== 'request') return;
  const seen: unknown[] = [];
  const ok = handlers({
    block: (params) => {
      seen.push(params);
      return { address: params.address, until: null };
    },
  });
  assert.deepEqual(await dispatchRequest(parsed, ok, undefined), { jsonrpc: '2.0', id: 4, result: { address: 'fd00::7', until: null } });
  assert.deepEqual(seen, [{ address: 'fd00::7' }]);

  const refused = handlers({
    block: () => {
      throw new ProtocolError(ErrorCode.PROTECTED_ADDRESS, 'fd00::7 is this host');
    },
  });
  assert.deepEqual(await dispatchRequest(parsed, refused, undefined), { jsonrpc: '2.0', id: 4, error: { code: -32010, message: 'fd00::7 is this host' } });

  const crashing = handlers({
    block: async () => {
      throw new Error('secret detail /etc/shadow');
    },
  });
  assert.deepEqual(await dispatchRequest(parsed, crashing, undefined), { jsonrpc: '2.0', id: 4, error: { code: -32603, message: 'internal error' } });

  const lying = handlers({ block: () => ({ address: 'example.com', until: null }) });
  const response = await dispatchRequest(parsed, lying, undefined);
  assert.equal('error' in response && response.error.code, ErrorCode.INTERNAL_ERROR);
});
