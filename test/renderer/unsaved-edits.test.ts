// keepEdits: which value a settings field shows when the helper's values are read again.
// Loads the BUILT renderer module, as the window runs it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

interface UnsavedEdits {
  keepEdits(
    before: Readonly<Record<string, string>>,
    form: Readonly<Record<string, string>>,
    now: Readonly<Record<string, string>>,
  ): { values: Record<string, string>; movedUnderneath: ReadonlyMap<string, string> };
}
const { keepEdits } = (await import(new URL('../../renderer/renderer/settings/unsaved-edits.js', import.meta.url).href)) as UnsavedEdits;

describe('settings: unsaved edits across a reload', () => {
  const before = { A: '1', B: '2', C: '3', D: '4' };
  it("keeps the user's edits, takes the helper's value elsewhere, and names edits the helper moved underneath", () => {
    const form = { A: '10', B: '20', C: '3', D: '40' };
    const now = { A: '1', B: '7', C: '8', D: '40' };
    const kept = keepEdits(before, form, now);
    assert.deepEqual(kept.values, { A: '10', B: '20', C: '8', D: '40' });
    // B moved to something else than the user's; D moved to the user's own value: nothing to say.
    assert.deepEqual([...kept.movedUnderneath], [['B', '7']]);
  });
  it('without edits the form is the helper', () => {
    const kept = keepEdits(before, before, { ...before, C: '9' });
    assert.deepEqual(kept.values, { ...before, C: '9' });
    assert.equal(kept.movedUnderneath.size, 0);
  });
});
