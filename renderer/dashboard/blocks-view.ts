// Blocked hosts (with expiry and a one-click Unblock) and the form to block an address by
// hand. Input is checked here first, with the helper's rules, so a typo never reaches it;
// whatever the helper still refuses is shown in words.

import type { PortSentryApi } from '../../shared/desktop-api.js';
import type { BlockEntry } from '../../shared/protocol/schemas.js';
import { parseAddress } from '../../shared/domain/address.js';
import { describeError } from '../lib/api.js';
import { byId, h, showFieldError } from '../lib/dom.js';
import { formatRemaining, formatTime } from '../lib/format.js';
import { MAX_BLOCK_TIMEOUT_SECONDS, checkUserText } from '../lib/text-rules.js';

export interface BlockRequest {
  readonly address: string;
  readonly reason?: string;
  readonly timeoutSeconds?: number;
}

/** Checks the form's fields; returns the request or the message for each bad field. */
export function readBlockForm(address: string, reason: string, duration: string): { request?: BlockRequest; errors: { address?: string; reason?: string; duration?: string } } {
  const errors: { address?: string; reason?: string; duration?: string } = {};
  const parsed = parseAddress(address.trim());
  if (address.trim() === '') errors.address = 'Enter the address to block.';
  else if (parsed === null) errors.address = `"${address.trim().slice(0, 60)}" is not an IPv4 or IPv6 address. Enter one address, e.g. 198.51.100.7 or 2001:db8::7 (no names, ranges or extra text).`;
  const reasonError = checkUserText(reason.trim());
  if (reasonError !== null) errors.reason = `The reason ${reasonError}.`;
  const seconds = duration === '' ? 0 : Number(duration);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_BLOCK_TIMEOUT_SECONDS) errors.duration = 'Choose how long the block lasts.';
  if (parsed === null || Object.keys(errors).length > 0) return { errors };
  return {
    request: { address: parsed.address, ...(reason.trim() === '' ? {} : { reason: reason.trim() }), ...(seconds === 0 ? {} : { timeoutSeconds: seconds }) },
    errors,
  };
}

export class BlocksView {
  private blocks: BlockEntry[] = [];
  private readonly body = byId<HTMLTableSectionElement>('blocks-body');
  private readonly status = byId('blocks-status');
  private refreshTimer: number | null = null;

  constructor(private readonly api: PortSentryApi) {
    byId<HTMLFormElement>('block-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.blockByHand();
    });
    byId('block-address').addEventListener('input', () => showFieldError(byId('block-address'), byId('block-address-error'), null));
    // Expiry texts ("in 4 min") age; redraw them twice a minute.
    window.setInterval(() => this.render(), 30_000);
  }

  async reload(): Promise<void> {
    try {
      this.blocks = (await this.api.listBlocks()).blocks;
      this.render();
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

  private render(): void {
    const now = Date.now();
    const sorted = [...this.blocks].sort((a, b) => b.since - a.since);
    this.body.replaceChildren(
      ...sorted.map((block) => {
        const button = h('button', { type: 'button', class: 'unblock', 'data-address': block.address, 'aria-label': `Unblock ${block.address}` }, 'Unblock');
        button.addEventListener('click', () => void this.unblock(block.address, button));
        return h(
          'tr',
          { 'data-address': block.address },
          h('td', { class: 'mono' }, block.address),
          h('td', {}, h('time', { datetime: new Date(block.since).toISOString() }, formatTime(block.since))),
          h('td', {}, block.until === null ? 'Until unblocked' : h('time', { datetime: new Date(block.until).toISOString(), title: formatTime(block.until) }, formatRemaining(block.until, now))),
          h('td', {}, block.reason),
          h('td', {}, button),
        );
      }),
    );
    byId('blocks-empty').hidden = sorted.length !== 0;
    byId('blocks-count').textContent = sorted.length === 1 ? '1 host blocked' : `${sorted.length} hosts blocked`;
  }

  private async unblock(address: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    this.status.textContent = `Unblocking ${address}…`;
    try {
      const result = await this.api.unblock({ address });
      this.status.textContent = result.removed ? `${address} is unblocked.` : `${address} was not blocked any more.`;
      await this.reload();
      byId('block-address').focus(); // the row and its button are gone; keep focus somewhere useful
    } catch (error) {
      button.disabled = false;
      this.status.textContent = describeError(error, `unblock ${address}`);
    }
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
