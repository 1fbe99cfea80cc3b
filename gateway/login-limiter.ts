/**
 * Failed logins per source address, limited in memory (each gateway its own): a token bucket per
 * address — `burst` failures at once, then `perSecond` — so a client that keeps presenting wrong
 * credentials (a brute force, an edge with a stale secret in a loop) is answered 429 with a
 * Retry-After instead of costing a database lookup and a log line per attempt. Memory is
 * bounded: at most `maxAddresses` buckets (full ones are dropped first, then the least recently
 * failed), so many addresses cost no more than that. IPv6 addresses count per /64 (one host
 * usually has the whole prefix). Warnings name the address and the reason, at most once a minute
 * per address and `logBurst` lines per 10 s in all; the secret presented is never logged.
 * Also where the client's address comes from: the socket's peer, or — only when that peer is a
 * proxy the gateway trusts — the last X-Forwarded-For entry that is not itself a trusted proxy,
 * so an untrusted client cannot choose its own bucket by sending the header.
 */
import { BlockList, isIP } from 'node:net';
import type { Logger } from '../actors/mod.ts';

export interface LoginLimitOptions {
  /** Failures an address may have at once (default 30). */
  readonly burst?: number;
  /** Failures per second an address regains (default 0.5: 30 a minute). */
  readonly perSecond?: number;
  /** Addresses tracked at most (default 20,000). */
  readonly maxAddresses?: number;
  /** Warnings logged per 10 s in all (default 20); the rest are counted in the next one. */
  readonly logBurst?: number;
}

/** Why credentials were refused (a fixed set: a metric label). */
export type FailureReason =
  | 'malformed'
  | 'unknown-key'
  | 'key-expired'
  | 'key-revoked'
  | 'key-rotated'
  | 'edge-credentials';

export type Scheme = 'bearer' | 'basic' | 'other';

interface Bucket {
  tokens: number;
  at: number;
  /** When a warning of each kind about this address was last logged, and what happened since. */
  loggedFailed: number;
  loggedLimited: number;
  failures: number;
  limited: number;
}

/** An address's failed logins at once, and regained per second, by default. */
export const DEFAULT_LOGIN_BURST = 30;
export const DEFAULT_LOGIN_PER_SECOND = 0.5;

const LOG_EVERY_MS = 60_000;
const LOG_WINDOW_MS = 10_000;

export class LoginLimiter {
  readonly #burst: number;
  readonly #perMs: number;
  readonly #max: number;
  readonly #logBurst: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #window = { start: 0, lines: 0, suppressed: 0 };
  /** Refused credentials by scheme and reason, and requests answered 429 by scheme (for /metrics). */
  readonly failures = new Map<string, number>();
  readonly limited = new Map<Scheme, number>();

  constructor(options: LoginLimitOptions & { logger: Logger; now?: () => number }) {
    this.#burst = options.burst ?? DEFAULT_LOGIN_BURST;
    this.#perMs = (options.perSecond ?? DEFAULT_LOGIN_PER_SECOND) / 1000;
    this.#max = options.maxAddresses ?? 20_000;
    this.#logBurst = options.logBurst ?? 20;
    if (!(this.#burst >= 1 && this.#perMs > 0 && this.#max >= 1))
      throw new RangeError('A login limit needs burst ≥ 1, perSecond > 0 and maxAddresses ≥ 1');
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** Addresses tracked now (bounded by maxAddresses). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Addresses over their limit now. */
  limitedAddresses(): number {
    let n = 0;
    for (const b of this.#buckets.values()) if (this.#refill(b) < 1) n++;
    return n;
  }

  /** Seconds until `address` may fail again, or 0 when it may now. */
  retryAfter(address: string): number {
    const b = this.#buckets.get(bucketOf(address));
    if (b === undefined) return 0;
    const tokens = this.#refill(b);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000));
  }

  /**
   * Records refused credentials from `address`; returns 0 when the failure was within the limit
   * (answer 401), or the seconds to wait when it was not (answer 429).
   */
  fail(address: string, scheme: Scheme, reason: FailureReason, subject?: string): number {
    const key = bucketOf(address);
    const b = this.#bucket(key);
    if (this.#refill(b) >= 1) {
      b.tokens -= 1;
      b.failures++;
      this.#count(this.failures, `${scheme}|${reason}`);
      this.#warn(key, b, { scheme, reason, ...(subject === undefined ? {} : { subject }) });
      return 0;
    }
    return this.refuse(address, scheme);
  }

  /** Records a request refused because `address` is over its limit; returns the seconds to wait. */
  refuse(address: string, scheme: Scheme): number {
    const key = bucketOf(address);
    const b = this.#bucket(key);
    b.limited++;
    this.#count(this.limited, scheme);
    this.#warn(key, b, { scheme, reason: 'rate-limited' });
    return this.retryAfter(address);
  }

  #count<K>(map: Map<K, number>, key: K): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  #refill(b: Bucket): number {
    const now = this.#now();
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    return b.tokens;
  }

  /** The bucket of `key`, made most recent; a new one evicts first full buckets, then the oldest. */
  #bucket(key: string): Bucket {
    let b = this.#buckets.get(key);
    if (b !== undefined) {
      this.#buckets.delete(key);
    } else {
      if (this.#buckets.size >= this.#max) this.#evict();
      b = {
        tokens: this.#burst,
        at: this.#now(),
        loggedFailed: 0,
        loggedLimited: 0,
        failures: 0,
        limited: 0,
      };
    }
    this.#buckets.set(key, b);
    return b;
  }

  #evict(): void {
    for (const [key, b] of this.#buckets) if (this.#refill(b) >= this.#burst) this.#buckets.delete(key);
    // Still full: drop the least recently failed tenth (Map order is recency here).
    let drop = this.#buckets.size >= this.#max ? Math.ceil(this.#max / 10) : 0;
    for (const key of this.#buckets.keys()) {
      if (drop-- <= 0) break;
      this.#buckets.delete(key);
    }
  }

  /**
   * A warning about `address`: of each kind (failed, limited) once a minute per address, so the
   * moment an address is limited is logged; logBurst lines per 10 s in all.
   */
  #warn(address: string, b: Bucket, fields: Record<string, string>): void {
    const now = this.#now();
    const limited = fields.reason === 'rate-limited';
    if (now - (limited ? b.loggedLimited : b.loggedFailed) < LOG_EVERY_MS) return;
    if (now - this.#window.start >= LOG_WINDOW_MS) this.#window = { start: now, lines: 0, suppressed: 0 };
    if (this.#window.lines >= this.#logBurst) {
      this.#window.suppressed++;
      return;
    }
    this.#window.lines++;
    this.#log.warn(
      {
        address,
        ...fields,
        failures: b.failures,
        limited: b.limited,
        ...(this.#window.suppressed > 0 ? { suppressedWarnings: this.#window.suppressed } : {}),
      },
      limited ? 'authentication refused: too many failed logins from this address' : 'authentication failed',
    );
    if (limited) b.loggedLimited = now;
    else b.loggedFailed = now;
    b.failures = 0;
    b.limited = 0;
  }
}

/** The bucket an address counts in: IPv4 as it is (also IPv4-mapped IPv6), IPv6 by its /64. */
export function bucketOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::', 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** Which peers' X-Forwarded-For the gateway believes: addresses or CIDR ranges. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #any: boolean;

  constructor(entries: readonly string[] = []) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/', 2);
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (isIP(address) === 0) throw new RangeError(`Not an address or CIDR range: ${entry}`);
      if (prefix === undefined) this.#list.addAddress(address, family);
      else this.#list.addSubnet(address, Number(prefix), family);
    }
    this.#any = entries.length > 0;
  }

  #trusts(address: string): boolean {
    if (!this.#any) return false;
    const plain = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] ?? address;
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
   * X-Forwarded-For entry (from the right) that is not a trusted proxy — what the outermost
   * trusted proxy saw. Entries to its left are the client's own word and are never used.
   */
  clientAddress(peer: string | undefined, forwardedFor: string | undefined): string {
    const address = peer ?? 'in-process';
    if (forwardedFor === undefined || !this.#trusts(address)) return address;
    const hops = forwardedFor.split(',').map((h) => h.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? '';
      if (isIP(hop) === 0) return address; // not an address: believe none of it
      if (!this.#trusts(hop)) return hop;
    }
    return address;
  }
}
