/** Waiting helpers shared by the tests of every folder (not a test file itself). */

/** Polls `probe` until it gives a value (not undefined, not false) and returns it; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether `condition` comes to hold within `timeoutMs`. */
export function eventually(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  return waitFor('condition', () => condition() || undefined, timeoutMs).then(
    () => true,
    () => false,
  );
}
