/**
 * The repository's upkeep: every gateway ticks, the one holding the named lease `tuf-upkeep`
 * re-signs what has less than half its lifetime left — the timestamp, in practice, twice per
 * lifetime. The lease keeps the others from signing the same thing; the row lock of the
 * repository makes it safe even when two run at once (a lease handed over mid-tick).
 */
import type { Logger } from '../../actors/mod.ts';
import { type Bus, TUF_UPKEEP_LEASE, toError } from '../../bus/mod.ts';
import type { TufKeys } from './keys.ts';
import type { TufRepository } from './repository.ts';

export interface TufUpkeepOptions {
  readonly bus: Bus;
  /** This gateway's name in the lease. */
  readonly holder: string;
  readonly log: Logger;
  /** Between ticks (default: an eighth of the timestamp's lifetime, within 100 ms..60 s). */
  readonly everyMs?: number;
  /** Run first in each tick the lease is held (signing artifacts whose hook never ran). */
  readonly catchUp?: () => Promise<void>;
}

export interface TufUpkeep {
  /** Resolves after the tick in flight, with the lease given up. */
  stop(): Promise<void>;
}

/** The tick that suits the keys' timestamp lifetime. */
export function upkeepInterval(keys: TufKeys): number {
  return Math.min(60_000, Math.max(100, Math.floor((keys.timestamp.expiresSeconds * 1000) / 8)));
}

export function startTufUpkeep(repository: TufRepository, options: TufUpkeepOptions): TufUpkeep {
  const { bus, holder, log } = options;
  const everyMs = options.everyMs ?? 60_000;
  if (!(Number.isInteger(everyMs) && everyMs >= 10))
    throw new RangeError(`Cannot start TUF upkeep: everyMs must be an integer ≥ 10, got ${everyMs}`);
  const ttlMs = Math.max(1000, everyMs * 3);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      if (await bus.holdLease({ name: TUF_UPKEEP_LEASE, holder, ttlMs })) {
        // A catch-up that fails (an artifact refused as a target) must not stop the re-signing:
        // a timestamp left to expire freezes every edge (TUF_EXPIRED).
        await options
          .catchUp?.()
          .catch((error: unknown) =>
            log.warn({ err: toError(error), component: 'tuf' }, 'tuf catch-up failed; re-signing anyway'),
          );
        await repository.upkeep();
      }
    } catch (error) {
      log.warn({ err: toError(error), component: 'tuf' }, 'tuf upkeep failed; trying again next tick');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = tick().finally(schedule);
    }, everyMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await bus.dropLease(TUF_UPKEEP_LEASE, holder).catch(() => false);
    },
  };
}
