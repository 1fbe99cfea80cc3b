/**
 * What presented credentials name: the principal (an API key with its scope, or an edge), what a
 * lookup found (someone, valid until when; a refusal and why; or nothing), and the API-key lookup
 * with its refusals (unknown, revoked, expired, rotated out), used by `auth.ts`.
 */
import { eq, or } from 'drizzle-orm';
import type { Db } from './db/database.ts';
import { type ApiScope, apiKeys } from './db/schema.ts';
import type { FailureReason, Scheme } from './login-limiter.ts';
import { hashSecret } from './secrets.ts';

export type Principal =
  | { readonly kind: 'key'; readonly id: string; readonly name: string; readonly scope: ApiScope }
  | { readonly kind: 'edge'; readonly id: string };

/** Credentials refused, and why: `message` for the client, `refused` for the log and metrics. */
export interface Refusal {
  readonly refused: FailureReason;
  readonly message: string;
  /** What the credentials named (a key id, an edge id), never their secret. */
  readonly subject?: string;
}

/** What a lookup found: someone (valid until `until`, ms, when bounded), a refusal, or nothing. */
export type Lookup = { readonly principal: Principal; readonly until?: number } | Refusal | undefined;

export const NO_CREDENTIALS = 'Send an API key (Bearer) or edge credentials (Basic)';

/** An API key: its current secret until it expires, the one before a rotation until the grace ends. */
export async function lookupKey(db: Db, value: string, now: () => number): Promise<Lookup> {
  const hash = hashSecret(value);
  const [key] = await db
    .select()
    .from(apiKeys)
    .where(or(eq(apiKeys.keyHash, hash), eq(apiKeys.previousKeyHash, hash)))
    .limit(1);
  if (key === undefined) return { refused: 'unknown-key', message: 'Unknown API key' };
  const named = `API key ${key.name} (${key.id})`;
  if (key.revokedAt !== null)
    return {
      refused: 'key-revoked',
      subject: key.id,
      message: `${named} was revoked at ${key.revokedAt.toISOString()}`,
    };
  const current = key.keyHash === hash;
  const until = (current ? key.expiresAt : key.previousExpiresAt)?.getTime() ?? 0;
  if (until <= now())
    return current
      ? {
          refused: 'key-expired',
          subject: key.id,
          message: `${named} expired at ${new Date(until).toISOString()}; an admin can rotate it for a new one`,
        }
      : {
          refused: 'key-rotated',
          subject: key.id,
          message: `${named} was rotated at ${key.rotatedAt?.toISOString()}; the key before stopped working at ${new Date(until).toISOString()}`,
        };
  return { principal: { kind: 'key', id: key.id, name: key.name, scope: key.scope }, until };
}

export function schemeOf(header: string): Scheme {
  if (header.startsWith('Bearer ')) return 'bearer';
  if (header.startsWith('Basic ')) return 'basic';
  return 'other';
}

/** Why credentials a lookup found nothing for were refused (and the edge they named, if any). */
export function refusalOf(header: string, scheme: Scheme): Refusal {
  if (scheme !== 'basic') return { refused: 'malformed', message: NO_CREDENTIALS };
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const id = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
  return {
    refused: 'edge-credentials',
    message: 'Edge credentials not valid',
    ...(/^[A-Za-z0-9_.:-]{1,128}$/.test(id) ? { subject: `edge:${id}` } : {}),
  };
}
