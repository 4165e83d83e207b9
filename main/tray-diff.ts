// Which parts of the tray changed since they were last shown. Rebuilding the native menu
// closes it if it is open (Linux/AppIndicator) and costs a D-Bus round trip; a flood of
// events, each re-rendering the tray, must not rebuild a menu that reads the same.

import type { TrayIcon, TrayMenuItem, TrayModel } from './tray-model.js';

export interface TrayUpdate {
  readonly icon?: TrayIcon;
  readonly tooltip?: string;
  readonly menu?: readonly TrayMenuItem[];
}

export class TrayDiff {
  #icon: TrayIcon | null = null;
  #tooltip: string | null = null;
  #menuKey: string | null = null;

  /** What to apply to the native tray for this model; empty when nothing changed. */
  next(model: TrayModel): TrayUpdate {
    const menuKey = JSON.stringify(model.menu);
    const update: { icon?: TrayIcon; tooltip?: string; menu?: readonly TrayMenuItem[] } = {};
    if (model.icon !== this.#icon) update.icon = this.#icon = model.icon;
    if (model.tooltip !== this.#tooltip) update.tooltip = this.#tooltip = model.tooltip;
    if (menuKey !== this.#menuKey) {
      this.#menuKey = menuKey;
      update.menu = model.menu;
    }
    return update;
  }
}
