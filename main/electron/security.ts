// Applies main/security-policy.ts to Electron: every window isolated and sandboxed, a strict
// Content-Security-Policy on every response, no navigation, no new windows, no permissions.
// Type-only imports from 'electron': the objects come from main.ts.

import type { Session, WebContents } from 'electron';
import { withContentSecurityPolicy } from '../security-policy.js';

export { secureWebPreferences } from '../security-policy.js';

export function hardenSession(session: Session): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders) });
  });
  // Camera, notifications, clipboard, geolocation...: the pages need none of them.
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

/** For every WebContents the app creates (app 'web-contents-created'). */
export function hardenContents(contents: WebContents): void {
  // The pages are single documents; any navigation is an attack or a bug.
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}
