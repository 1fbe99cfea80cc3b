/**
 * Who is asking: an API key (`Authorization: Bearer dhk_…`) with a scope — `service` (the web
 * backend) < `operator` < `admin`, each allowed what the one before it is — or an edge with its
 * own credentials (`Authorization: Basic <edgeId:secret>`), which may only fetch its own
 * configuration. Lookups are cached — edges poll often, and a database lookup per poll would cost
 * more than the poll — for a minute when they find someone and for 5 s when they do not; every
 * gateway forgets its cache when any of them registers or deregisters an edge or revokes a key
 * (through the fleet view's change channel), so the minute bounds only a lost notice.
 */
import { eq } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import type { Db } from './db/database.ts';
import { type ApiScope, apiKeys, edges } from './db/schema.ts';
import { ApiError } from './errors.ts';
import { hashSecret, newSecret, secretMatches } from './secrets.ts';

export type Principal =
  | { readonly kind: 'key'; readonly id: string; readonly name: string; readonly scope: ApiScope }
  | { readonly kind: 'edge'; readonly id: string };

export type AuthEnv = { Variables: { principal: Principal } };

const RANK: Record<ApiScope, number> = { service: 1, operator: 2, admin: 3 };

const FOUND_MS = 60_000;
const NOT_FOUND_MS = 5000;

export class Authenticator {
  readonly #db: Db;
  readonly #cache = new Map<string, { principal: Principal | undefined; until: number }>();

  constructor(db: Db) {
    this.#db = db;
  }

  /** The principal an Authorization header names, or undefined when it names none that is valid. */
  async principal(header: string | undefined): Promise<Principal | undefined> {
    if (!header) return undefined;
    const cached = this.#cache.get(header);
    if (cached !== undefined && cached.until > Date.now()) return cached.principal;
    const principal = await this.#lookup(header);
    if (this.#cache.size > 100_000) this.#cache.clear();
    // Spread over ±50 %: thousands of edges cached in the same second must not all expire in the
    // same second and queue their lookups at once (seen as a one-second stall under load).
    const ttl = (principal === undefined ? NOT_FOUND_MS : FOUND_MS) * (0.5 + Math.random());
    this.#cache.set(header, { principal, until: Date.now() + ttl });
    return principal;
  }

  async #lookup(header: string): Promise<Principal | undefined> {
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme === 'Bearer') {
      const [key] = await this.#db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.keyHash, hashSecret(value)))
        .limit(1);
      if (key === undefined || key.revokedAt !== null) return undefined;
      return { kind: 'key', id: key.id, name: key.name, scope: key.scope };
    }
    if (scheme === 'Basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1) return undefined;
      const id = decoded.slice(0, colon);
      // Not an edge id (a NUL or a broken character would reach the database as an error).
      if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) return undefined;
      const [edge] = await this.#db.select().from(edges).where(eq(edges.id, id)).limit(1);
      if (edge === undefined || !secretMatches(decoded.slice(colon + 1), edge.secretHash)) return undefined;
      return { kind: 'edge', id };
    }
    return undefined;
  }

  /** Forgets cached lookups (after a key is revoked or an edge deregistered). */
  forget(): void {
    this.#cache.clear();
  }
}

/** Lets through requests whose principal is an API key of at least `scope` (and, with `edges`, edges). */
export function requireAuth(
  auth: Authenticator,
  scope: ApiScope,
  options: { edges?: boolean } = {},
): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = await auth.principal(c.req.header('authorization'));
    if (principal === undefined)
      throw new ApiError('UNAUTHENTICATED', 'Send an API key (Bearer) or edge credentials (Basic)');
    if (principal.kind === 'edge' && !options.edges)
      throw new ApiError('FORBIDDEN', `Edge ${principal.id} may only fetch its own configuration`);
    if (principal.kind === 'key' && RANK[principal.scope] < RANK[scope])
      throw new ApiError(
        'FORBIDDEN',
        `This needs scope ${scope}; key ${principal.name} has ${principal.scope}`,
      );
    c.set('principal', principal);
    await next();
  };
}

/** Whether `principal` is an API key of at least `scope`. */
export function hasScope(principal: Principal | undefined, scope: ApiScope): boolean {
  return principal?.kind === 'key' && RANK[principal.scope] >= RANK[scope];
}

/** Who did it, for the audit log. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'key' ? `key:${principal.name}` : `edge:${principal.id}`;
}

/** Creates an API key; the key is returned once and only its hash is kept. */
export async function createApiKey(
  db: Db,
  options: { name: string; scope: ApiScope },
): Promise<{ id: string; key: string }> {
  const key = newSecret('dhk');
  const id = `key-${hashSecret(key).slice(0, 12)}`;
  await db.insert(apiKeys).values({ id, name: options.name, scope: options.scope, keyHash: hashSecret(key) });
  return { id, key };
}
