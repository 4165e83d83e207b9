// "Start at login". Electron's app.setLoginItemSettings covers macOS and Windows only; on
// Linux the freedesktop way is a .desktop file in ~/.config/autostart, written here.

import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const AUTOSTART_FILE = 'portsentry-desktop.desktop';

export function autostartDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const configHome = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(configHome, 'autostart');
}

/**
 * The Exec value per the Desktop Entry spec: each argument double-quoted with ", `, $ and \
 * backslash-escaped, % doubled (field codes), and then the string-level escaping applied on
 * top, which doubles every backslash again (so a literal $ ends up as \\$ in the file).
 */
export function desktopExecLine(argv: readonly string[]): string {
  for (const arg of argv) if (/[\n\r\0]/.test(arg)) throw new Error('an autostart argument cannot contain line breaks or NUL');
  const quoted = argv.map((arg) => `"${arg.replace(/(["`$\\])/g, '\\$1').replace(/%/g, '%%')}"`).join(' ');
  return quoted.replace(/\\/g, '\\\\');
}

export function autostartEntry(argv: readonly string[]): string {
  return ['[Desktop Entry]', 'Type=Application', 'Name=PortSentry', 'Comment=Port scan detection tray', `Exec=${desktopExecLine(argv)}`, 'X-GNOME-Autostart-enabled=true', 'Terminal=false', ''].join(
    '\n',
  );
}

/** Writes or removes the autostart entry; returns the file path. */
export async function setLinuxAutostart(enabled: boolean, argv: readonly string[], directory = autostartDirectory()): Promise<string> {
  const file = join(directory, AUTOSTART_FILE);
  if (enabled) {
    await mkdir(directory, { recursive: true });
    await writeFile(file, autostartEntry(argv), { mode: 0o644 });
  } else {
    await rm(file, { force: true });
  }
  return file;
}

/**
 * The command a login should run. From an AppImage, process.execPath is inside the
 * /tmp/.mount_* directory the AppImage runtime mounts only while it runs; the runtime puts
 * the AppImage file's own path in $APPIMAGE, which is what must be started at login. An
 * APPIMAGE that is not an absolute path is ignored (it did not come from the runtime).
 */
export function autostartCommand(execPath: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const appImage = env.APPIMAGE;
  const program = appImage !== undefined && appImage.startsWith('/') && !/[\n\r\0]/.test(appImage) ? appImage : execPath;
  return [program, ...args];
}
