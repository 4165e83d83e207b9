// `npm run test:unit` promises tests that need no root, no network namespace, no system tool and
// no browser: this holds every file its globs select to that, so a lab test cannot slip into the
// quick run (the capture directory's glob once took tcpdump-capture, which builds a lab and runs
// nmap). A file is out if it imports a support module that builds labs, daemons or desktops, or
// the browser driver, or starts one of the system tools by name.

import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const IMPURE_SUPPORT =
  /from '(?:\.\.\/)+support\/(netns-lab|daemon-process|desktop-session|renderer-bridge|router-lab|crowdsec-lapi|prometheus-server|debian-portsentry|invariant-rig|kernel-state|private-mounts|syslog-sink)\.js'|from 'playwright-core'/;
const SYSTEM_TOOL =
  /\b(?:execFile|execFileSync|spawn|spawnSync|run)\(\s*'(tcpdump|nmap|hping3|nft|ip|socat|unshare|nsenter|chromium|mount|umount|iptables|ip6tables|ipset|python3|systemd-nspawn|dunst|Xvfb|dbus-send|cscli|crowdsec|prometheus|portsentry)'/;

/** The files test:unit's globs select, as source paths (test/x.test.ts). */
function unitSelection(): string[] {
  const script = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts['test:unit'] ?? '';
  const patterns = [...script.matchAll(/"?(dist\/test\/[^"\s]+)"?/g)].map((match) => match[1]!);
  assert.ok(patterns.length > 0, `no dist/test globs in test:unit: ${script}`);
  const files = new Set<string>();
  for (const pattern of patterns) for (const file of globSync(pattern, { cwd: ROOT })) files.add(file.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
  return [...files].sort();
}

/** Why a test file is not a unit test, or null. */
export function impurity(source: string): string | null {
  const support = IMPURE_SUPPORT.exec(source);
  if (support !== null) return `imports ${support[1] ?? 'playwright-core'}`;
  const tool = SYSTEM_TOOL.exec(source);
  if (tool !== null) return `starts ${tool[1]}`;
  return null;
}

describe('test:unit selects unit tests only', () => {
  it('the check tells a lab test from a pure one', () => {
    assert.equal(impurity("import { createLab } from '../../support/netns-lab.js';"), 'imports netns-lab');
    assert.equal(impurity("const { stdout } = await run('tcpdump', ['-d', filter]);"), 'starts tcpdump');
    assert.equal(impurity("import { chromium } from 'playwright-core';"), 'imports playwright-core');
    assert.equal(impurity("import { decide } from '../../../privileged-helper/engine/engine.js';\nconst x = run('node');"), null);
  });

  it('every file the test:unit globs select needs no root, namespace, system tool or browser', () => {
    const files = unitSelection();
    assert.ok(files.includes('test/privileged-helper/engine/engine.test.ts'), `the globs select the engine's tests: ${files.join(', ')}`);
    // This file names what it looks for; it is pure itself.
    const impure = files
      .filter((file) => file !== 'test/lint/unit-selection.test.ts')
      .map((file) => [file, impurity(readFileSync(`${ROOT}${file}`, 'utf8'))] as const)
      .filter(([, why]) => why !== null);
    assert.deepEqual(impure, [], 'test:unit selects tests that are not unit tests');
  });
});
