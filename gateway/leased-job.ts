/**
 * A periodic job under a named lease (the fleet recount, the rollout membership pass): every
 * gateway ticks, the one holding the lease runs the job. The next tick is scheduled when a run
 * ends, so a run slower than the interval never overlaps the next, and `stop()` waits for the run
 * in progress. The lease lives two intervals (at least 1 s): a gateway that stops ticking hands it
 * on to another within that.
 */
import { type Bus, toError } from '../bus/mod.ts';

export interface LeasedJobOptions {
  readonly bus: Pick<Bus, 'holdLease'>;
  /** The named lease (bus/keys.ts builds its key). */
  readonly lease: string;
  /** This gateway's name in the lease. */
  readonly holder: string;
  /** Between the end of one tick and the start of the next. */
  readonly intervalMs: number;
  /** Run in each tick the lease is held. */
  readonly run: () => Promise<unknown>;
  /** A tick that failed (the lease not reached, or the job threw); the next one tries again. */
  readonly onError: (error: Error) => void;
}

export interface LeasedJob {
  /** No more ticks; resolves after the run in progress. */
  stop(): Promise<void>;
}

export function startLeasedJob(o: LeasedJobOptions): LeasedJob {
  const { bus, lease, holder, intervalMs, run, onError } = o;
  const ttlMs = Math.max(2 * intervalMs, 1000);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    try {
      if (await bus.holdLease({ name: lease, holder, ttlMs })) await run();
    } catch (error) {
      onError(toError(error));
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
