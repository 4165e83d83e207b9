// build/electron-builder.yml against electron-builder's own rules: app-builder-lib's
// validateConfiguration (ajv over its scheme.json, exactly what `electron-builder` runs
// first), plus what the schema cannot know: every file the config names exists, scripts
// are executable, and the icons are real images of the sizes their names say.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(join(REPO, 'package.json'));
const CONFIG_FILE = join(REPO, 'build/electron-builder.yml');

type Json = Record<string, unknown>;
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, debugLogger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
};

function loadConfig(): Json {
  return yaml.load(readFileSync(CONFIG_FILE, 'utf8')) as Json;
}
const quietLogger = { isEnabled: false, add: () => undefined };

function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('build/electron-builder.yml', () => {
  it("passes electron-builder's own schema validation", async () => {
    await validateConfiguration(loadConfig(), quietLogger);
  });

  it('the validator is real: it rejects a misspelt and a misplaced option', async () => {
    await assert.rejects(validateConfiguration({ ...loadConfig(), appid: 'x' }, quietLogger), /Invalid configuration object/);
    const config = loadConfig();
    await assert.rejects(validateConfiguration({ ...config, linux: { ...(config.linux as Json), oneClick: true } }, quietLogger), /Invalid configuration object[\s\S]*linux/);
  });

  it('names the app and the targets the release needs', () => {
    const config = loadConfig();
    assert.equal(config.appId, 'org.portsentry.desktop');
    assert.equal(config.productName, 'PortSentry Desktop');
    assert.deepEqual(config.directories, { buildResources: 'build', output: 'dist-packages' });
    assert.deepEqual((config.linux as Json).target, ['deb', 'rpm', 'AppImage']);
    assert.deepEqual((config.win as Json).target, ['nsis']);
    assert.deepEqual((config.mac as Json).target, ['dmg', 'pkg']);
  });

  it("extends electron-builder's default package dependencies instead of replacing them", () => {
    const config = loadConfig();
    // The defaults electron-builder uses when `depends` is not set (its FpmTarget; `this` unused).
    const { default: FpmTarget } = require('app-builder-lib/out/targets/FpmTarget.js') as { default: { prototype: { getDefaultDepends(target: string): string[] } } };
    for (const [target, ours] of [
      ['deb', ['nftables', 'tcpdump', 'libnotify-bin']],
      ['rpm', ['nftables', 'tcpdump', 'libnotify']],
    ] as const) {
      const depends = (config[target] as Json).depends as string[];
      const defaults = FpmTarget.prototype.getDefaultDepends.call(null, target);
      assert.ok(defaults.length >= 8, `electron-builder still has ${target} defaults`);
      for (const name of [...defaults, ...ours]) assert.ok(depends.includes(name), `${target} depends lacks ${name}`);
      assert.equal((config[target] as Json).recommends, undefined, `${target}: the default recommends (libappindicator) stay`);
    }
  });

  it("keeps electron-builder's own after-install/after-remove and appends ours", async () => {
    const config = loadConfig();
    const { composeAll, defaultTemplate } = (await import(join(REPO, 'scripts/compose-linux-hooks.mjs'))) as { composeAll(): string[]; defaultTemplate(name: string): string };
    composeAll();
    for (const [name, file] of [
      ['after-install', (config.deb as Json).afterInstall],
      ['after-remove', (config.deb as Json).afterRemove],
    ] as const) {
      assert.equal((config.rpm as Json)[name === 'after-install' ? 'afterInstall' : 'afterRemove'], file, 'rpm uses the same hook');
      const text = readFileSync(join(REPO, String(file)), 'utf8');
      const builtIn = defaultTemplate(name).trimEnd();
      assert.ok(text.startsWith(builtIn), `${name}: electron-builder's own script comes first, unchanged`);
      const ours = readFileSync(join(REPO, `build/linux/${name}.sh`), 'utf8')
        .replace(/^#!.*\n/, '')
        .trimEnd();
      assert.ok(text.includes(ours), `${name}: ours follows`);
    }
    const install = readFileSync(join(REPO, String((config.deb as Json).afterInstall)), 'utf8');
    for (const duty of [
      /update-alternatives --install '\/usr\/bin\/\$\{executable\}'/,
      /chmod 4755 '\/opt\/\$\{sanitizedProductName\}\/chrome-sandbox'/,
      /apparmor_parser --replace/,
      /systemctl enable --now portsentryd\.service/,
    ]) {
      assert.match(install, duty);
    }
  });

  it("unpacks node-notifier's notifier executables from the asar, and Windows toasts carry the app id", async () => {
    const config = loadConfig();
    assert.ok((config.asarUnpack as string[]).includes('node_modules/node-notifier/vendor/**'));
    for (const vendor of ['snoreToast/snoretoast-x64.exe', 'mac.noindex/terminal-notifier.app/Contents/MacOS/terminal-notifier']) {
      assert.ok(existsSync(join(REPO, 'node_modules/node-notifier/vendor', vendor)), `${vendor} is where the pattern unpacks it`);
    }
    const { APP_USER_MODEL_ID } = await import('../../main/app-identity.js');
    assert.equal(APP_USER_MODEL_ID, config.appId, 'the AppUserModelID is the one NSIS puts on the shortcut (appId)');
  });

  it('every file it refers to exists, and scripts are executable', async () => {
    const config = loadConfig();
    const deb = config.deb as Json;
    const rpm = config.rpm as Json;
    await import(join(REPO, 'scripts/compose-linux-hooks.mjs')).then((m: { composeAll(): string[] }) => m.composeAll());
    const referenced = [
      deb.afterInstall,
      deb.afterRemove,
      rpm.afterInstall,
      rpm.afterRemove,
      (config.nsis as Json).include,
      (config.win as Json).icon,
      (config.mac as Json).icon,
      join(String((config.pkg as Json).scripts), 'postinstall'),
      ...(config.extraResources as Json[]).map((r) => r.from).filter((from) => !String(from).startsWith('dist/')),
    ].map(String);
    for (const file of referenced) assert.ok(existsSync(join(REPO, file)), `${file} is missing`);
    for (const script of [deb.afterInstall, deb.afterRemove, join(String((config.pkg as Json).scripts), 'postinstall')]) {
      assert.ok((statSync(join(REPO, String(script))).mode & 0o111) !== 0, `${String(script)} is not executable`);
    }
    const helperPackage = JSON.parse(readFileSync(join(REPO, 'build/helper-package.json'), 'utf8')) as Json;
    assert.equal(helperPackage.type, 'module', "the helper's compiled files are ES modules");
  });

  it('ships icons at every size, as real images', () => {
    for (const size of [16, 32, 48, 64, 128, 256, 512, 1024]) {
      assert.deepEqual(pngSize(join(REPO, `build/icons/${size}x${size}.png`)), { width: size, height: size });
    }
    const ico = readFileSync(join(REPO, 'build/icon.ico'));
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1], 'ICO header');
    assert.ok(ico.readUInt16LE(4) >= 5, 'several sizes in the .ico');
    const icns = readFileSync(join(REPO, 'build/icon.icns'));
    assert.equal(icns.subarray(0, 4).toString('latin1'), 'icns');
    assert.equal(icns.readUInt32BE(4), icns.length, 'icns length field');
  });

  it('the launchd plist and the NSIS include point at what extraResources installs', () => {
    const plist = readFileSync(join(REPO, 'build/launchd/org.portsentry.desktop.helper.plist'), 'utf8');
    assert.match(plist, /<key>Label<\/key>\s*<string>org\.portsentry\.desktop\.helper<\/string>/);
    assert.match(plist, /Contents\/Resources\/helper\/dist\/privileged-helper\/bin\/portsentryd\.js/);
    const nsh = readFileSync(join(REPO, 'build/nsis/installer.nsh'), 'utf8');
    assert.match(nsh, /!macro customInstall[\s\S]*resources\\helper\\windows\\install-service\.ps1[\s\S]*!macroend/);
    assert.match(nsh, /!macro customUnInstall[\s\S]*-Uninstall[\s\S]*!macroend/);
  });
});
