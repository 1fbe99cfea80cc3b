/** The operator alert rules' rows (migrations/0011): list, insert, update, delete by name. */
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { alertRules } from '../db/schema.ts';
import type { AlertRule } from './rules.ts';

export interface StoredAlertRule extends AlertRule {
  readonly labels: Readonly<Record<string, string>>;
  readonly updatedAt: number;
}

type Row = typeof alertRules.$inferSelect;

const toRule = (row: Row): StoredAlertRule => ({
  name: row.name,
  metric: row.metric,
  op: row.op,
  threshold: row.threshold,
  forSeconds: row.forSeconds,
  severity: row.severity,
  summary: row.summary,
  labels: row.labels,
  updatedAt: row.updatedAt.getTime(),
});

const columns = (rule: AlertRule) => ({
  metric: rule.metric,
  op: rule.op,
  threshold: rule.threshold,
  forSeconds: rule.forSeconds,
  severity: rule.severity,
  summary: rule.summary,
  labels: { ...rule.labels },
});

/** Every rule, by name. */
export async function listAlertRules(db: Db): Promise<StoredAlertRule[]> {
  const rows = await db.select().from(alertRules).orderBy(asc(alertRules.name));
  return rows.map(toRule);
}

/** Inserts a rule; false when one of that name exists. */
export async function insertAlertRule(db: Db, rule: AlertRule): Promise<StoredAlertRule | undefined> {
  const rows = await db
    .insert(alertRules)
    .values({ name: rule.name, ...columns(rule) })
    .onConflictDoNothing({ target: alertRules.name })
    .returning();
  return rows[0] === undefined ? undefined : toRule(rows[0]);
}

/** Replaces the rule of that name; undefined when there is none. */
export async function updateAlertRule(db: Db, rule: AlertRule): Promise<StoredAlertRule | undefined> {
  const rows = await db
    .update(alertRules)
    .set({ ...columns(rule), updatedAt: sql`now()` })
    .where(eq(alertRules.name, rule.name))
    .returning();
  return rows[0] === undefined ? undefined : toRule(rows[0]);
}

/** Deletes the rule of that name; whether there was one. */
export async function deleteAlertRule(db: Db, name: string): Promise<boolean> {
  const rows = await db.delete(alertRules).where(eq(alertRules.name, name)).returning({ id: alertRules.id });
  return rows.length > 0;
}
