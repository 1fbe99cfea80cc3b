/**
 * Signed, time-limited links to an alarm clip's video and poster:
 * `/v1/clips/{id}/video?exp=<unix s>&sig=<HMAC>` (and `/poster`), the signature HMAC-SHA256 over
 * (id, kind, exp) under a key every gateway shares, so a link signed by one gateway opens on any
 * other, needs no API key (a `<video>` element or the web backend's users cannot send one) and
 * stops working at `exp`. Checked in constant time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CLIP_MEDIA = ['video', 'poster'] as const;
export type ClipMedia = (typeof CLIP_MEDIA)[number];

/** The shortest key the links are signed with, bytes. */
export const MIN_CLIP_KEY_BYTES = 32;

export interface ClipLinkOptions {
  /** The key links are signed with (≥ 32 bytes, the same on every gateway); none: a random one, this process's only. */
  readonly secretKey?: Buffer;
  /** The gateway's address as clients reach it (`https://devicehub.example`); none: the API's links are paths. */
  readonly publicUrl?: string;
  /** Without publicUrl: the address events' links (which must be absolute) are made with (the listen address). */
  readonly eventBaseUrl?: string;
  /** How long a link the API hands out works, seconds (default 3600). */
  readonly ttlSeconds?: number;
  /** How long a link in a `clip.ready` event to the web backend works, seconds (default 86400). */
  readonly webBackendTtlSeconds?: number;
}

export interface ClipLinks {
  /** Both links of a clip and when they stop working (ms since the epoch). */
  readonly video: string;
  readonly poster: string;
  readonly expiresAt: number;
}

/** Why a link is refused (403). */
export type LinkRefusal = 'MISSING' | 'EXPIRED' | 'BAD_SIGNATURE';

export class ClipLinkSigner {
  readonly #key: Buffer;
  readonly #base: string;
  readonly #eventBase: string;
  readonly ttlSeconds: number;
  readonly webBackendTtlSeconds: number;
  /** Whether the key is this process's own (links do not open on other gateways). */
  readonly ephemeral: boolean;

  constructor(options: ClipLinkOptions = {}) {
    const { secretKey, publicUrl, ttlSeconds = 3600, webBackendTtlSeconds = 86_400 } = options;
    const eventBase = publicUrl ?? options.eventBaseUrl;
    for (const [name, value] of [
      ['ttlSeconds', ttlSeconds],
      ['webBackendTtlSeconds', webBackendTtlSeconds],
    ] as const)
      if (!(Number.isInteger(value) && value >= 1 && value <= 30 * 86_400))
        throw new RangeError(`Cannot sign clip links: ${name} must be 1..2592000, got ${value}`);
    if (secretKey !== undefined && secretKey.length < MIN_CLIP_KEY_BYTES)
      throw new RangeError(
        `Cannot sign clip links: the key needs at least ${MIN_CLIP_KEY_BYTES} bytes, got ${secretKey.length}`,
      );
    for (const base of [publicUrl, eventBase])
      if (base !== undefined && !/^https?:$/.test(new URL(base).protocol))
        throw new RangeError(`Cannot sign clip links: their base must be http(s), got ${base}`);
    this.#key = secretKey ?? randomBytes(MIN_CLIP_KEY_BYTES);
    this.ephemeral = secretKey === undefined;
    this.#base = publicUrl === undefined ? '' : publicUrl.replace(/\/+$/, '');
    this.#eventBase = eventBase === undefined ? '' : eventBase.replace(/\/+$/, '');
    this.ttlSeconds = ttlSeconds;
    this.webBackendTtlSeconds = webBackendTtlSeconds;
  }

  /** The signature of (id, media, exp): base64url of HMAC-SHA256. */
  sign(id: string, media: ClipMedia, exp: number): string {
    return createHmac('sha256', this.#key).update(`${id}\n${media}\n${exp}`).digest('base64url');
  }

  /** One signed link: a path, or a full URL on publicUrl (for an event: on publicUrl or eventBaseUrl). */
  link(id: string, media: ClipMedia, exp: number, o: { forEvent?: boolean } = {}): string {
    const base = o.forEvent === true ? this.#eventBase : this.#base;
    return `${base}/v1/clips/${id}/${media}?exp=${exp}&sig=${this.sign(id, media, exp)}`;
  }

  /**
   * A clip's links, working for `ttlSeconds` from `now` (ms): by default the API's lifetime, or
   * with `forEvent` the web backend's, on the events' base address.
   */
  links(id: string, o: { ttlSeconds?: number; now?: number; forEvent?: boolean } = {}): ClipLinks {
    const ttl = o.ttlSeconds ?? (o.forEvent === true ? this.webBackendTtlSeconds : this.ttlSeconds);
    const exp = Math.floor((o.now ?? Date.now()) / 1000) + ttl;
    const at = { forEvent: o.forEvent === true };
    return {
      video: this.link(id, 'video', exp, at),
      poster: this.link(id, 'poster', exp, at),
      expiresAt: exp * 1000,
    };
  }

  /** Why a link's `exp` and `sig` do not open `media` of clip `id` now, or undefined when they do. */
  check(
    id: string,
    media: ClipMedia,
    q: { exp?: string | undefined; sig?: string | undefined },
    now = Date.now(),
  ): LinkRefusal | undefined {
    if (q.exp === undefined || q.sig === undefined) return 'MISSING';
    if (!/^\d{1,12}$/.test(q.exp) || !/^[A-Za-z0-9_-]{43}$/.test(q.sig)) return 'BAD_SIGNATURE';
    const expected = Buffer.from(this.sign(id, media, Number(q.exp)), 'base64url');
    const given = Buffer.from(q.sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'BAD_SIGNATURE';
    return Number(q.exp) * 1000 <= now ? 'EXPIRED' : undefined;
  }
}
