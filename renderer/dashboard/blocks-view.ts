// Blocked hosts: search, select several and unblock or extend them at once, one-click Unblock
// on every row (the table is one tab stop, arrow keys inside), and the form to block an
// address or a range by hand. Input is checked here first for form (an address, a prefix, no
// host bits); how wide a range an operator may block is the helper's (root's operator bounds):
// the form's hint reads them from the helper, and a refusal is shown in the helper's words.

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { BlockEntry } from '../../shared/protocol/schemas.js';
import { describeError } from '../lib/api.js';
import { byId, h, showFieldError } from '../lib/dom.js';
import { formatRemaining, formatTime } from '../lib/format.js';
import { GridNavigation } from '../lib/grid-nav.js';
import { MAX_BLOCK_TIMEOUT_SECONDS, checkUserText } from '../lib/text-rules.js';
import { coveringBlock, extendedTimeout, filterBlocks, parseBlockTarget } from './block-model.js';

export interface BlockRequest {
  readonly address: string;
  readonly reason?: string;
  readonly timeoutSeconds?: number;
}

/** Checks the form's fields; returns the request or the message for each bad field. */
export function readBlockForm(address: string, reason: string, duration: string): { request?: BlockRequest; errors: { address?: string; reason?: string; duration?: string } } {
  const errors: { address?: string; reason?: string; duration?: string } = {};
  const target = parseBlockTarget(address);
  if ('error' in target) errors.address = target.error;
  const reasonError = checkUserText(reason.trim());
  if (reasonError !== null) errors.reason = `The reason ${reasonError}.`;
  const seconds = duration === '' ? 0 : Number(duration);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_BLOCK_TIMEOUT_SECONDS) errors.duration = 'Choose how long the block lasts.';
  if ('error' in target || Object.keys(errors).length > 0) return { errors };
  return {
    request: { address: target.target, ...(reason.trim() === '' ? {} : { reason: reason.trim() }), ...(seconds === 0 ? {} : { timeoutSeconds: seconds }) },
    errors,
  };
}

export class BlocksView {
  private blocks: BlockEntry[] = [];
  private loaded = false;
  private readonly selected = new Set<string>();
  private search = '';
  private readonly body = byId<HTMLTableSectionElement>('blocks-body');
  private readonly status = byId('blocks-status');
  private readonly grid = new GridNavigation(this.body, 'data-address', () => byId('blocks-heading'));
  private refreshTimer: number | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: PortSentryApi,
    /** "Unblock for 1 hour": trust the host for a while (the dashboard's Allow), which lifts its block. */
    private readonly allow: (address: string, seconds: number) => Promise<void>,
  ) {
    byId<HTMLFormElement>('block-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.blockByHand();
    });
    byId('block-address').addEventListener('input', () => showFieldError(byId('block-address'), byId('block-address-error'), null));
    byId<HTMLInputElement>('blocks-search').addEventListener('input', (event) => {
      this.search = (event.target as HTMLInputElement).value;
      this.render();
    });
    byId('blocks-select-all').addEventListener('click', () => {
      const shown = filterBlocks(this.blocks, this.search);
      const all = shown.every((b) => this.selected.has(b.address));
      for (const block of shown) {
        if (all) this.selected.delete(block.address);
        else this.selected.add(block.address);
      }
      this.render();
    });
    byId('blocks-unblock-selected').addEventListener('click', () => void this.unblockMany([...this.selected]));
    byId('blocks-extend-selected').addEventListener('click', () => void this.extendMany([...this.selected]));
    // Expiry texts ("in 4 min") age; redraw them twice a minute.
    window.setInterval(() => this.render(), 30_000);
  }

  /** Whether a block of the helper's list covers the address (a range counts): the events list offers Unblock for these. */
  isBlocked(address: string): boolean {
    return this.covering(address) !== null;
  }

  /** The block that covers the address (itself or a range containing it), or null. */
  covering(address: string): BlockEntry | null {
    return coveringBlock(address, this.blocks);
  }

  /** The helper's block list as last loaded (the header counts it, the scanner view reads it); null before the first load. */
  list(): readonly BlockEntry[] | null {
    return this.loaded ? this.blocks : null;
  }

  /** Called after every reload (the events list relabels its Block/Unblock buttons). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** The form's hint with the widest ranges the helper lets this app block (OPERATOR_BLOCK_PREFIX4/6). */
  async showBounds(): Promise<void> {
    const hint = byId('block-address-hint');
    try {
      const values = (await this.api.getConfig()).values;
      const v4 = values['OPERATOR_BLOCK_PREFIX4'];
      const v6 = values['OPERATOR_BLOCK_PREFIX6'];
      if (v4 === undefined || v6 === undefined) return;
      hint.textContent = `198.51.100.7, 2001:db8::7 or a range such as 198.51.100.0/24. The helper lets you block ranges up to /${v4.trim()} (IPv4) and /${v6.trim()} (IPv6), and only so many of them; root may block wider.`;
    } catch {
      /* the static hint stays; the helper still says no in words if a range is too wide */
    }
  }

  async reload(): Promise<void> {
    try {
      const blocks = (await this.api.listBlocks()).blocks;
      // A scan's burst of block events often leaves the list as it was: no redraw then.
      const changed = JSON.stringify(blocks) !== JSON.stringify(this.blocks);
      this.blocks = blocks;
      this.loaded = true;
      for (const address of [...this.selected]) if (!blocks.some((b) => b.address === address)) this.selected.delete(address);
      if (changed) this.render();
      for (const listener of this.listeners) listener();
    } catch (error) {
      this.status.textContent = describeError(error, 'load the blocked hosts');
    }
  }

  /** Block changes arrive in bursts during a scan; one reload covers a burst. */
  scheduleReload(): void {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = window.setTimeout(() => {
      this.refreshTimer = null;
      void this.reload();
    }, 250);
  }

  /** Blocks (or unblocks) one address from elsewhere in the window (event rows, scanner view). */
  async toggle(address: string, reasonWhere: string): Promise<string> {
    try {
      const block = this.covering(address);
      if (block !== null) {
        // A range that covers the address is what blocks it: lifting it lifts the whole range, and says so.
        const result = await this.api.unblock({ address: block.address, reason: `unblocked from ${reasonWhere}` });
        await this.reload();
        const what = block.address === address ? address : `${block.address} (which covered ${address})`;
        return result.removed ? `${what} is unblocked.` : `${what} was not blocked any more.`;
      }
      const result = await this.api.block({ address, reason: `blocked from ${reasonWhere}` });
      await this.reload();
      return `${result.address} is blocked${result.until === null ? ' until you unblock it' : ` until ${formatTime(result.until)}`}.`;
    } catch (error) {
      return describeError(error, `${this.isBlocked(address) ? 'unblock' : 'block'} ${address}`);
    }
  }

  private render(): void {
    const now = Date.now();
    const shown = filterBlocks(this.blocks, this.search).sort((a, b) => b.since - a.since);
    this.grid.replaceRows(shown.map((block) => this.row(block, now)));
    byId('blocks-empty').hidden = shown.length !== 0;
    byId('blocks-empty').textContent = this.blocks.length === 0 ? 'No host is blocked.' : 'No blocked host matches the search.';
    const total = this.blocks.length === 1 ? '1 host blocked' : `${this.blocks.length} hosts blocked`;
    const filtered = shown.length === this.blocks.length ? '' : `, ${shown.length} shown`;
    const picked = this.selected.size === 0 ? '' : `, ${this.selected.size} selected`;
    byId('blocks-count').textContent = `${total}${filtered}${picked}`;
    byId<HTMLButtonElement>('blocks-unblock-selected').disabled = this.selected.size === 0;
    byId<HTMLButtonElement>('blocks-extend-selected').disabled = ![...this.selected].some((a) => this.blocks.find((b) => b.address === a)?.until !== null);
    byId('blocks-unblock-selected').textContent = this.selected.size > 1 ? `Unblock ${this.selected.size} selected` : 'Unblock selected';
  }

  private row(block: BlockEntry, now: number): HTMLTableRowElement {
    const checkbox = h('input', { type: 'checkbox', class: 'select', 'aria-label': `Select ${block.address}`, checked: this.selected.has(block.address) });
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) this.selected.add(block.address);
      else this.selected.delete(block.address);
      this.render();
    });
    const unblock = h('button', { type: 'button', class: 'unblock', 'data-address': block.address, 'aria-label': `Unblock ${block.address}` }, 'Unblock');
    unblock.addEventListener('click', () => void this.unblockMany([block.address]));
    const extend = h(
      'button',
      {
        type: 'button',
        class: 'extend',
        'aria-label': `Extend the block of ${block.address}`,
        disabled: block.until === null,
        title: block.until === null ? 'Blocked until unblocked: nothing to extend' : '',
      },
      'Extend',
    );
    extend.addEventListener('click', () => void this.extendMany([block.address]));
    // Symmetric to Extend: let the host through for an hour, then it may be blocked again.
    const unblockHour = h('button', { type: 'button', class: 'unblock-hour', 'aria-label': `Unblock ${block.address} for 1 hour` }, 'Unblock 1 h');
    unblockHour.addEventListener('click', () => void this.allow(block.address, 3600));
    return h(
      'tr',
      { 'data-address': block.address, class: this.selected.has(block.address) ? 'selected' : '' },
      h('td', { class: 'select-cell' }, checkbox),
      h('td', { class: 'mono' }, block.address),
      h('td', {}, h('time', { datetime: new Date(block.since).toISOString() }, formatTime(block.since))),
      h('td', {}, block.until === null ? 'Until unblocked' : h('time', { datetime: new Date(block.until).toISOString(), title: formatTime(block.until) }, formatRemaining(block.until, now))),
      // One line, cut with an ellipsis; the full text on hover (title) and when the row has focus (CSS).
      h('td', { class: 'reason' }, h('span', { class: 'truncate', title: block.reason }, block.reason)),
      h('td', { class: 'row-actions' }, h('span', { class: 'row-actions-group' }, unblock, unblockHour, extend)),
    );
  }

  private async unblockMany(addresses: string[]): Promise<void> {
    if (addresses.length === 0) return;
    this.status.textContent = addresses.length === 1 ? `Unblocking ${addresses[0]}…` : `Unblocking ${addresses.length} hosts…`;
    const failures: string[] = [];
    let done = 0;
    for (const address of addresses) {
      try {
        await this.api.unblock({ address, reason: 'unblocked from the dashboard' });
        this.selected.delete(address);
        done += 1;
      } catch (error) {
        failures.push(describeError(error, `unblock ${address}`));
      }
    }
    await this.reload();
    const what = addresses.length === 1 && done === 1 ? `${addresses[0]} is unblocked.` : `${done} of ${addresses.length} hosts unblocked.`;
    this.status.textContent = failures.length === 0 ? what : `${what} ${failures.slice(0, 3).join(' ')}`;
  }

  private async extendMany(addresses: string[]): Promise<void> {
    const by = Number(byId<HTMLSelectElement>('blocks-extend-by').value);
    const now = Date.now();
    const failures: string[] = [];
    let done = 0;
    let last: { address: string; until: number | null } | null = null;
    for (const address of addresses) {
      const block = this.blocks.find((b) => b.address === address);
      const seconds = block === undefined ? null : extendedTimeout(block, by, now);
      if (block === undefined || seconds === null) continue;
      try {
        const result = await this.api.block({ address, timeoutSeconds: seconds, reason: block.reason.slice(0, 200) });
        last = { address: result.address, until: result.until };
        done += 1;
      } catch (error) {
        failures.push(describeError(error, `extend the block of ${address}`));
      }
    }
    await this.reload();
    const what = done === 1 && last !== null ? `${last.address} stays blocked until ${last.until === null ? 'unblocked' : formatTime(last.until)}.` : `${done} blocks extended.`;
    this.status.textContent = failures.length === 0 ? what : `${what} ${failures.slice(0, 3).join(' ')}`;
  }

  private async blockByHand(): Promise<void> {
    const address = byId<HTMLInputElement>('block-address');
    const reason = byId<HTMLInputElement>('block-reason');
    const duration = byId<HTMLSelectElement>('block-duration');
    const { request, errors } = readBlockForm(address.value, reason.value, duration.value);
    showFieldError(address, byId('block-address-error'), errors.address ?? null);
    showFieldError(reason, byId('block-reason-error'), errors.reason ?? null);
    showFieldError(duration, byId('block-duration-error'), errors.duration ?? null);
    if (request === undefined) {
      (errors.address !== undefined ? address : errors.reason !== undefined ? reason : duration).focus();
      this.status.textContent = 'Nothing was blocked: fix the marked field first.';
      return;
    }
    const submit = byId<HTMLButtonElement>('block-submit');
    submit.disabled = true;
    this.status.textContent = `Blocking ${request.address}…`;
    try {
      const result = await this.api.block(request);
      this.status.textContent = `${result.address} is blocked${result.until === null ? ' until you unblock it' : ` until ${formatTime(result.until)}`}.`;
      address.value = '';
      reason.value = '';
      await this.reload();
    } catch (error) {
      this.status.textContent = describeError(error, `block ${request.address}`);
      showFieldError(address, byId('block-address-error'), describeError(error, `block ${request.address}`));
    } finally {
      submit.disabled = false;
    }
  }
}
