/** Rollout definitions in the database: the list survives the gateways and the actors' trimming. */
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { rolloutMembers, rollouts } from '../db/schema.ts';

export type RolloutRow = typeof rollouts.$inferSelect;

/** Statuses after which nothing changes: the row gets finished_at, the membership job stops. */
export const FINAL_STATUSES: readonly string[] = ['completed', 'aborted', 'rolled_back'];

export async function insertRollout(db: Db, row: typeof rollouts.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(rollouts).values(row).onConflictDoNothing().returning({ id: rollouts.id });
  return inserted.length > 0;
}

export async function getRollout(db: Db, id: string): Promise<RolloutRow | undefined> {
  return (await db.select().from(rollouts).where(eq(rollouts.id, id)))[0];
}

/** Newest first, `limit` of them (only those not finished, with `active`). */
export async function listRollouts(db: Db, o: { limit: number; active?: boolean }): Promise<RolloutRow[]> {
  return await db
    .select()
    .from(rollouts)
    .where(o.active ? isNull(rollouts.finishedAt) : undefined)
    .orderBy(desc(rollouts.createdAt), desc(rollouts.id))
    .limit(o.limit);
}

export async function activeRollouts(db: Db): Promise<RolloutRow[]> {
  return await db.select().from(rollouts).where(isNull(rollouts.finishedAt));
}

/** The status a gateway saw; final ones finish the row. */
export async function recordStatus(db: Db, id: string, status: string, members?: number): Promise<void> {
  const now = new Date();
  await db
    .update(rollouts)
    .set({
      status,
      updatedAt: now,
      ...(members === undefined ? {} : { members }),
      ...(FINAL_STATUSES.includes(status) ? { finishedAt: now } : {}),
    })
    .where(and(eq(rollouts.id, id), isNull(rollouts.finishedAt)));
}

/** The edges already sent to a rollout. */
export async function memberIds(db: Db, id: string): Promise<Set<string>> {
  const rows = await db
    .select({ edgeId: rolloutMembers.edgeId })
    .from(rolloutMembers)
    .where(eq(rolloutMembers.rolloutId, id));
  return new Set(rows.map((r) => r.edgeId));
}
