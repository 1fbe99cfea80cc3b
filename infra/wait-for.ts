/**
 * Waits for a condition with a deadline instead of sleeping: polls `check` until it returns a
 * value other than undefined/false, or fails with `message` and the last error `check` threw.
 * `explain`, when given, says what things look like at the timeout (not when the wait began),
 * appended to the failure.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: {
    timeoutMs?: number;
    intervalMs?: number;
    message?: string;
    explain?: () => unknown;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 20, message = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail =
        options.explain === undefined
          ? ''
          : `; ${await Promise.resolve()
              .then(options.explain)
              .catch((error: unknown) => `(could not say: ${String(error)})`)}`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}${detail}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
