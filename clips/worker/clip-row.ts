/**
 * The worker's writes to a clip's row (`clips`, migrations/0009): each guarded so that a row
 * once 'stored' or 'deleted' never goes back, whoever writes late — a replayed job, a second
 * worker that took a stalled job while the first still ran. 'stored' is set once: the update
 * that sets it says whether it was this one.
 */
import { and, eq, notInArray, sql } from 'drizzle-orm';
import type { ClipCamera, ClipRequest } from '../../edge/protocol/mod.ts';
import { queuedClipRow } from '../../gateway/db/clip-rows.ts';
import type { Db } from '../../gateway/db/database.ts';
import { type ClipStatus, clips } from '../../gateway/db/schema.ts';

export type ClipRow = typeof clips.$inferSelect;

/** Statuses a row never leaves once in them. */
const FINAL: ClipStatus[] = ['stored', 'deleted'];

/**
 * The row of `request`, inserted 'queued' when the sink did not (a job added by hand, a
 * benchmark); the row as it is now.
 */
export async function ensureClipRow(db: Db, request: ClipRequest): Promise<ClipRow> {
  // The key is (edge_id, requested_at, id) since 0012 (clips partitioned by month): the sink's row
  // for the same request has all three, so any conflict is that row.
  await db.insert(clips).values(queuedClipRow(request)).onConflictDoNothing();
  const row = await clipRowOf(db, request.clipId);
  if (row === undefined) throw new Error(`clip ${request.clipId}: its row vanished right after its insert`);
  return row;
}

/** The clip's row as it is now, if there is one. */
export async function clipRowOf(db: Db, clipId: string): Promise<ClipRow | undefined> {
  const [row] = await db.select().from(clips).where(eq(clips.id, clipId));
  return row;
}

/** A step begins: the row's status, who works on it, and what is known (camera, task). */
export async function markClipStep(
  db: Db,
  clipId: string,
  o: {
    readonly status: 'saving' | 'waiting' | 'downloading';
    readonly worker: string;
    readonly camera?: ClipCamera;
    readonly taskId?: string;
    /** A new run of the job (the first step a worker takes): counted in `attempts`. */
    readonly newAttempt?: boolean;
  },
): Promise<void> {
  await db
    .update(clips)
    .set({
      status: o.status,
      worker: o.worker,
      ...(o.camera === undefined ? {} : { cameraSerial: o.camera.serial, cameraChannel: o.camera.channel }),
      ...(o.taskId === undefined ? {} : { ezvizTaskId: o.taskId }),
      ...(o.newAttempt === true ? { attempts: sql`${clips.attempts} + 1` } : {}),
      updatedAt: new Date(),
    })
    .where(and(eq(clips.id, clipId), notInArray(clips.status, [...FINAL, 'failed'])));
}

export interface StoredClip {
  readonly videoKey: string;
  readonly posterKey: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly durationMs: number;
  readonly worker: string;
}

/**
 * The clip is in the object store: 'stored', with what it is and when it expires (stored_at +
 * the kind's retention). True when this call stored it; false when the row was already final.
 */
export async function markClipStored(db: Db, clipId: string, clip: StoredClip): Promise<boolean> {
  const stored = await db
    .update(clips)
    .set({
      status: 'stored',
      code: null,
      reason: null,
      videoKey: clip.videoKey,
      posterKey: clip.posterKey,
      bytes: clip.bytes,
      sha256: clip.sha256,
      durationMs: clip.durationMs,
      worker: clip.worker,
      storedAt: sql`now()`,
      expiresAt: sql`now() + make_interval(days => ${clips.retentionDays})`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(clips.id, clipId), notInArray(clips.status, FINAL)))
    .returning({ id: clips.id });
  return stored.length === 1;
}

/**
 * The job gave up: 'failed' with the code and the reason the operator reads. False when the row
 * was already 'stored' or 'deleted' (another run got there first): it stays as it is.
 */
export async function markClipFailed(
  db: Db,
  clipId: string,
  o: { readonly code: string; readonly reason: string; readonly worker: string },
): Promise<boolean> {
  const failed = await db
    .update(clips)
    .set({ status: 'failed', code: o.code, reason: o.reason, worker: o.worker, updatedAt: new Date() })
    .where(and(eq(clips.id, clipId), notInArray(clips.status, FINAL)))
    .returning({ id: clips.id });
  return failed.length === 1;
}
