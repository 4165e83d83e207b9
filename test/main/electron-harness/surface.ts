// The part of Electron 41's API that the app uses, each piece picked from electron.d.ts's own
// declarations, and nothing else. Two compile-time checks hang on it:
// - scripts/check-electron-surface.mjs compiles the glue (main/electron/*.ts, the preload)
//   with 'electron' resolved to this module, so the glue cannot start using a part of
//   Electron the harness (electron.ts) does not implement without tsc failing;
// - electron.ts holds each member it implements to electron.d.ts's declaration, parameters
//   and result alike (Differing below), so the harness cannot take or give something other
//   than Electron does.
// Event names (on/once) stay Electron's overloads here; the harness's are Node's
// EventEmitter, as Electron's are, and the harness test shows each event arriving.
// Objects the glue only hands back to Electron (a NativeImage into a Tray, a Menu into
// setContextMenu) keep Electron's full type, so what the glue calls on them is checked by
// the harness at run time (a missing member throws), not here.

export type AppMember = 'whenReady' | 'quit' | 'exit' | 'requestSingleInstanceLock' | 'getPath' | 'setLoginItemSettings' | 'setAppUserModelId' | 'getVersion';
export type TrayMember = 'setImage' | 'setToolTip' | 'setContextMenu' | 'popUpContextMenu';
export type BrowserWindowMember = 'show' | 'focus' | 'isDestroyed' | 'loadFile';
export type WebContentsMember = 'send' | 'setWindowOpenHandler';
export type NativeImageMember = 'addRepresentation' | 'setTemplateImage';
export type SessionMember = 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler';
export type DialogMember = 'showErrorBox' | 'showMessageBox';

/** app; getVersion, like ipcMain.on, is electron-store's (preferences.ts), not the glue's. */
export type App = Pick<Electron.App, AppMember | 'on'>;
export type WebContents = Pick<Electron.WebContents, WebContentsMember | 'on' | 'once'>;
export type BrowserWindow = Pick<Electron.BrowserWindow, BrowserWindowMember | 'on' | 'once'> & { readonly webContents: WebContents };
export type Tray = Pick<Electron.Tray, TrayMember | 'on'>;
export type Session = Pick<Electron.Session, SessionMember> & { readonly webRequest: Pick<Electron.WebRequest, 'onHeadersReceived'> };
export type Menu = Electron.Menu;
export type NativeImage = Electron.NativeImage;
export type MenuItemConstructorOptions = Electron.MenuItemConstructorOptions;

export declare const app: App;
export declare const BrowserWindow: { new (...args: ConstructorParameters<typeof Electron.BrowserWindow>): BrowserWindow };
export declare const Tray: { new (...args: ConstructorParameters<typeof Electron.Tray>): Tray };
export declare const Menu: Pick<typeof Electron.Menu, 'buildFromTemplate'>;
export declare const nativeImage: Pick<typeof Electron.NativeImage, 'createEmpty'>;
export declare const session: { readonly defaultSession: Session };
export declare const dialog: Pick<Electron.Dialog, DialogMember>;
export declare const clipboard: Pick<Electron.Clipboard, 'writeText'>;
export declare const ipcMain: Pick<Electron.IpcMain, 'handle' | 'on'>;
export declare const contextBridge: Pick<Electron.ContextBridge, 'exposeInMainWorld'>;
export declare const ipcRenderer: Pick<Electron.IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

/** True when A and B are the same type, not merely assignable one way. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Signature<F> = F extends (...args: infer A) => infer R ? [A, R] : F extends abstract new (...args: infer A) => infer R ? [A, 'constructs', R] : ['not a function', F];

/**
 * The members K whose parameters or result in the harness H differ from Electron's E (for an
 * overloaded member, its last overload); never when there are none. Use as
 * `Matches<Differing<H, E, K>>`: a differing member's name appears in tsc's error.
 */
export type Differing<H, E, K extends keyof E> = {
  [P in K]: P extends keyof H ? (Same<Signature<H[P]>, Signature<E[P]>> extends true ? never : P) : P;
}[K];
export type Matches<T extends never> = T;
/** Constructor parameters, compared the same way. */
export type SameConstructor<H extends abstract new (...args: never) => unknown, E extends abstract new (...args: never) => unknown> =
  Same<ConstructorParameters<H>, ConstructorParameters<E>> extends true ? true : ['constructor parameters differ', ConstructorParameters<H>, ConstructorParameters<E>];
export type Holds<T extends true> = T;
