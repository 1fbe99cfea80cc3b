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

/**
 * The view's key of a document (`kind`, its scope) or of a resolved configuration (`kind`, a
 * module's id): the documents map, the resolved cache and the long-polls' waits use it.
 */
export const keyOf = (kind: string, name: string): string => `${kind}\u0000${name}`;

/** The documents by keyOf(kind, scope). */
export function documentMap(
  docs: readonly { kind: string; scope: string; version: number; body: Record<string, unknown> }[],
): Map<string, { version: number; body: Record<string, unknown> }> {
  return new Map(docs.map((d) => [keyOf(d.kind, d.scope), { version: d.version, body: d.body }]));
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

/** The fingerprint of each table the view holds: a refresh reloads the tables whose one moved. */
export interface Fingerprint {
  /** The edges' count and newest `updated_at`. */
  readonly edges: string;
  /** The documents' count and newest `updated_at`. */
  readonly documents: string;
  /** The brokers' count and newest `created_at`. */
  readonly brokers: string;
  /**
   * The database's clock when the edges' part was taken: the next refresh that finds the edges
   * moved reads the rows changed since (fleet-edges.ts, changedEdgeRows).
   */
  readonly edgesAt: string;
}

/** The edges' count in their fingerprint (`<count>/<newest updated_at>`). */
export function edgesCount(fingerprint: Fingerprint): number {
  return Number(fingerprint.edges.slice(0, fingerprint.edges.indexOf('/')));
}

/**
 * The tables' fingerprints. What the view holds, not the audit log: every audited call moved the
 * log's newest id (a command to one edge, a tunnel opened), and each move meant a whole reload at
 * the next refresh.
 */
export async function fingerprintOf(db: Db): Promise<Fingerprint> {
  const rows = await db.execute(sql`select
      (select count(*) || '/' || coalesce(max(updated_at)::text, '') from edges) as edges,
      (select count(*) || '/' || coalesce(max(updated_at)::text, '') from config_documents) as documents,
      (select count(*) || '/' || coalesce(max(created_at)::text, '') from brokers) as brokers,
      now()::text as "edgesAt"`);
  const list = ((rows as { rows?: unknown }).rows ?? rows) as Fingerprint[];
  const row = list[0];
  return {
    edges: String(row?.edges),
    documents: String(row?.documents),
    brokers: String(row?.brokers),
    edgesAt: String(row?.edgesAt),
  };
}

/**
 * The document keys (keyOf(kind, scope)) whose version differs between two loads: what a
 * reload of every document actually changed.
 */
export function changedDocuments(
  before: ReadonlyMap<string, { version: number }>,
  after: ReadonlyMap<string, { version: number }>,
): string[] {
  const changed: string[] = [];
  for (const [key, doc] of after) if (before.get(key)?.version !== doc.version) changed.push(key);
  for (const key of before.keys()) if (!after.has(key)) changed.push(key);
  return changed;
}
