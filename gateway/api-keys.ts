/**
 * API keys' lifecycle: created with an end (90 days by default, at most a year), rotated — a new
 * key under the same id, shown once, while the one before keeps working for a grace period (a day
 * by default, at most a week, never past its own end) — and listed with their ends. Only hashes
 * are stored; the Authenticator (`auth.ts`) decides what a presented key is worth.
 */
import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from './db/database.ts';
import { type ApiScope, apiKeys } from './db/schema.ts';
import { ApiError } from './errors.ts';
import { hashSecret, newSecret } from './secrets.ts';

const DAY_MS = 24 * 3600 * 1000;

/** A key's lifetime: default and bounds, in days. */
export const KEY_LIFETIME_DAYS = { default: 90, min: 1, max: 365 } as const;
/** How long the key before a rotation keeps working: default and bounds, in seconds. */
export const ROTATION_GRACE_SECONDS = { default: 24 * 3600, min: 0, max: 7 * 24 * 3600 } as const;

export interface CreatedApiKey {
  readonly id: string;
  /** The key itself: shown this once, only its hash is kept. */
  readonly key: string;
  readonly expiresAt: Date;
}

/**
 * Creates an API key; the key is returned once and only its hash is kept. It ends after
 * `expiresInDays` (default 90), or at `expiresAt` when given (tools and tests: not bounded).
 */
export async function createApiKey(
  db: Db,
  options: { name: string; scope: ApiScope; expiresInDays?: number; expiresAt?: Date },
): Promise<CreatedApiKey> {
  const key = newSecret('dhk');
  const id = `key-${hashSecret(key).slice(0, 12)}`;
  const expiresAt =
    options.expiresAt ?? new Date(Date.now() + (options.expiresInDays ?? KEY_LIFETIME_DAYS.default) * DAY_MS);
  await db
    .insert(apiKeys)
    .values({ id, name: options.name, scope: options.scope, keyHash: hashSecret(key), expiresAt });
  return { id, key, expiresAt };
}

export interface RotatedApiKey extends CreatedApiKey {
  /** When the key before stops working. */
  readonly previousExpiresAt: Date;
}

/**
 * Gives key `id` a new secret (and a new end, `expiresInDays` from now); the secret before keeps
 * working for `graceSeconds` (never past its own end). One statement: two rotations at once
 * leave one of them in place, with the other's secret as "the one before". A second rotation
 * ends the grace of the first. NOT_FOUND without such a key, CONFLICT for a revoked one.
 */
export async function rotateApiKey(
  db: Db,
  id: string,
  options: { graceSeconds?: number; expiresInDays?: number } = {},
): Promise<RotatedApiKey> {
  const key = newSecret('dhk');
  const now = Date.now();
  const graceEnd = new Date(now + (options.graceSeconds ?? ROTATION_GRACE_SECONDS.default) * 1000);
  const expiresAt = new Date(now + (options.expiresInDays ?? KEY_LIFETIME_DAYS.default) * DAY_MS);
  const [rotated] = await db
    .update(apiKeys)
    .set({
      keyHash: hashSecret(key),
      expiresAt,
      rotatedAt: new Date(now),
      // The right-hand sides see the row before the update.
      previousKeyHash: sql`${apiKeys.keyHash}`,
      previousExpiresAt: sql`least(${apiKeys.expiresAt}, ${graceEnd.toISOString()}::timestamptz)`,
    })
    .where(sql`${apiKeys.id} = ${id} and ${apiKeys.revokedAt} is null`)
    .returning({ previousExpiresAt: apiKeys.previousExpiresAt });
  if (rotated === undefined) {
    const [row] = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
    if (row === undefined) throw new ApiError('NOT_FOUND', `No API key ${id}`);
    throw new ApiError('CONFLICT', `API key ${id} is revoked: create a new one`);
  }
  return { id, key, expiresAt, previousExpiresAt: rotated.previousExpiresAt ?? graceEnd };
}

export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly scope: ApiScope;
  readonly state: 'active' | 'expired' | 'revoked';
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly rotatedAt: string | null;
  /** Until when the key before the last rotation works (null: none does any more). */
  readonly previousExpiresAt: string | null;
}

/** Every key with its state and ends (never its hash), oldest first. */
export async function listApiKeys(db: Db): Promise<ApiKeyInfo[]> {
  const rows = await db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
  const now = Date.now();
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return rows.map((k) => ({
    id: k.id,
    name: k.name,
    scope: k.scope,
    state: k.revokedAt !== null ? 'revoked' : k.expiresAt.getTime() <= now ? 'expired' : 'active',
    createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt.toISOString(),
    revokedAt: iso(k.revokedAt),
    rotatedAt: iso(k.rotatedAt),
    previousExpiresAt:
      k.previousExpiresAt !== null && k.previousExpiresAt.getTime() > now
        ? k.previousExpiresAt.toISOString()
        : null,
  }));
}
