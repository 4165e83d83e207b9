// Reloads asked for while one is running. Handing such a caller the running reload is wrong:
// it may have read the files before the caller wrote them (config.set writes, then asks), so
// the caller would be told "applied" of the old settings. Instead, everyone who asks while a
// reload runs shares one more reload, started when the running one has finished.

/** Wraps `reload` so that at most one runs at a time, and each caller's answer comes from a reload that started after it asked. */
export function coalesceReloads(reload: () => Promise<boolean>): () => Promise<boolean> {
  let running: Promise<boolean> | null = null;
  let next: Promise<boolean> | null = null;
  const start = (): Promise<boolean> => {
    running = reload().finally(() => {
      running = null;
    });
    return running;
  };
  return () => {
    if (running === null) return start();
    const afterRunning = () => {
      next = null;
      return start();
    };
    next ??= running.then(afterRunning, afterRunning);
    return next;
  };
}
