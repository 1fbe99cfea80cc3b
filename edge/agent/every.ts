/**
 * The agent's periodic tasks (configuration polls, health reports): each run after the previous
 * one finished, until the agent stops.
 */
import type { Logger } from './logger.ts';

/** Runs `fn` every `ms` (after it finished) until `signal` aborts; `timers` collects the pending one. */
export function every(
  ms: number,
  fn: () => Promise<void>,
  o: { signal: AbortSignal; log: Logger; timers: ReturnType<typeof setTimeout>[] },
): void {
  const run = async () => {
    await fn().catch((err: unknown) => o.log.warn({ err }, 'periodic task failed'));
    if (!o.signal.aborted) o.timers.push(setTimeout(run, ms));
  };
  o.timers.push(setTimeout(run, ms));
}
