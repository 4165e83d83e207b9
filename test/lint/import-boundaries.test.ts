// The import boundaries are a lint rule (eslint.config.js); this proves the rule has teeth:
// each forbidden import, linted as if it were in the folder it must not appear in, is an error,
// and the allowed direction is not.

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

async function boundaryErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${ROOT}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  const cases: readonly [string, string, RegExp][] = [
    ['renderer/dashboard/x.ts', "import { Daemon } from '../../privileged-helper/daemon/daemon.js';\nvoid Daemon;\n", /only the helper imports the helper/],
    ['renderer/dashboard/x.ts', "import { readFile } from 'node:fs';\nvoid readFile;\n", /runs without Node/],
    ['main/x.ts', "import { parseConfig } from '../privileged-helper/config/config.js';\nvoid parseConfig;\n", /only the helper imports the helper/],
    ['shared/protocol/x.ts', "import { Daemon } from '../../privileged-helper/daemon/daemon.js';\nvoid Daemon;\n", /only the helper imports the helper/],
    ['shared/protocol/x.ts', "import { x } from '../../main/tray-model.js';\nvoid x;\n", /not a library/],
    ['shared/domain/x.ts', "import { isIPv4 } from 'node:net';\nvoid isIPv4;\n", /runs without Node/],
    ['shared/domain/x.ts', "import { z } from 'zod';\nvoid z;\n", /imports no packages/],
    ['shared/domain/x.ts', "import { methods } from '../protocol/methods.js';\nvoid methods;\n", /imports only its own modules/],
  ];
  for (const [file, source, why] of cases) {
    it(`refuses in ${file}: ${source.split('\n')[0]}`, async () => {
      const errors = await boundaryErrors(file, source);
      assert.ok(
        errors.some((m) => why.test(m)),
        JSON.stringify(errors),
      );
    });
  }

  it('allows the permitted direction: the helper, main and renderer import shared/', async () => {
    assert.deepEqual(await boundaryErrors('privileged-helper/x.ts', "import { parseAddress } from '../shared/domain/address.js';\nvoid parseAddress;\n"), []);
    assert.deepEqual(await boundaryErrors('renderer/x.ts', "import { parseAddress } from '../shared/domain/address.js';\nvoid parseAddress;\n"), []);
    assert.deepEqual(await boundaryErrors('shared/domain/x.ts', "import { parseAddress } from './address.js';\nvoid parseAddress;\n"), []);
  });
});
