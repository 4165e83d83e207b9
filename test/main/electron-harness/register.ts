// node --import this-file main.js: resolves the bare specifier 'electron' to the harness
// (./electron.ts) for everything the app imports, and behaves like Electron's main process
// where plain Node differs and the glue depends on it: process.resourcesPath, and (through
// the launcher's --unhandled-rejections=warn) unhandled rejections logged, not fatal.
// HARNESS_PLATFORM=darwin|win32 makes process.platform say so, to run the other systems'
// branches of the glue; only the glue's decisions are exercised that way, not the OS.

import { registerHooks } from 'node:module';

const harness = new URL('./electron.js', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'electron') return { url: harness, format: 'module', shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

const platform = process.env.HARNESS_PLATFORM;
if (platform === 'darwin' || platform === 'win32' || platform === 'linux') Object.defineProperty(process, 'platform', { value: platform });
(process as { resourcesPath?: string }).resourcesPath = process.env.HARNESS_RESOURCES ?? '/nonexistent-resources';
