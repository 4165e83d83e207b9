// The ignore list (hosts never blocked): listed with a Remove button each, and an add form
// checked with the helper's rules. Each change is sent at once; the helper rewrites the
// file atomically and reloads.

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { IgnoreListEntry } from '../../shared/protocol/schemas.js';
import { describeError } from '../lib/api.js';
import { byId, h, showFieldError } from '../lib/dom.js';
import { parseIgnoreEntry } from '../../shared/domain/ignore-entry.js';
import { checkUserText } from '../lib/text-rules.js';

export class IgnoreEditor {
  private readonly status = byId('ignore-status');

  constructor(private readonly api: PortSentryApi) {
    byId('ignore-add').addEventListener('click', () => void this.add());
    for (const id of ['ignore-entry', 'ignore-comment']) {
      byId(id).addEventListener('keydown', (event) => {
        // Enter here adds the entry; it must not submit (Apply) the whole settings form.
        if (event.key === 'Enter') {
          event.preventDefault();
          void this.add();
        }
      });
    }
  }

  async reload(): Promise<void> {
    try {
      this.render((await this.api.listIgnored()).entries);
    } catch (error) {
      this.status.textContent = describeError(error, 'read the ignore list');
    }
  }

  private render(entries: readonly IgnoreListEntry[]): void {
    byId('ignore-body').replaceChildren(
      ...entries.map((entry) => {
        const remove = h('button', { type: 'button', 'aria-label': `Remove ${entry.entry} from the ignore list` }, 'Remove');
        remove.addEventListener('click', () => void this.remove(entry.entry));
        return h('tr', {}, h('td', { class: 'mono' }, entry.entry), h('td', {}, entry.comment ?? ''), h('td', {}, remove));
      }),
    );
    byId('ignore-empty').hidden = entries.length !== 0;
  }

  private async add(): Promise<void> {
    const entryInput = byId<HTMLInputElement>('ignore-entry');
    const commentInput = byId<HTMLInputElement>('ignore-comment');
    const parsed = entryInput.value.trim() === '' ? 'Enter an address or network.' : parseIgnoreEntry(entryInput.value.trim());
    const commentError = checkUserText(commentInput.value.trim());
    showFieldError(entryInput, byId('ignore-entry-error'), typeof parsed === 'string' ? parsed : null);
    showFieldError(commentInput, byId('ignore-comment-error'), commentError === null ? null : `The comment ${commentError}.`);
    if (typeof parsed === 'string' || commentError !== null) {
      (typeof parsed === 'string' ? entryInput : commentInput).focus();
      return;
    }
    const comment = commentInput.value.trim();
    try {
      const result = await this.api.addIgnored({ entry: entryInput.value.trim(), ...(comment === '' ? {} : { comment }) });
      this.status.textContent = result.added ? `${result.entry} will never be blocked.` : `${result.entry} was already in the list.`;
      entryInput.value = '';
      commentInput.value = '';
      await this.reload();
    } catch (error) {
      this.status.textContent = describeError(error, 'add to the ignore list');
    }
  }

  private async remove(entry: string): Promise<void> {
    try {
      await this.api.removeIgnored({ entry });
      this.status.textContent = `${entry} was removed from the ignore list.`;
      await this.reload();
      byId('ignore-entry').focus();
    } catch (error) {
      this.status.textContent = describeError(error, `remove ${entry} from the ignore list`);
    }
  }
}
