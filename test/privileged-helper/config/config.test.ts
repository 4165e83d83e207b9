import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfText } from '../../../privileged-helper/config/conf-file.js';
import { parseConfig } from '../../../privileged-helper/config/config.js';
import { EMBEDDED_CONFIG_NAME, EMBEDDED_CONFIG_TEXT } from '../../../privileged-helper/config/default-config.js';

// Debian's own /etc/portsentry/portsentry.conf, copied unchanged from the portsentry 1.2 package.
const debianConfPath = fileURLToPath(new URL('../../../../test/privileged-helper/config/debian-portsentry.conf', import.meta.url));

function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, '/etc/test.conf');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the config to be rejected');
}

describe('classic portsentry.conf parsing', () => {
  it("reads the config shipped by Debian's portsentry package unchanged", () => {
    const config = parseConfig(readFileSync(debianConfPath, 'utf8'), debianConfPath);
    assert.deepEqual(config.tcpPorts.slice(0, 4), [1, 11, 15, 79]);
    assert.equal(config.tcpPorts.length, 26);
    assert.equal(config.udpPorts.length, 21);
    assert.equal(config.advancedPortsTcp, 1024);
    assert.deepEqual(config.advancedExcludeUdp, [520, 138, 137, 67]);
    assert.equal(config.ignoreFile, '/etc/portsentry/portsentry.ignore');
    assert.equal(config.historyFile, '/var/lib/portsentry/portsentry.history');
    assert.equal(config.blockedFile, '/var/lib/portsentry/portsentry.blocked');
    assert.equal(config.resolveHost, false, 'RESOLVE_HOST = "0" (spaces around =) is read');
    assert.equal(config.blockTcp, 0);
    assert.equal(config.blockUdp, 0);
    assert.deepEqual(config.killRoute?.argv, ['/sbin/route', 'add', '-host', '$TARGET$', 'reject']);
    assert.equal(config.killHostsDeny, 'ALL: $TARGET$ : DENY');
    assert.equal(config.scanTrigger, 0);
    assert.equal(config.blockBackend, 'command', 'a classic KILL_ROUTE keeps being used');
  });

  it('parses every classic key', () => {
    const config = parseConfig(
      [
        'TCP_PORTS="1, 2,3"',
        'UDP_PORTS="7,9"',
        'ADVANCED_PORTS_TCP="2048"',
        'ADVANCED_PORTS_UDP="512"',
        'ADVANCED_EXCLUDE_TCP="113,139"',
        'ADVANCED_EXCLUDE_UDP=""',
        'IGNORE_FILE="/a/ignore"',
        'HISTORY_FILE="/a/history"',
        'BLOCKED_FILE="/a/blocked"',
        'RESOLVE_HOST="1"',
        'BLOCK_TCP="2"',
        'BLOCK_UDP="1"',
        'KILL_ROUTE="/sbin/iptables -I INPUT -s $TARGET$ -j DROP"',
        'KILL_HOSTS_DENY="ALL: $TARGET$ : DENY"',
        'KILL_RUN_CMD="/usr/local/bin/alert \'scan on $PORT$\' $TARGET$ $MODE$"',
        'KILL_RUN_CMD_FIRST="1"',
        'PORT_BANNER="** UNAUTHORIZED ACCESS PROHIBITED **"',
        'SCAN_TRIGGER="3"',
      ].join('\n'),
      '/etc/x.conf',
    );
    assert.deepEqual(config.tcpPorts, [1, 2, 3]);
    assert.deepEqual(config.udpPorts, [7, 9]);
    assert.equal(config.advancedPortsTcp, 2048);
    assert.equal(config.advancedPortsUdp, 512);
    assert.deepEqual(config.advancedExcludeTcp, [113, 139]);
    assert.deepEqual(config.advancedExcludeUdp, []);
    assert.equal(config.ignoreFile, '/a/ignore');
    assert.equal(config.historyFile, '/a/history');
    assert.equal(config.blockedFile, '/a/blocked');
    assert.equal(config.resolveHost, true);
    assert.equal(config.blockTcp, 2);
    assert.equal(config.blockUdp, 1);
    assert.deepEqual(config.killRoute?.argv, ['/sbin/iptables', '-I', 'INPUT', '-s', '$TARGET$', '-j', 'DROP']);
    assert.equal(config.killHostsDeny, 'ALL: $TARGET$ : DENY');
    assert.deepEqual(config.killRunCmd?.argv, ['/usr/local/bin/alert', 'scan on $PORT$', '$TARGET$', '$MODE$']);
    assert.equal(config.killRunCmdFirst, true);
    assert.equal(config.portBanner, '** UNAUTHORIZED ACCESS PROHIBITED **');
    assert.equal(config.scanTrigger, 3);
    assert.equal(config.lines['SCAN_TRIGGER'], 18);
  });

  it('parses every new key', () => {
    const config = parseConfig(
      [
        'BLOCK_BACKEND="none"',
        'NFT_TABLE="ps_test"',
        'BLOCK_TIMEOUT="600"',
        'IPV6="0"',
        'SYSLOG_SOCKET="/tmp/log.sock"',
        'HOSTS_DENY_FILE="/tmp/hosts.deny"',
        'SCAN_TRIGGER_WINDOW="60"',
        'STATE_MAX_SOURCES="1000"',
      ].join('\n'),
      '/etc/x.conf',
    );
    assert.equal(config.blockBackend, 'none');
    assert.equal(config.nftTable, 'ps_test');
    assert.equal(config.blockTimeoutSeconds, 600);
    assert.equal(config.ipv6, false);
    assert.equal(config.syslogSocket, '/tmp/log.sock');
    assert.equal(config.hostsDenyFile, '/tmp/hosts.deny');
    assert.equal(config.scanTriggerWindowSeconds, 60);
    assert.equal(config.stateMaxSources, 1000);
  });

  it('defaults to the nftables backend when no KILL_ROUTE is named', () => {
    assert.equal(parseConfig('TCP_PORTS="1"', '/x').blockBackend, 'nftables');
  });

  it('accepts comments, blank lines, CRLF and a trailing comment after the value', () => {
    const config = parseConfig('# comment\r\n\r\n   # indented comment\r\nTCP_PORTS="1,2" # the tripwires\r\n', '/x');
    assert.deepEqual(config.tcpPorts, [1, 2]);
  });

  it('embedded defaults are a valid config that blocks through nftables', () => {
    const config = parseConfig(EMBEDDED_CONFIG_TEXT, EMBEDDED_CONFIG_NAME);
    assert.equal(config.blockTcp, 1);
    assert.equal(config.blockUdp, 1);
    assert.equal(config.blockBackend, 'nftables');
    assert.ok(config.tcpPorts.length > 10 && config.udpPorts.length > 10);
  });
});

describe('malformed configs are rejected with file and line', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['unknown key', 'TCP_PORTS="1"\nTCP_PORT="2"', 2, /unknown key TCP_PORT \(did you mean TCP_PORTS\?\)/],
    ['unquoted value', 'SCAN_TRIGGER=1', 1, /must be in double quotes/],
    ['unclosed quote', 'SCAN_TRIGGER="1', 1, /no closing double quote/],
    ['text after value', 'SCAN_TRIGGER="1" extra', 1, /unexpected text after/],
    ['no equals sign', 'TCP_PORTS "1"', 1, /expected KEY="value"/],
    ['key set twice', 'SCAN_TRIGGER="1"\n\nSCAN_TRIGGER="2"', 3, /set twice \(first on line 1\)/],
    ['port out of range', 'TCP_PORTS="1,70000"', 1, /port 70000 is outside 1-65535/],
    ['port zero', 'UDP_PORTS="0"', 1, /port 0 is outside/],
    ['port not a number', 'TCP_PORTS="1,ssh"', 1, /"ssh" is not a port/],
    ['negative trigger', 'SCAN_TRIGGER="-1"', 1, /whole number/],
    ['trigger too large', 'SCAN_TRIGGER="5000"', 1, /between 0 and 1000/],
    ['bad block level', 'BLOCK_TCP="3"', 1, /"0" \(report only\), "1" \(block\) or "2"/],
    ['bad flag', 'RESOLVE_HOST="yes"', 1, /"0" or "1"/],
    ['relative path', 'HISTORY_FILE="portsentry.history"', 1, /absolute path/],
    ['KILL_ROUTE without target', 'KILL_ROUTE="/sbin/route add -host reject"', 1, /must contain \$TARGET\$/],
    ['KILL_ROUTE with a pipe', 'KILL_ROUTE="/sbin/iptables -I INPUT -s $TARGET$ -j DROP | logger"', 1, /shell operator '\|'/],
    ['KILL_RUN_CMD with ;', 'KILL_RUN_CMD="/bin/echo $TARGET$; rm -rf /"', 1, /shell operator ';'/],
    ['KILL_RUN_CMD with $()', 'KILL_RUN_CMD="/bin/echo $(id)"', 1, /uses '\$' outside/],
    ['KILL_RUN_CMD with backtick', 'KILL_RUN_CMD="/bin/echo `id`"', 1, /shell operator '`'/],
    ['KILL_RUN_CMD with redirect', 'KILL_RUN_CMD="/bin/echo $TARGET$ > /tmp/x"', 1, /shell operator '>'/],
    ['KILL_RUN_CMD unclosed quote', 'KILL_RUN_CMD="/bin/echo \'x"', 1, /unclosed ' quote/],
    ['KILL_HOSTS_DENY without target', 'KILL_HOSTS_DENY="ALL: 1.2.3.4"', 1, /must contain \$TARGET\$/],
    ['control character', 'PORT_BANNER="a\tb"', 1, /control or non-ASCII/],
    ['bad backend', 'BLOCK_BACKEND="iptables-legacy"', 1, /"nftables", "pf" \(macOS\), "windows-firewall", "command"/],
    ['command backend without KILL_ROUTE', 'BLOCK_BACKEND="command"', 1, /needs a KILL_ROUTE/],
    ['bad table name', 'NFT_TABLE="my table"', 1, /letter followed by/],
    ['state bound too small', 'STATE_MAX_SOURCES="1"', 1, /between 16/],
    ['bad host discovery policy', 'HOST_DISCOVERY="yes"', 1, /"off", "report" \(log and record a sweep\) or "block"/],
  ];
  for (const [name, text, line, pattern] of cases) {
    it(name, () => {
      const error = errorOf(text);
      assert.equal(error.line, line);
      assert.equal(error.file, '/etc/test.conf');
      assert.match(error.message, pattern);
      assert.ok(error.message.startsWith(`/etc/test.conf:${line}: `), error.message);
    });
  }

  it('a line longer than 4096 characters is refused', () => {
    assert.match(errorOf(`PORT_BANNER="${'x'.repeat(5000)}"`).message, /longer than 4096/);
  });

  it('parseConfText keeps line numbers', () => {
    assert.deepEqual(parseConfText('\n# c\nA="1"\n', 'f'), [{ key: 'A', value: '1', line: 3 }]);
  });
});

describe('formatConfigValues', () => {
  it('writes every key back so that parsing it again gives the same config', async () => {
    const { formatConfigValues, parseConfig: parse } = await import('../../../privileged-helper/config/config.js');
    const config = parse('TCP_PORTS="1,11"\nKILL_ROUTE="/sbin/route add -host $TARGET$ reject"\nRESOLVE_HOST="1"\nPORT_BANNER="go away"\n', 'a.conf');
    const values = formatConfigValues(config);
    assert.equal(values['TCP_PORTS'], '1,11');
    assert.equal(values['KILL_ROUTE'], '/sbin/route add -host $TARGET$ reject');
    assert.equal(values['RESOLVE_HOST'], '1');
    assert.equal(values['KILL_RUN_CMD'], '');
    assert.equal(values['BLOCK_BACKEND'], 'command');
    const text = Object.entries(values)
      .map(([k, v]) => `${k}="${v}"`)
      .join('\n');
    const again = parse(text, 'b.conf');
    assert.deepEqual({ ...again, file: '', lines: {}, sources: {} }, { ...config, file: '', lines: {}, sources: {} });
  });
});

describe('key names that are properties of every object', () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`${name} is an unknown key with its line, not a crash`, () => {
      const error = errorOf(`TCP_PORTS="1"\n${name}="x"`);
      assert.equal(error.line, 2);
      assert.match(error.message, new RegExp(`unknown key ${name}`));
    });
  }
});

describe("the operator settings file on top of root's config", () => {
  const main = { text: 'TCP_PORTS="1,11"\nSCAN_TRIGGER="0"\nBLOCK_TCP="1"\n', file: '/etc/ps.conf' };

  it('its tunables win, and every value says which file it came from', async () => {
    const { parseLayeredConfig } = await import('../../../privileged-helper/config/config.js');
    const config = parseLayeredConfig(main, { text: 'SCAN_TRIGGER="3"\nBLOCK_TIMEOUT="600"\n', file: '/var/lib/ps/op.conf' });
    assert.equal(config.scanTrigger, 3);
    assert.equal(config.blockTimeoutSeconds, 600);
    assert.deepEqual(config.tcpPorts, [1, 11]);
    assert.equal(config.sources['SCAN_TRIGGER'], '/var/lib/ps/op.conf');
    assert.equal(config.sources['TCP_PORTS'], '/etc/ps.conf');
    assert.equal(config.sources['UDP_PORTS'], 'default');
    assert.equal(config.file, '/etc/ps.conf');
  });

  it('a root-only key in it is refused with its file and line, naming why', async () => {
    const { parseLayeredConfig } = await import('../../../privileged-helper/config/config.js');
    for (const [key, value] of [
      ['KILL_ROUTE', '/sbin/route add $TARGET$'],
      ['IGNORE_FILE', '/tmp/x'],
      ['RPC_GROUP', 'users'],
      ['STORE_FILE', '/tmp/db'],
      ['OPERATOR_SETTINGS_FILE', '/tmp/o'],
      ['NFT_TABLE', 'x'],
    ] as const) {
      assert.throws(
        () => parseLayeredConfig(main, { text: `# op\n${key}="${value}"\n`, file: '/var/lib/ps/op.conf' }),
        (error: unknown) => error instanceof ConfigError && error.file === '/var/lib/ps/op.conf' && error.line === 2 && /only root may change it/.test(error.message),
        key,
      );
    }
  });

  it('a key operators could set in an earlier release (BLOCK_RATE_PER_PREFIX) is skipped with a notice, so the helper still starts after an upgrade', async () => {
    const { parseLayeredConfig } = await import('../../../privileged-helper/config/config.js');
    const config = parseLayeredConfig(
      { text: `${main.text}BLOCK_RATE_PER_PREFIX="8"\n`, file: main.file },
      { text: '# written by an earlier release\nBLOCK_RATE_PER_PREFIX="0"\nSCAN_TRIGGER="2"\n', file: '/var/lib/ps/op.conf' },
    );
    assert.equal(config.blockRatePerPrefix, 8, "root's value is in force, not the operator file's 0");
    assert.equal(config.sources['BLOCK_RATE_PER_PREFIX'], '/etc/ps.conf');
    assert.equal(config.scanTrigger, 2, 'the rest of the operator file still applies');
    assert.equal(config.notices.length, 1);
    assert.match(config.notices[0]!, /^\/var\/lib\/ps\/op\.conf:2: BLOCK_RATE_PER_PREFIX is skipped: .*only root may change it/);
    assert.deepEqual(parseLayeredConfig(main, null).notices, []);
    // Only keys that were operators' once: a root key that never was stays an error.
    assert.throws(() => parseLayeredConfig(main, { text: 'BLOCK_SET_SIZE="1"\n', file: '/var/lib/ps/op.conf' }), ConfigError);
  });

  it("root's own file may name a shell in a template; the operator file and the channel may not", async () => {
    const { parseConfig } = await import('../../../privileged-helper/config/config.js');
    assert.equal(parseConfig('KILL_RUN_CMD="/bin/sh /etc/portsentry/on-scan.sh $TARGET$"\n', '/etc/ps.conf').killRunCmd?.argv[0], '/bin/sh');
    const { checkKeyValue } = await import('../../../shared/domain/config-keys.js');
    assert.match(checkKeyValue('KILL_RUN_CMD', '/bin/sh /etc/portsentry/on-scan.sh $TARGET$') ?? '', /only root's config file may name a shell/);
    assert.match(errorOf(`KILL_ROUTE="/bin/sh -c 'cat /etc/shadow > /tmp/x' sh $TARGET$"`).message, /inside quotes/, "quoted operators are refused even in root's file");
  });
});
