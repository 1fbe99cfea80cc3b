/**
 * The retention sweeper: every clip worker runs one, the holder of the named lease
 * `clip-retention` sweeps. A sweep takes the `clips` rows stored and past `expires_at` (the
 * database's clock, so the workers' clocks do not matter), oldest first, in batches; deletes each
 * one's video, poster and metadata from the object store, then marks the row 'deleted' (only if it
 * is still 'stored'). A row whose objects could not all be deleted stays 'stored' and is tried
 * again next sweep; deleting twice (a lease handed over mid-sweep) is harmless. The lease is
 * renewed between batches, and a sweep stops when it is lost or the sweeper is closed.
 */
import { and, asc, eq, inArray, lt, sql } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, CLIP_RETENTION_LEASE, toError } from '../../bus/mod.ts';
import type { Db } from '../../gateway/db/database.ts';
import { clips } from '../../gateway/db/schema.ts';
import { clipMetaKey, clipPosterKey, clipVideoKey, type ObjectStore } from '../../objects/mod.ts';

export interface ClipRetentionStats {
  /** Sweeps run while holding the lease. */
  sweeps: number;
  /** Clips whose objects were deleted and row marked 'deleted'. */
  deleted: number;
  /** Sweeps that failed and clips whose objects could not be deleted. */
  errors: number;
}

export interface ClipRetentionOptions {
  readonly bus: Bus;
  readonly db: Db;
  readonly store: ObjectStore;
  /** This worker's name in the lease. */
  readonly holder: string;
  readonly logger?: Logger;
  /** Between sweeps, ms (default 60 s); the first sweep comes one interval after the start. */
  readonly everyMs?: number;
  /** Rows per batch (default 100). */
  readonly batchSize?: number;
  /** Most batches in one sweep (default 50): a large backlog is worked off over several sweeps. */
  readonly maxBatches?: number;
  readonly signal?: AbortSignal;
}

export interface ClipRetention extends AsyncDisposable {
  readonly stats: ClipRetentionStats;
  /** Runs one sweep now if this worker gets the lease; the clips deleted (0 without the lease). */
  sweep(): Promise<number>;
  /** Stops the timer, waits for the sweep in flight and gives the lease up. */
  close(): Promise<void>;
}

export function startClipRetention(o: ClipRetentionOptions): ClipRetention {
  const { bus, db, store, holder, everyMs = 60_000, batchSize = 100, maxBatches = 50, signal } = o;
  if (!(Number.isInteger(everyMs) && everyMs >= 10 && everyMs <= 86_400_000))
    throw new RangeError(`Cannot start clip retention: everyMs must be 10..86400000, got ${everyMs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10_000))
    throw new RangeError(`Cannot start clip retention: batchSize must be 1..10000, got ${batchSize}`);
  if (!(Number.isInteger(maxBatches) && maxBatches >= 1))
    throw new RangeError(`Cannot start clip retention: maxBatches must be ≥ 1, got ${maxBatches}`);
  const log = (o.logger ?? silentLogger).child({ component: 'clip-retention', worker: holder });
  // Long enough to span a batch of deletions on a slow store; renewed before each batch.
  const ttlMs = Math.max(30_000, everyMs * 3);
  const stats: ClipRetentionStats = { sweeps: 0, deleted: 0, errors: 0 };
  const stop = new AbortController();
  const stopped = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<number> = Promise.resolve(0);

  const hold = (): Promise<boolean> => bus.holdLease({ name: CLIP_RETENTION_LEASE, holder, ttlMs });

  /** Deletes one clip's objects; true when all are gone. */
  const deleteObjects = async (row: { id: string; videoKey: string | null; posterKey: string | null }) => {
    const keys = new Set([
      row.videoKey,
      row.posterKey,
      clipVideoKey(row.id),
      clipPosterKey(row.id),
      clipMetaKey(row.id),
    ]);
    try {
      await Promise.all([...keys].filter((k): k is string => k !== null).map((k) => store.delete(k)));
      return true;
    } catch (error) {
      stats.errors++;
      log.warn({ clipId: row.id, err: toError(error) }, 'clip objects not deleted; trying again next sweep');
      return false;
    }
  };

  const sweepHeld = async (): Promise<number> => {
    stats.sweeps++;
    let deleted = 0;
    for (let batch = 0; batch < maxBatches && !stopped.aborted; batch++) {
      if (batch > 0 && !(await hold())) break;
      const rows = await db
        .select({ id: clips.id, videoKey: clips.videoKey, posterKey: clips.posterKey })
        .from(clips)
        .where(and(eq(clips.status, 'stored'), lt(clips.expiresAt, sql`now()`)))
        .orderBy(asc(clips.expiresAt))
        .limit(batchSize);
      if (rows.length === 0) break;
      const gone: string[] = [];
      for (const row of rows) {
        if (stopped.aborted) break;
        if (await deleteObjects(row)) gone.push(row.id);
      }
      if (gone.length > 0) {
        const marked = await db
          .update(clips)
          .set({ status: 'deleted', updatedAt: sql`now()` })
          .where(and(inArray(clips.id, gone), eq(clips.status, 'stored')))
          .returning({ id: clips.id });
        deleted += marked.length;
        stats.deleted += marked.length;
      }
      // A batch with failures would be selected again at once: leave them to the next sweep.
      if (rows.length < batchSize || gone.length < rows.length) break;
    }
    if (deleted > 0) log.info({ deleted }, 'clips past their retention deleted');
    return deleted;
  };

  const sweep = (): Promise<number> => {
    const run = inFlight.then(async () => {
      if (stopped.aborted) return 0;
      try {
        return (await hold()) ? await sweepHeld() : 0;
      } catch (error) {
        stats.errors++;
        log.warn({ err: toError(error) }, 'clip retention sweep failed; trying again next interval');
        return 0;
      }
    });
    inFlight = run;
    return run;
  };

  const schedule = (): void => {
    if (stopped.aborted) return;
    timer = setTimeout(() => void sweep().finally(schedule), everyMs);
  };
  const onAbort = (): void => clearTimeout(timer);
  stopped.addEventListener('abort', onAbort, { once: true });
  schedule();

  const close = async (): Promise<void> => {
    stop.abort();
    clearTimeout(timer);
    await inFlight;
    await bus.dropLease(CLIP_RETENTION_LEASE, holder).catch(() => false);
  };
  return { stats, sweep, close, [Symbol.asyncDispose]: close };
}
