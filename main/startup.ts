// Whether the dashboard opens by itself when the app starts: on the very first launch (so a
// new user sees something and the first-run view), and whenever there is no tray to click
// (stock GNOME without the AppIndicator extension): then the window is the only way in.

export interface StartupFacts {
  readonly firstRun: boolean;
  readonly trayAvailable: boolean;
}

export function shouldOpenDashboardAtStart(facts: StartupFacts): boolean {
  return facts.firstRun || !facts.trayAvailable;
}

/** The D-Bus name a Linux tray host (StatusNotifierItem watcher) owns. */
export const STATUS_NOTIFIER_WATCHER = 'org.kde.StatusNotifierWatcher';

/**
 * macOS and Windows always have a tray (menu bar, notification area). On Linux, Electron's
 * tray icon shows only where a StatusNotifierItem host runs; the watcher's bus name says so.
 */
export async function trayAvailable(platform: NodeJS.Platform, nameHasOwner: (name: string) => Promise<boolean>): Promise<boolean> {
  if (platform !== 'linux') return true;
  try {
    return await nameHasOwner(STATUS_NOTIFIER_WATCHER);
  } catch {
    return false; // no session bus: no tray either
  }
}
