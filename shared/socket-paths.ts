// Where the helper's control channel lives on each OS, in one place so the helper
// (privileged-helper/config/config.ts), portsentryctl and the desktop app (main/) cannot
// disagree. No node: imports: the platform is a parameter, so every OS's answer is testable
// on any machine.

/** process.platform values we ship for; anything else is treated as a Linux-like Unix. */
export type SocketPlatform = NodeJS.Platform;

/** The Windows named pipe. Its DACL is set by the service host (build/windows/install-service.ps1). */
export const WINDOWS_PIPE = '\\\\.\\pipe\\portsentry-desktop-helper';
/** Linux: a tmpfs directory systemd's RuntimeDirectory= and the helper both create. */
export const LINUX_SOCKET = '/run/portsentry-desktop/helper.sock';
/**
 * macOS has no /run; /var/run (a link to /private/var/run) is root-owned, emptied at boot,
 * and the helper recreates its 0750 directory there at start. The launchd daemon
 * (build/launchd) runs the helper with the default, so the app and the daemon agree.
 */
export const MACOS_SOCKET = '/var/run/portsentry-desktop/helper.sock';

/** The operator socket the helper listens on and the desktop app connects to, by default. */
export function defaultSocketPath(platform: SocketPlatform): string {
  switch (platform) {
    case 'win32':
      return WINDOWS_PIPE;
    case 'darwin':
      return MACOS_SOCKET;
    default:
      return LINUX_SOCKET;
  }
}

/** Root's own admin socket (privileged-helper/rpc/control-socket.ts), beside the operator one. */
export function defaultAdminSocketPath(platform: SocketPlatform): string {
  switch (platform) {
    case 'win32':
      return '\\\\.\\pipe\\portsentry-desktop-admin';
    case 'darwin':
      return '/var/run/portsentry-desktop/admin/helper.sock';
    default:
      return '/run/portsentry-desktop/admin/helper.sock';
  }
}
