// HISTORY_FILE and BLOCKED_FILE lines in the original's format:
//   1764039600 - 11/25/2026 03:00:00 Host: name/198.18.0.3 Port: 1524 TCP Blocked
// (epoch seconds, then local time). Appends are serialized so lines never interleave.

import { dirname } from 'node:path';
import { appendToFile, assertSafeFile, ensureOwnDirectory, truncateFile } from '../files/safe-paths.js';

/** The history file is root's alone (it lists who attacked us, over all time). */
const HISTORY_FILE_MODE = 0o600;
/** The blocked files are 0644 as PortSentry 1.2 writes them: tools that read them need not run as root. */
const BLOCKED_FILE_MODE = 0o644;

export interface HistoryRecord {
  readonly at: number;
  readonly resolved: string;
  readonly source: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

export function formatHistoryLine(record: HistoryRecord): string {
  const time = new Date(record.at);
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${two(time.getMonth() + 1)}/${two(time.getDate())}/${time.getFullYear()}`;
  const clock = `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
  const epoch = Math.floor(record.at / 1000);
  return `${epoch} - ${date} ${clock} Host: ${record.resolved}/${record.source} Port: ${record.port} ${record.protocol} Blocked\n`;
}

export class HistoryWriter {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly historyFile: string,
    /** BLOCKED_FILE without the mode suffix; the mode is appended per record as the original does. */
    private readonly blockedFileBase: string,
    private readonly onError: (message: string) => void,
  ) {}

  /** The original empties each mode's blocked file at start; so do we, creating directories. */
  async resetBlockedFiles(modes: readonly string[]): Promise<void> {
    await ensureOwnDirectory(dirname(this.historyFile), 0o750, null);
    await ensureOwnDirectory(dirname(this.blockedFileBase), 0o750, null);
    for (const mode of modes) await truncateFile(`${this.blockedFileBase}.${mode}`, BLOCKED_FILE_MODE, 'blocked file');
    // Refuse an unsafe history file now, with a clear error, not at the first attack.
    await assertSafeFile(this.historyFile, 'history file');
  }

  /**
   * Appends the record's line to BLOCKED_FILE.<mode> and HISTORY_FILE. Lines that arrive
   * while a write is under way are appended together by the next one, so a flood of
   * scanners costs a few file writes, not two per scanner; order is kept.
   */
  record(record: HistoryRecord, mode: string): Promise<void> {
    const line = formatHistoryLine(record);
    for (const file of [`${this.blockedFileBase}.${mode}`, this.historyFile]) this.pending.set(file, (this.pending.get(file) ?? '') + line);
    this.flushing ??= this.queue.then(() => this.flush());
    return this.flushing;
  }

  private pending = new Map<string, string>();
  private flushing: Promise<void> | null = null;

  private async flush(): Promise<void> {
    this.flushing = null;
    const batch = this.pending;
    this.pending = new Map();
    this.queue = (async () => {
      for (const [file, text] of batch) {
        try {
          const history = file === this.historyFile;
          await appendToFile(file, text, history ? HISTORY_FILE_MODE : BLOCKED_FILE_MODE, history ? 'history file' : 'blocked file');
        } catch (error) {
          this.onError(`Cannot write ${file}: ${(error as Error).message}`);
        }
      }
    })();
    await this.queue;
  }
}
