// Lint for the whole tree (npm run lint, part of npm test): typescript-eslint's recommended
// rules, and the import boundaries that keep the three programs apart: shared/ is the floor and
// imports none of them, shared/domain/ imports nothing at all (no Node, no packages), main/ and
// renderer/ never reach into the privileged helper, and the renderer never loads Node.

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const helper = { group: ['**/privileged-helper/**'], message: 'only the helper imports the helper: put what is shared in shared/' };
const mainApp = { group: ['**/main/**'], message: 'the Electron main process is not a library: put what is shared in shared/' };
const rendererApp = { group: ['**/renderer/**'], message: 'the renderer is not a library: put what is shared in shared/' };
const node = { group: ['node:*'], message: 'this code runs without Node (the renderer, or the pure domain floor)' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'dist-packages/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-control-regex': 'off', // control characters are exactly what the validators look for
    },
  },
  {
    files: ['shared/**/*.ts', 'shared/**/*.cts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [helper, mainApp, rendererApp] }] },
  },
  {
    files: ['shared/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            helper,
            mainApp,
            rendererApp,
            node,
            { group: ['../*', '!./*'], message: 'shared/domain imports only its own modules' },
            { regex: '^[^.]', message: 'shared/domain imports no packages' },
          ],
        },
      ],
    },
  },
  {
    // The harness stands in for the electron module with Electron's own signatures (any[] arguments)
    // and its event-emitter classes hand `this` to the glue's callbacks as Electron does.
    files: ['test/main/electron-harness/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    // The sandboxed preload is CommonJS by necessity (Electron loads it with require).
    files: ['**/*.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['main/**/*.ts', 'main/**/*.cts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [helper, rendererApp] }] },
  },
  {
    files: ['renderer/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [helper, mainApp, node] }] },
  },
);
