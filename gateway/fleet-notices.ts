/**
 * What drives the fleet view's reloads (fleet-view.ts): the change notices every gateway
 * publishes on `keyspace.configChanges` (`edge/<id>`, `config/<kind>/<scope>`, `broker/<id>`,
 * `api-key/<id>`, `alert-rules`, …) and read here for what they name, and the fingerprint of the
 * tables the view holds, which its periodic refresh compares (the safety net for a lost notice).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './db/database.ts';
import { CONFIG_KINDS, type ConfigKind } from './db/schema.ts';

/** What `changed` says after an operator alert rule's write (the rules loop applies at once). */
export const ALERT_RULES_CHANGED = 'alert-rules';

/** Notices of what the view does not hold (API keys, the alert rules): they reload nothing here. */
const NOT_IN_THE_VIEW = ['api-key/', ALERT_RULES_CHANGED];

/** Whether a notice names something the view holds. */
export function inTheView(what: string): boolean {
  return !NOT_IN_THE_VIEW.some((prefix) => what.startsWith(prefix));
}

/** The documents by `<kind>\u0000<scope>`. */
export function documentMap(
  docs: readonly { kind: string; scope: string; version: number; body: Record<string, unknown> }[],
): Map<string, { version: number; body: Record<string, unknown> }> {
  return new Map(docs.map((d) => [`${d.kind}\u0000${d.scope}`, { version: d.version, body: d.body }]));
}

/** A document of one module's scope, by its notice's `<kind>/<scope>`. */
export interface ModuleDocument {
  readonly kind: ConfigKind;
  readonly id: string;
}

/** The module a `<kind>/module:<id>` document is of; undefined for any wider scope. */
export function moduleDocument(kindScope: string): ModuleDocument | undefined {
  const match = /^([a-z]+)\/module:(.+)$/.exec(kindScope);
  if (match === null || !(CONFIG_KINDS as readonly string[]).includes(match[1]!)) return undefined;
  return { kind: match[1] as ConfigKind, id: match[2]! };
}

/**
 * The tables' fingerprint: the edges' count and newest `updated_at`, the documents' newest, the
 * brokers' count and newest. What the view holds, not the audit log: every audited call moved
 * the log's newest id (a command to one edge, a tunnel opened), and each move meant a whole
 * reload at the next refresh.
 */
export async function fingerprintOf(db: Db): Promise<string> {
  const rows = await db.execute(sql`select
      (select count(*) from edges)::text || '/' ||
      (select coalesce(max(updated_at)::text, '') from edges) || '/' ||
      (select coalesce(max(updated_at)::text, '') from config_documents) || '/' ||
      (select count(*) || '/' || coalesce(max(created_at)::text, '') from brokers) as fingerprint`);
  const list = ((rows as { rows?: unknown }).rows ?? rows) as { fingerprint: string }[];
  return String(list[0]?.fingerprint);
}
