/**
 * Configuration documents: one current version per (kind, scope) with its history, written in a
 * transaction that checks the version the writer saw (`If-Match`). Scopes, weakest first:
 * `global`, `group:<groupId>`, `module:<id>`; a module's configuration is their merge.
 */
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from './db/database.ts';
import { type ConfigKind, configDocuments, configVersions } from './db/schema.ts';
import { ApiError } from './errors.ts';

const SCOPE = /^(global|group:[A-Za-z0-9_.:-]{1,128}|module:[A-Za-z0-9_.:-]{1,128})$/;

export function checkScope(scope: string): string {
  if (!SCOPE.test(scope))
    throw new ApiError(
      'INVALID_REQUEST',
      `scope must be "global", "group:<id>" or "module:<id>", got ${JSON.stringify(scope)}`,
    );
  return scope;
}

/** Objects merge key by key; anything else (arrays too) replaces. */
export function mergeConfig(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isObject(prev) && isObject(value) ? mergeConfig(prev, value) : value;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Writes a new version of a document; `ifMatch` is the version the writer read (0: it must not
 * exist yet), checked in the same transaction. Returns the new version.
 */
export async function putConfig(
  db: Db,
  o: { kind: ConfigKind; scope: string; body: Record<string, unknown>; ifMatch?: number; actor: string },
): Promise<number> {
  return await db.transaction(async (tx) => {
    const [current] = await tx
      .select({ version: configDocuments.version })
      .from(configDocuments)
      .where(and(eq(configDocuments.kind, o.kind), eq(configDocuments.scope, o.scope)))
      .for('update');
    const currentVersion = current?.version ?? 0;
    if (o.ifMatch !== undefined && o.ifMatch !== currentVersion)
      throw new ApiError(
        'PRECONDITION_FAILED',
        `${o.kind}/${o.scope} is at version ${currentVersion}, not ${o.ifMatch}: read it again`,
        { version: currentVersion },
      );
    const version = currentVersion + 1;
    const row = { kind: o.kind, scope: o.scope, version, body: o.body };
    await tx
      .insert(configDocuments)
      .values({ ...row, updatedBy: o.actor })
      .onConflictDoUpdate({
        target: [configDocuments.kind, configDocuments.scope],
        set: { version, body: o.body, updatedBy: o.actor, updatedAt: new Date() },
      });
    await tx.insert(configVersions).values({ ...row, createdBy: o.actor });
    return version;
  });
}

/** A configuration document: its kind and its scope (`global`, a building, an edge). */
export interface ConfigRef {
  readonly kind: ConfigKind;
  readonly scope: string;
}

/** The document's versions, newest first: `limit` of them (default 50). */
export async function configHistory(db: Db, doc: ConfigRef & { readonly limit?: number }) {
  const { kind, scope, limit = 50 } = doc;
  return await db
    .select()
    .from(configVersions)
    .where(and(eq(configVersions.kind, kind), eq(configVersions.scope, scope)))
    .orderBy(desc(configVersions.version))
    .limit(limit);
}

/** The body of an earlier version, to write again as the newest (a rollback). */
export async function configVersion(db: Db, doc: ConfigRef & { readonly version: number }) {
  const { kind, scope, version } = doc;
  const [row] = await db
    .select()
    .from(configVersions)
    .where(
      and(
        eq(configVersions.kind, kind),
        eq(configVersions.scope, scope),
        eq(configVersions.version, version),
      ),
    );
  if (row === undefined) throw new ApiError('NOT_FOUND', `${kind}/${scope} has no version ${version}`);
  return row;
}
