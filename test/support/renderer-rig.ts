// The renderer tests' common ground: a real helper with a directory of its own on a lab host
// (own-helper.ts), Debian's Chromium, and the bridge that serves the renderer against that
// helper's control socket (renderer-bridge.ts). Started together, closed together.

import { chromium, type Browser } from 'playwright-core';
import type { Lab, LabHost } from './netns-lab.js';
import { startOwnHelper, type OwnHelper, type OwnHelperOptions } from './own-helper.js';
import { startRendererBridge, type BridgeOptions, type RendererBridge } from './renderer-bridge.js';

export interface RendererRig {
  readonly helper: OwnHelper;
  readonly browser: Browser;
  readonly bridge: RendererBridge;
  /** Closes the browser and the bridge, stops the helper and deletes its table. */
  close(): Promise<void>;
}

/** Chromium as every renderer test runs it (root in a container: no sandbox). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}

/** Resolves once the helper's control socket listens and Chromium is up; the bridge is connected to that socket. */
export async function startRendererRig(lab: Lab, host: LabHost, dir: string, options: OwnHelperOptions & { readonly bridge?: Omit<BridgeOptions, 'socketPath'> }): Promise<RendererRig> {
  const [browser, helper] = await Promise.allSettled([launchChromium(), startOwnHelper(lab, host, dir, { ready: 'Control socket listening on', ...options })]);
  if (browser.status === 'rejected' || helper.status === 'rejected') {
    if (browser.status === 'fulfilled') await browser.value.close().catch(() => undefined);
    if (helper.status === 'fulfilled') await helper.value.stop();
    throw browser.status === 'rejected' ? browser.reason : (helper as PromiseRejectedResult).reason;
  }
  const bridge = await startRendererBridge({ ...options.bridge, socketPath: helper.value.socketPath });
  return {
    helper: helper.value,
    browser: browser.value,
    bridge,
    close: async () => {
      await browser.value.close().catch(() => undefined);
      await bridge.close();
      await helper.value.stop();
    },
  };
}
