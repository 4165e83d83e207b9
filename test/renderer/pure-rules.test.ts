// The renderer checks input with the helper's rules: config keys through the shared key
// table, addresses and ignore entries through shared/domain. These tests run the renderer's
// built modules and the helper on the same inputs and require the same verdict and, for
// config keys, the same sentence. They load
// the BUILT renderer modules (dist/renderer, from scripts/build-renderer.mjs) so that what is
// tested is what the windows run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../privileged-helper/config/conf-file.js';
import { KNOWN_KEYS, parseConfig } from '../../privileged-helper/config/config.js';
import { MAX_USER_TEXT, configValueSchema, textSchema } from '../../shared/protocol/schemas.js';
import type { StoredEvent } from '../../shared/protocol/schemas.js';

type ScanEvent = Extract<StoredEvent, { type: 'scan' }>;
interface TextModule {
  checkUserText(text: string, max?: number): string | null;
}
interface ConfigRulesModule {
  CONFIG_FIELDS: readonly { key: string; defaultValue: string; access: 'operator' | 'root' }[];
  checkAll(values: Record<string, string>): Map<string, string>;
  checkTransportable(value: string): string | null;
  effectiveValues(fileValues: Record<string, string>): Record<string, string>;
  changedValues(before: Record<string, string>, after: Record<string, string>): Record<string, string>;
}
interface EventModelModule {
  toCsv(events: readonly ScanEvent[]): string;
  parseFilter(inputs: { host: string; port: string; kind: string; protocol: string; action: string }): { filter: Record<string, unknown>; errors: Record<string, string> };
  matchesSearch(event: ScanEvent, search: string): boolean;
}

// A variable path: the main build must not compile renderer/ (it is built for the browser).
const built = (path: string) => new URL(`../../renderer/renderer/${path}`, import.meta.url).href;
const text = (await import(built('lib/text-rules.js'))) as TextModule;
const rules = (await import(built('settings/config-rules.js'))) as ConfigRulesModule;
const model = (await import(built('dashboard/event-model.js'))) as EventModelModule;

describe('renderer rules agree with the helper', () => {
  it('refuses the same user text as the protocol', () => {
    const inputs = ['ok', '', 'line\nbreak', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085', 'sep\u2028', 'para\u2029', 'émigré ✓', 'x'.repeat(MAX_USER_TEXT), 'x'.repeat(MAX_USER_TEXT + 1)];
    for (const input of inputs) assert.equal(text.checkUserText(input) === null, textSchema(MAX_USER_TEXT).safeParse(input).success, JSON.stringify(input));
  });

  it('knows every config key the helper knows, and its defaults mean what the helper assumes', () => {
    assert.deepEqual(rules.CONFIG_FIELDS.map((f) => f.key).sort(), [...KNOWN_KEYS].sort());
    const withoutLines = ({ lines: _lines, sources: _sources, ...config }: ReturnType<typeof parseConfig>) => config;
    const implicit = withoutLines(parseConfig('', '/t.conf'));
    for (const field of rules.CONFIG_FIELDS) {
      assert.deepEqual(withoutLines(parseConfig(`${field.key}="${field.defaultValue}"\n`, '/t.conf')), implicit, field.key);
    }
  });

  it('judges every key and value exactly as the helper does, with the same sentence', () => {
    const values = [
      '',
      ' ',
      '0',
      '1',
      '2',
      '3',
      '-1',
      'lots',
      '1,99999',
      '1, 2,3',
      '1,,2',
      ',',
      '65535',
      '65536',
      '0,1',
      '1000',
      '1001',
      '15',
      '16',
      '007',
      '  5  ',
      '0x10',
      '1e3',
      '315360000',
      '315360001',
      '2592000',
      '2592001',
      '36500',
      '36501',
      '50000000',
      '50000001',
      '1234567890123',
      '/abs/path',
      'relative/path',
      '/',
      '\\\\.\\pipe\\portsentry',
      '\\\\.\\pipe\\a b',
      '\\\\host\\pipe\\x',
      'nftables',
      'pf',
      'windows-firewall',
      'command',
      'none',
      'NFTABLES',
      'portsentry',
      '9abc',
      'a'.repeat(32),
      'a'.repeat(33),
      'my-group',
      'Group',
      '_g',
      '/sbin/iptables -I INPUT -s $TARGET$ -j DROP',
      '/sbin/route add $TARGET$ 333.444.555.666',
      'echo $TARGET$ | mail root',
      'logger $PORT$',
      '$TARGET$ first',
      'ALL: $TARGET$',
      'ls $HOME',
      "unclosed 'quote",
      'ends with \\',
      "say 'a b' $MODE$",
      '/bin/x;reboot',
    ];
    let compared = 0;
    // Root-only keys are read-only in the window (the helper refuses them from an operator),
    // so the window judges only the keys it lets the user change.
    for (const field of rules.CONFIG_FIELDS.filter((f) => f.access === 'operator')) {
      for (const value of values) {
        let helperError: string | null = null;
        try {
          parseConfig(`${field.key}="${value}"\n`, '/t.conf');
        } catch (error) {
          assert.ok(error instanceof ConfigError, String(error));
          helperError = error.detail;
        }
        const rendererError = rules.checkAll(rules.effectiveValues({ [field.key]: value })).get(field.key) ?? null;
        assert.equal(rendererError, helperError, `${field.key}="${value}"`);
        compared += 1;
      }
    }
    assert.ok(compared > 800, String(compared));
    // The one rule that ties two keys together.
    assert.match(rules.checkAll(rules.effectiveValues({ BLOCK_BACKEND: 'command' })).get('BLOCK_BACKEND') ?? '', /needs a KILL_ROUTE/);
    assert.equal(rules.checkAll(rules.effectiveValues({ BLOCK_BACKEND: 'command', KILL_ROUTE: '/sbin/x $TARGET$' })).size, 0);
  });

  it('lets through to the helper only values the protocol can carry', () => {
    for (const value of ['plain', 'with "quote"', 'tab\there', 'é', 'x'.repeat(4096), 'x'.repeat(4097), '']) {
      assert.equal(rules.checkTransportable(value) === null, configValueSchema.safeParse(value).success, JSON.stringify(value).slice(0, 40));
    }
  });

  it('sends only the keys that changed', () => {
    const before = rules.effectiveValues({ SCAN_TRIGGER: '0' });
    assert.deepEqual(rules.changedValues(before, { ...before, SCAN_TRIGGER: '2' }), { SCAN_TRIGGER: '2' });
    assert.deepEqual(rules.changedValues(before, { ...before }), {});
  });
});

describe('dashboard event model', () => {
  const event = (id: number, overrides: Partial<ScanEvent> = {}): ScanEvent => ({
    type: 'scan',
    id,
    at: 1_700_000_000_000 + id * 1000,
    source: '198.51.100.7',
    family: 4,
    port: 31337,
    protocol: 'tcp',
    kind: 'syn',
    mode: 'stcp',
    action: 'blocked',
    ...overrides,
  });

  it('exports CSV that a spreadsheet reads as data, never as a formula', () => {
    const csv = model.toCsv([event(1, { reason: '=HYPERLINK("http://x")', resolvedName: 'scanner.example' }), event(2, { reason: 'a, "b"' })]);
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], 'id,time,host,name,port,protocol,kind,action,mode,reason');
    assert.equal(lines[1], `1,${new Date(1_700_000_001_000).toISOString()},198.51.100.7,scanner.example,31337,tcp,syn,blocked,stcp,"'=HYPERLINK(""http://x"")"`);
    assert.match(lines[2]!, /,"a, ""b"""$/);
  });

  it('reads filters strictly and canonically', () => {
    assert.deepEqual(model.parseFilter({ host: 'FD00:5E::B', port: '22', kind: 'syn', protocol: 'tcp', action: 'nope' }), {
      filter: { host: 'fd00:5e::b', port: 22, kind: 'syn', protocol: 'tcp' },
      errors: {},
    });
    const bad = model.parseFilter({ host: '1.2.3.4; reboot', port: '99999', kind: '', protocol: '', action: '' });
    assert.deepEqual(Object.keys(bad.errors).sort(), ['host', 'port']);
    assert.deepEqual(bad.filter, {});
  });

  it('searches every shown column', () => {
    const events = [event(1), event(2, { source: '198.51.100.8', port: 11 }), event(3, { port: 11, action: 'counted' })];
    assert.equal(model.matchesSearch(events[2]!, 'counted 11'), true);
    assert.equal(model.matchesSearch(events[2]!, 'below trigger'), true, 'the label shown counts too');
    assert.equal(model.matchesSearch(events[0]!, 'udp'), false);
    assert.equal(model.matchesSearch(events[1]!, '198.51.100.8 11'), true);
  });
});
