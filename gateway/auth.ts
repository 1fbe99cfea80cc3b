/**
 * Who is asking: an API key (`Authorization: Bearer dhk_…`) with a scope — `service` (the web
 * backend) < `operator` < `admin`, each allowed what the one before it is — or an edge with its
 * own credentials (`Authorization: Basic <edgeId:secret>`), which may only fetch its own
 * configuration. Lookups are cached — edges poll often, and a database lookup per poll would cost
 * more than the poll — for a minute when they find someone and for 5 s when they do not, and never
 * past the key's end (its expiry, or the grace period after a rotation); every gateway forgets an
 * edge's cached lookups when any of them registers, deregisters or rotates that edge, and the
 * keys' when a key is revoked or rotated (through the fleet view's change channel), so the minute
 * bounds only a lost notice. Refused credentials count
 * against their source address (`login-limiter.ts`): past its limit an address is answered 429,
 * without a lookup, except for credentials this gateway has seen valid.
 */
import type { IncomingMessage } from 'node:http';
import { eq } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { type Logger, silentLogger } from '../actors/mod.ts';
import {
  type Lookup,
  lookupKey,
  NO_CREDENTIALS,
  type Principal,
  refusalOf,
  schemeOf,
} from './credential-lookup.ts';
import type { Db } from './db/database.ts';
import { type ApiScope, edges } from './db/schema.ts';
import { ApiError, errorBody } from './errors.ts';
import { LoginLimiter, type LoginLimitOptions, TrustedProxies } from './login-limiter.ts';
import { secretMatches } from './secrets.ts';

export type { Principal } from './credential-lookup.ts';

export type AuthEnv = { Variables: { principal: Principal } };

export interface AuthenticatorOptions {
  /** Proxies whose X-Forwarded-For names the client: addresses or CIDR ranges (default none). */
  readonly trustedProxies?: readonly string[];
  /** Failed logins per address (default LoginLimiter's: 30 at once, then one per 2 s). */
  readonly loginLimit?: LoginLimitOptions;
  /** Where refused and limited logins are warned about (address and reason, never the secret). */
  readonly logger?: Logger;
  /** The clock (tests). */
  readonly now?: () => number;
  /** Lookups held at most (default 200,000; tests). */
  readonly maxCached?: number;
}

/** The outcome of presenting credentials: a principal, or why not and with which status. */
export type Authentication =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly status: 401; readonly message: string }
  | { readonly ok: false; readonly status: 429; readonly message: string; readonly retryAfter: number };

const RANK: Record<ApiScope, number> = { service: 1, operator: 2, admin: 3 };

const FOUND_MS = 60_000;
const NOT_FOUND_MS = 5000;
/** Lookups held at most: when full the expired ones go first, then all (a flood of made-up credentials). */
const MAX_CACHED = 200_000;

export class Authenticator {
  readonly #db: Db;
  readonly #now: () => number;
  readonly #maxCached: number;
  /** Lookups by header; `edge`: the edge a Basic header names (#edgeHeaders lists it there). */
  readonly #cache = new Map<string, { lookup: Lookup; until: number; edge: string | undefined }>();
  /**
   * The cached Basic headers by the edge they name: an edge's change forgets its own lookups
   * only. Forgetting all of them made every edge of the fleet look itself up again (at 50,000
   * edges, 50,000 database reads within a poll interval) for each edge registered or rotated.
   */
  readonly #edgeHeaders = new Map<string, Set<string>>();
  /** Credentials once found valid here: looked up even while their address is limited. */
  readonly #seenValid = new Set<string>();
  readonly #proxies: TrustedProxies;
  readonly #log: Logger;
  #onNewSecret: ((edgeId: string, secret: string) => Promise<void>) | undefined;
  /** Failed logins per source address (and the counts /metrics shows). */
  readonly limiter: LoginLimiter;

  constructor(db: Db, options: AuthenticatorOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#maxCached = options.maxCached ?? MAX_CACHED;
    this.#proxies = new TrustedProxies(options.trustedProxies);
    this.#log = (options.logger ?? silentLogger).child({ component: 'auth' });
    this.limiter = new LoginLimiter({
      ...options.loginLimit,
      logger: this.#log,
      now: this.#now,
    });
  }

  /** The client's address: the peer's, or what a trusted proxy forwarded (X-Forwarded-For). */
  clientAddress(peer: string | undefined, forwardedFor: string | undefined): string {
    return this.#proxies.clientAddress(peer, forwardedFor);
  }

  /**
   * The principal an Authorization header names, or undefined when it names none that is valid.
   * With the request it came on (WebSocket upgrades), refused credentials count against its
   * address as in `authenticate`, and a limited address gets undefined without a lookup.
   */
  async principal(header: string | undefined, from?: IncomingMessage): Promise<Principal | undefined> {
    if (!header) return undefined;
    if (from !== undefined) {
      const forwarded = from.headers['x-forwarded-for'];
      const address = this.clientAddress(
        from.socket.remoteAddress,
        Array.isArray(forwarded) ? forwarded.join(', ') : forwarded,
      );
      const result = await this.authenticate(header, address);
      return result.ok ? result.principal : undefined;
    }
    const found = await this.#resolve(header);
    return found !== undefined && 'principal' in found ? found.principal : undefined;
  }

  /**
   * Who `header` names, presented from `address`: refused credentials count against the
   * address, and past its limit it is answered 429 (credentials seen valid here still pass).
   */
  async authenticate(header: string | undefined, address: string): Promise<Authentication> {
    if (!header) return { ok: false, status: 401, message: NO_CREDENTIALS };
    const scheme = schemeOf(header);
    if (!this.#seenValid.has(header) && this.#cached(header) === undefined) {
      const wait = this.limiter.retryAfter(address);
      if (wait > 0) return this.#limited(this.limiter.refuse(address, scheme));
    }
    const found = await this.#resolve(header);
    if (found !== undefined && 'principal' in found) {
      if (this.#seenValid.size >= MAX_CACHED) this.#seenValid.clear();
      this.#seenValid.add(header);
      return { ok: true, principal: found.principal };
    }
    const refusal = found ?? refusalOf(header, scheme);
    const wait = this.limiter.fail(address, scheme, refusal.refused, refusal.subject);
    if (wait > 0) return this.#limited(wait);
    return { ok: false, status: 401, message: refusal.message };
  }

  /**
   * The principal `header` names when this gateway holds it as valid now (its cache, within the
   * credentials' own end), without a lookup; undefined otherwise (then `authenticate`).
   */
  cachedPrincipal(header: string | undefined): Principal | undefined {
    const lookup = header === undefined ? undefined : this.#cached(header)?.lookup;
    return lookup !== undefined && 'principal' in lookup ? lookup.principal : undefined;
  }

  #limited(retryAfter: number): Authentication {
    return {
      ok: false,
      status: 429,
      retryAfter,
      message: `Too many failed logins from this address: try again in ${retryAfter} s`,
    };
  }

  #cached(header: string) {
    const cached = this.#cache.get(header);
    return cached !== undefined && cached.until > this.#now() ? cached : undefined;
  }

  async #resolve(header: string): Promise<Lookup> {
    const cached = this.#cached(header);
    if (cached !== undefined) return cached.lookup;
    const basic = basicCredentials(header);
    const lookup = await this.#lookup(header, basic);
    if (this.#cache.size >= this.#maxCached) this.#makeRoom();
    // Spread over ±50 %: thousands of edges cached in the same second must not all expire in the
    // same second and queue their lookups at once (seen as a one-second stall under load).
    const found = lookup !== undefined && 'principal' in lookup;
    const now = this.#now();
    const ttl = (found ? FOUND_MS : NOT_FOUND_MS) * (0.5 + Math.random());
    // Never past the credentials' own end: an expired or rotated-out key stops then, cached or not.
    const until = Math.min(
      now + ttl,
      found ? (lookup.until ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY,
    );
    const edge = basic?.id;
    this.#cache.set(header, { lookup, until, edge });
    if (edge !== undefined) {
      const headers = this.#edgeHeaders.get(edge);
      if (headers === undefined) this.#edgeHeaders.set(edge, new Set([header]));
      else headers.add(header);
    }
    return lookup;
  }

  /** `basic`: the header's edge credentials, when it is a Basic header naming an edge id. */
  async #lookup(header: string, basic: BasicCredentials | undefined): Promise<Lookup> {
    const [scheme, value = ''] = header.split(' ', 2);
    if (scheme === 'Bearer') return await lookupKey(this.#db, value, this.#now);
    return basic === undefined ? undefined : this.#lookupEdge(basic.id, basic.secret);
  }

  /**
   * An edge: its current secret — whose first use after a rotation confirms it (`onNewSecret`) —
   * or, until the rotation's grace period ends, the secret before.
   */
  async #lookupEdge(id: string, secret: string): Promise<Lookup> {
    const [edge] = await this.#db.select().from(edges).where(eq(edges.id, id)).limit(1);
    if (edge === undefined) return undefined;
    if (secretMatches(secret, edge.secretHash)) {
      if (edge.pendingSecret !== null && this.#onNewSecret !== undefined) {
        // Not confirmed (the broker did not answer): the edge is still let in, and its next lookup retries.
        await this.#onNewSecret(id, secret).catch((err: unknown) =>
          this.#log.warn({ err, edgeId: id }, 'new edge secret not confirmed yet; the next lookup retries'),
        );
      }
      return { principal: { kind: 'edge', id } };
    }
    const until = edge.previousSecretUntil?.getTime() ?? 0;
    if (
      edge.previousSecretHash !== null &&
      until > this.#now() &&
      secretMatches(secret, edge.previousSecretHash)
    )
      return { principal: { kind: 'edge', id }, until };
    return undefined;
  }

  /** Called on the first use of an edge's new secret after a rotation (the credentials' confirmation). */
  onNewSecret(confirm: (edgeId: string, secret: string) => Promise<void>): void {
    this.#onNewSecret = confirm;
  }

  /**
   * Room for the next lookup: the expired ones dropped, or, when the cache is still full (more
   * credentials made up than the fleet has edges), every one. At 100,000 edges a cache cleared
   * whenever it was full was cleared again by nearly every new lookup.
   */
  #makeRoom(): void {
    const now = this.#now();
    for (const [header, cached] of this.#cache) if (cached.until <= now) this.#drop(header, cached.edge);
    if (this.#cache.size >= this.#maxCached) this.forget();
  }

  /** One lookup out of the cache, and out of its edge's list (which would otherwise only grow). */
  #drop(header: string, edge: string | undefined): void {
    this.#cache.delete(header);
    if (edge === undefined) return;
    const headers = this.#edgeHeaders.get(edge);
    headers?.delete(header);
    if (headers?.size === 0) this.#edgeHeaders.delete(edge);
  }

  /** Forgets the cached lookups of API keys (a key revoked or rotated), not the edges'. */
  forgetKeys(): void {
    for (const header of this.#cache.keys()) if (header.startsWith('Bearer ')) this.#cache.delete(header);
  }

  /**
   * Forgets cached lookups: edge `edgeId`'s (registered, deregistered, its secret rotated), or
   * every one.
   */
  forget(edgeId?: string): void {
    if (edgeId === undefined) {
      this.#cache.clear();
      this.#edgeHeaders.clear();
      return;
    }
    for (const header of this.#edgeHeaders.get(edgeId) ?? []) this.#cache.delete(header);
    this.#edgeHeaders.delete(edgeId);
  }
}

interface BasicCredentials {
  readonly id: string;
  readonly secret: string;
}

/** The edge id and secret of a Basic header; undefined when it names no edge id. */
function basicCredentials(header: string): BasicCredentials | undefined {
  const [scheme, value = ''] = header.split(' ', 2);
  if (scheme !== 'Basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  const id = decoded.slice(0, colon);
  // Not an edge id (a NUL or a broken character would reach the database as an error).
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(id)) return undefined;
  return { id, secret: decoded.slice(colon + 1) };
}

/** Lets through requests whose principal is an API key of at least `scope` (and, with `edges`, edges). */
export function requireAuth(
  auth: Authenticator,
  scope: ApiScope,
  options: { edges?: boolean } = {},
): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const address = auth.clientAddress(incoming?.socket.remoteAddress, c.req.header('x-forwarded-for'));
    const result = await auth.authenticate(c.req.header('authorization'), address);
    if (!result.ok && result.status === 429)
      return c.json(errorBody('RATE_LIMITED', result.message), 429, {
        'retry-after': String(result.retryAfter),
      });
    if (!result.ok) throw new ApiError('UNAUTHENTICATED', result.message);
    const { principal } = result;
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

export { createApiKey } from './api-keys.ts';
