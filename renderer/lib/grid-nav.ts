// One tab stop for a whole table (the ARIA grid pattern): inside the table body only one
// control (a row, a checkbox, a button) has tabindex 0; the arrow keys move that stop, Up and
// Down to the same column of the next row, Left and Right along the row's controls. Three
// hundred blocked hosts are then one Tab press, not three hundred.

/** The focusable things of a row, in order: the row itself when it is focusable, then its controls. */
function stops(row: HTMLTableRowElement): HTMLElement[] {
  const controls = [...row.querySelectorAll<HTMLElement>('button, input, select, a[href]')].filter((el) => !(el as HTMLButtonElement).disabled);
  return row.hasAttribute('tabindex') ? [row, ...controls] : controls;
}

/** Where the keyboard user is in the table, in terms that survive a redraw. */
interface Spot {
  /** The row's key (its keyAttribute): rows may be reordered or removed by a redraw. */
  readonly key: string | null;
  /** Which control of the row: its data-act, else its class, else "row" for the row itself. */
  readonly control: string;
  /** The row's position, for when that row is gone: the nearest row takes its place. */
  readonly index: number;
  /** Whether it had the keyboard focus (else it was only the table's tab stop). */
  readonly focused: boolean;
}

function controlName(element: HTMLElement, row: HTMLTableRowElement): string {
  return element === row ? 'row' : (element.dataset['act'] ?? element.className);
}

export class GridNavigation {
  /**
   * @param keyAttribute the row attribute that names what a row shows (an address, an event id)
   * @param whenEmpty where focus goes when the table it was in has no row left
   */
  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly keyAttribute: string,
    private readonly whenEmpty: () => HTMLElement,
  ) {
    body.addEventListener('keydown', (event) => this.onKey(event));
    body.addEventListener('focusin', (event) => {
      const target = event.target as HTMLElement;
      if (target !== body) this.setStop(target);
    });
  }

  /** After rows were (re)drawn: every stop -1, and one 0 (the previous one if it is still there). */
  refresh(): void {
    const all = [...this.body.rows].flatMap(stops);
    const current = all.find((el) => el.getAttribute('tabindex') === '0' && el.dataset['stop'] === 'current') ?? all[0];
    for (const el of all) el.setAttribute('tabindex', '-1');
    if (current !== undefined) this.setStop(current);
  }

  /**
   * Redraws the table and keeps the keyboard user's place: the same control of the same row
   * (found by key, since a redraw may reorder rows), else that control in the row now at the
   * same position. Without this a refresh arriving between Tab and Space would move focus, and
   * Space would act on whatever control the focus landed on.
   */
  replaceRows(rows: readonly HTMLTableRowElement[]): void {
    const current = this.body.querySelector<HTMLElement>('[data-stop="current"]');
    const spot = current === null ? null : this.spotOf(current);
    this.body.replaceChildren(...rows);
    this.refresh();
    if (spot !== null) this.restore(spot);
  }

  private spotOf(element: HTMLElement): Spot | null {
    const row = element.closest('tr');
    if (row === null || row.parentElement !== this.body) return null;
    return { key: row.getAttribute(this.keyAttribute), control: controlName(element, row), index: [...this.body.rows].indexOf(row), focused: document.activeElement === element };
  }

  private restore(spot: Spot): void {
    const rows = [...this.body.rows];
    const row = rows.find((r) => spot.key !== null && r.getAttribute(this.keyAttribute) === spot.key) ?? rows[Math.min(spot.index, rows.length - 1)];
    if (row === undefined) {
      if (spot.focused) this.whenEmpty().focus();
      return;
    }
    const inRow = stops(row);
    const target = inRow.find((el) => controlName(el, row) === spot.control) ?? inRow[0];
    if (target === undefined) return;
    this.setStop(target);
    if (spot.focused) target.focus();
  }

  /** Makes one element the table's tab stop. */
  setStop(element: HTMLElement): void {
    for (const other of this.body.querySelectorAll<HTMLElement>('[data-stop="current"]')) {
      if (other === element) continue;
      other.setAttribute('tabindex', '-1');
      delete other.dataset['stop'];
    }
    element.setAttribute('tabindex', '0');
    element.dataset['stop'] = 'current';
  }

  private onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement;
    const row = target.closest('tr');
    if (row === null || row.parentElement !== this.body) return;
    const rows = [...this.body.rows];
    const index = rows.indexOf(row);
    const inRow = stops(row);
    const column = Math.max(0, inRow.indexOf(target));
    const sameColumn = (other: HTMLTableRowElement | undefined) => {
      if (other === undefined) return undefined;
      const list = stops(other);
      return list[Math.min(column, list.length - 1)];
    };
    const next: HTMLElement | undefined = (() => {
      switch (event.key) {
        case 'ArrowDown':
          return sameColumn(rows[index + 1]);
        case 'ArrowUp':
          return sameColumn(rows[index - 1]);
        case 'PageDown':
          return sameColumn(rows[Math.min(rows.length - 1, index + 10)]);
        case 'PageUp':
          return sameColumn(rows[Math.max(0, index - 10)]);
        case 'Home':
          return event.ctrlKey ? sameColumn(rows[0]) : inRow[0];
        case 'End':
          return event.ctrlKey ? sameColumn(rows[rows.length - 1]) : inRow[inRow.length - 1];
        case 'ArrowRight':
          return inRow[column + 1];
        case 'ArrowLeft':
          return inRow[column - 1];
        default:
          return undefined;
      }
    })();
    if (next === undefined) return;
    event.preventDefault();
    this.setStop(next);
    next.focus();
  }
}
