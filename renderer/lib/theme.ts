// Light, dark or the system's choice: "system" leaves the page to prefers-color-scheme in
// styles.css; the other two pin it with data-theme on <html>.

import type { GuiPreferences } from '../../shared/desktop-api.js';

export function applyTheme(theme: GuiPreferences['theme']): void {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset['theme'];
  else root.dataset['theme'] = theme;
}
