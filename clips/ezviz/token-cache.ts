/**
 * The cluster's one Ezviz access token, cached in Redis (`Keyspace.ezviz.token`, JSON with its
 * `expireTime`) for every clip worker. A token is fetched by one process at a time (the named
 * lease `ezviz-token`): once before it expires (within `refreshBeforeMs` of its expiry), and at
 * once when Ezviz answers 10002 — but only by a caller whose token is still the cached one, so a
 * burst of 10002 answers to many callers makes one refresh, not one each.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../actors/mod.ts';
import { type Bus, EZVIZ_TOKEN_LEASE } from '../../bus/mod.ts';

export interface CachedToken {
  readonly token: string;
  /** ms since the epoch (Ezviz's `expireTime`). */
  readonly expireTime: number;
}

export interface TokenCache {
  /** A token valid now: the cached one, or a fresh one when it is near expiry or missing. */
  get(signal?: AbortSignal): Promise<string>;
  /** Ezviz refused `stale` (10002): a new token, fetched only if `stale` is still the cached one. */
  refresh(stale: string, signal?: AbortSignal): Promise<string>;
}

export interface TokenCacheOptions {
  readonly bus: Bus;
  /** Asks Ezviz for a new token (through the budget). */
  readonly fetchToken: (signal?: AbortSignal) => Promise<CachedToken>;
  readonly logger: Logger;
  /** Refresh this long before the token expires. Default one day (tokens live 7 days). */
  readonly refreshBeforeMs?: number;
  /** How long a refresh may hold the lease. Default 15 s. */
  readonly leaseMs?: number;
  /** Counted when a token is fetched. */
  readonly onFetched?: () => void;
}

function parse(raw: string | null): CachedToken | undefined {
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<CachedToken>;
    if (typeof value.token === 'string' && typeof value.expireTime === 'number') {
      return { token: value.token, expireTime: value.expireTime };
    }
  } catch {
    // A value we cannot read is treated as no token: the next refresh overwrites it.
  }
  return undefined;
}

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const { bus, fetchToken, logger, refreshBeforeMs = 86_400_000, leaseMs = 15_000, onFetched } = options;
  const key = bus.keyspace.ezviz.token;
  const me = `${process.pid}-${randomBytes(4).toString('hex')}`;
  let attempts = 0;
  /** The renewal under way in this process: concurrent callers share it instead of queueing at the lease. */
  let inFlight: Promise<string> | undefined;

  const read = async (): Promise<CachedToken | undefined> => parse(await bus.redis.get(key));
  const fresh = (t: CachedToken | undefined): t is CachedToken =>
    t !== undefined && t.expireTime - Date.now() > refreshBeforeMs;
  const usable = (t: CachedToken | undefined): t is CachedToken =>
    t !== undefined && t.expireTime - Date.now() > 5_000;

  /**
   * Under the lease: `needed(current)` says whether a fetch is still needed (another process may
   * have done it meanwhile). Without the lease: wait until the holder is done (its lease expires
   * if it dies), or use a token that is still usable.
   */
  async function renew(
    needed: (t: CachedToken | undefined) => boolean,
    whileWaiting: 'use-usable' | 'wait',
    signal?: AbortSignal,
  ): Promise<string> {
    for (;;) {
      signal?.throwIfAborted();
      const current = await read();
      if (!needed(current)) return current!.token;
      // A holder per attempt: the lease must not count two callers of one process as one.
      const holder = `${me}-${++attempts}`;
      if (await bus.holdLease({ name: EZVIZ_TOKEN_LEASE, holder, ttlMs: leaseMs })) {
        // The fetch may wait long for the budget (a 10007 cooldown lasts up to an hour): keep the
        // lease meanwhile, so that nobody else fetches too; if this process dies, it expires.
        const keep = setInterval(() => {
          bus.holdLease({ name: EZVIZ_TOKEN_LEASE, holder, ttlMs: leaseMs }).catch(() => undefined);
        }, leaseMs / 3);
        try {
          const again = await read();
          if (!needed(again)) return again!.token;
          const next = await fetchToken(signal);
          const ttl = next.expireTime - Date.now();
          if (ttl > 1000) await bus.redis.set(key, JSON.stringify(next), 'PX', ttl);
          onFetched?.();
          logger.info({ component: 'ezviz', expireTime: next.expireTime }, 'ezviz access token fetched');
          return next.token;
        } finally {
          clearInterval(keep);
          await bus.dropLease(EZVIZ_TOKEN_LEASE, holder).catch(() => undefined);
        }
      }
      // Someone else is fetching: a token near (not past) expiry still works meanwhile.
      if (whileWaiting === 'use-usable' && usable(current)) return current.token;
      await sleep(25 + Math.random() * 50, undefined, { signal });
    }
  }

  /**
   * Joins the renewal under way in this process or starts one. The renewal itself takes no
   * caller's signal (one caller giving up must not fail the others); each caller stops waiting
   * on its own signal.
   */
  async function shared(start: () => Promise<string>, signal?: AbortSignal): Promise<string> {
    if (inFlight === undefined) {
      inFlight = start().finally(() => {
        inFlight = undefined;
      });
    }
    if (!signal) return inFlight;
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
    });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([inFlight, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    async get(signal) {
      const current = await read();
      if (fresh(current)) return current.token;
      return shared(() => renew((t) => !fresh(t), 'use-usable'), signal);
    },
    async refresh(stale, signal) {
      // A renewal under way here may be for an older token: then this one still needs its own.
      for (;;) {
        const token = await shared(() => renew((t) => t === undefined || t.token === stale, 'wait'), signal);
        if (token !== stale) return token;
      }
    },
  };
}
