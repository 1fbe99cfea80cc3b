/**
 * Registering edges in bulk with secrets the caller chose (provisioning tools, the demo's
 * simulated fleet): stored hashed, added to the fleet set the links check. Edges already
 * registered keep their secret.
 */
import { eq } from 'drizzle-orm';
import type { Bus } from '../bus/mod.ts';
import { provisionEdges } from '../edge/mod.ts';
import type { Db } from './db/database.ts';
import { edges } from './db/schema.ts';
import { hashSecret } from './secrets.ts';

export async function registerEdges(
  db: Db,
  bus: Bus,
  list: readonly { id: string; secret: string; groupId?: string }[],
): Promise<void> {
  for (let i = 0; i < list.length; i += 1000) {
    const chunk = list.slice(i, i + 1000);
    await db
      .insert(edges)
      .values(chunk.map((e) => ({ id: e.id, groupId: e.groupId ?? null, secretHash: hashSecret(e.secret) })))
      .onConflictDoNothing();
    await provisionEdges(
      bus,
      chunk.map((e) => e.id),
    );
  }
}

/** Whether the edge is registered (has a row in the registry). */
export async function isRegistered(db: Db, id: string): Promise<boolean> {
  return (await db.select({ id: edges.id }).from(edges).where(eq(edges.id, id))).length > 0;
}
