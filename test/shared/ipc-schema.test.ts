// What the IPC table (shared/ipc-schema.ts) derives: one channel per entry, the preload's
// manifest, the channel lookups main uses, and the argument rule. That an entry added to the
// table reaches the preload, main and the test bridge with no other edit is proved in
// test/renderer/api-declared-once.test.ts (it drives a page in Chromium).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INVOKE_CHANNELS, ipcSchema, NOTIFY_CHANNELS, parseParams, preloadManifest } from '../../shared/ipc-schema.js';

describe('the IPC table', () => {
  it('gives every entry its own channel, and the preload manifest every entry', () => {
    const channels = Object.values(ipcSchema).map((entry) => entry.channel);
    assert.equal(new Set(channels).size, channels.length, 'no channel is used twice');
    const manifest = preloadManifest();
    assert.deepEqual([...manifest.invoke.map(([name]) => name), ...manifest.notify.map(([name]) => name)].sort(), Object.keys(ipcSchema).sort());
    assert.deepEqual(manifest.invoke.map(([, channel]) => channel).sort(), [...INVOKE_CHANNELS.keys()].sort());
    assert.deepEqual(manifest.notify.map(([, channel]) => channel).sort(), [...NOTIFY_CHANNELS.values()].sort());
    assert.equal(INVOKE_CHANNELS.get('portsentry:events.list'), 'listEvents');
    assert.equal(INVOKE_CHANNELS.get('constructor'), undefined);
  });

  it("checks arguments: a helper method's left-out params are {}, anything else must match", () => {
    assert.deepEqual(parseParams('status', undefined), { success: true, data: {} });
    assert.equal(parseParams('block', undefined).success, false, 'block needs its params');
    assert.equal(parseParams('getPreferences', undefined).success, true);
    assert.equal(parseParams('getPreferences', {}).success, false, 'a request without params takes nothing, not {}');
    assert.equal(parseParams('fixHelper', 'start').success, true);
    assert.equal(parseParams('fixHelper', 'reboot').success, false);
  });
});
