/** The audit log: one record per mutation — who, what, on what, when, with the details. */
import type { Db } from './db/database.ts';
import { auditLog } from './db/schema.ts';

export async function audit(
  db: Db,
  record: { actor: string; action: string; target: string; details?: Record<string, unknown> },
): Promise<void> {
  await db.insert(auditLog).values({ ...record, details: record.details ?? {} });
}
