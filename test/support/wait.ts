// Waiting in tests: poll for a fact until it holds or a generous deadline passes. Tests wait for
// conditions, never for a fixed time, so a loaded machine makes them slower, not wrong.

const POLL_MS = 100;

/** Resolves with check()'s first defined value; rejects after timeoutMs naming what was awaited (and detail(), if given). */
export async function untilValue<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, detail?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${detail === undefined ? '' : `; ${detail()}`}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Resolves once check() is true. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000, detail?: () => string): Promise<void> {
  await untilValue(what, async () => ((await check()) ? true : undefined), timeoutMs, detail);
}
