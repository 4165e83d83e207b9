// The app's identity as the operating systems see it. On Windows the AppUserModelID must be
// set before the first notification, and must equal the one on the Start menu shortcut the
// NSIS installer creates (electron-builder's appId), or toasts are dropped or misattributed.

export const APP_ID = 'org.portsentry.desktop';
export const APP_USER_MODEL_ID = APP_ID;
