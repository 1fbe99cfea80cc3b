/**
 * The faults a test or the demo can inject into the Ezviz stand-in, at start or while it runs:
 * tokens expiring now, rate-limit answers (the next N calls or until a time), offline and
 * unknown cameras, files that appear late, cut downloads, download URLs that expire soon,
 * malformed answers and files that are not a video.
 */

export type RateLimitCode = '10007' | '10029';

/** Initial fault settings (startEzvizStandIn's `faults`). */
export interface EzvizFaultSettings {
  /** Serials that answer 20007 (device offline). */
  readonly offline?: readonly string[];
  /** Serials Ezviz does not know (20002), though they look like serials. */
  readonly unknownSerials?: readonly string[];
  readonly lateFilesMs?: number;
  readonly urlTtlMs?: number;
  readonly notVideo?: boolean;
}

export interface EzvizFaults {
  /** Every token issued so far answers 10002 from now on (as if expired or revoked). */
  expireTokens(): void;
  /** The next `n` API calls (token calls too) answer `code` (default 10029). */
  rateLimitNext(n: number, code?: RateLimitCode): void;
  /** Every API call answers `code` (default 10029) until `untilMs` (ms since the epoch). */
  rateLimitUntil(untilMs: number, code?: RateLimitCode): void;
  /** Saving a recording of `serial` answers 20007 until `untilMs` (default: until told `online`). */
  offline(serial: string, untilMs?: number): void;
  online(serial: string): void;
  /** Serials Ezviz does not know: saving answers 20002. */
  readonly unknownSerials: Set<string>;
  /** Files of tasks saved from now on appear this long after their task is done (ms). */
  lateFilesMs: number;
  /** Download URLs handed out from now on expire after this long (ms); undefined: as asked. */
  urlTtlMs: number | undefined;
  /** The next `n` downloads are cut off halfway through the body (the socket closed). */
  cutNextDownloads(n: number): void;
  /** The next `n` API answers are malformed (truncated JSON). */
  malformedNext(n: number): void;
  /** Tasks saved from now on serve bytes that are not a video. */
  notVideo: boolean;
}

/** The fault state the stand-in consults on each call. */
export interface FaultState extends EzvizFaults {
  /** The rate-limit code this call must answer, if any (takes one of the next N). */
  takeRateLimit(now: number): RateLimitCode | undefined;
  /** Whether this answer must be malformed (takes one of the next N). */
  takeMalformed(): boolean;
  /** Whether this download must be cut (takes one of the next N). */
  takeCut(): boolean;
  isOffline(serial: string, now: number): boolean;
  /** Set by expireTokens(): tokens issued before this ms are refused. */
  tokensValidFrom: number;
}

function count(n: number, what: string): number {
  if (!(Number.isInteger(n) && n >= 0))
    throw new RangeError(`Cannot inject ${what}: n must be an integer ≥ 0, got ${n}`);
  return n;
}

export function createFaults(settings: EzvizFaultSettings = {}): FaultState {
  let rateNext = 0;
  let rateNextCode: RateLimitCode = '10029';
  let rateUntil = 0;
  let rateUntilCode: RateLimitCode = '10029';
  let malformed = 0;
  let cuts = 0;
  const offline = new Map<string, number>(
    (settings.offline ?? []).map((s) => [s, Number.POSITIVE_INFINITY] as const),
  );
  const state: FaultState = {
    tokensValidFrom: 0,
    unknownSerials: new Set(settings.unknownSerials ?? []),
    lateFilesMs: settings.lateFilesMs ?? 0,
    urlTtlMs: settings.urlTtlMs,
    notVideo: settings.notVideo ?? false,
    expireTokens() {
      state.tokensValidFrom = Date.now() + 1;
    },
    rateLimitNext(n, code = '10029') {
      rateNext = count(n, 'rate limits');
      rateNextCode = code;
    },
    rateLimitUntil(untilMs, code = '10029') {
      rateUntil = untilMs;
      rateUntilCode = code;
    },
    offline(serial, untilMs = Number.POSITIVE_INFINITY) {
      offline.set(serial, untilMs);
    },
    online(serial) {
      offline.delete(serial);
    },
    cutNextDownloads(n) {
      cuts = count(n, 'cut downloads');
    },
    malformedNext(n) {
      malformed = count(n, 'malformed answers');
    },
    takeRateLimit(now) {
      if (rateNext > 0) {
        rateNext--;
        return rateNextCode;
      }
      return now < rateUntil ? rateUntilCode : undefined;
    },
    takeMalformed() {
      if (malformed === 0) return false;
      malformed--;
      return true;
    },
    takeCut() {
      if (cuts === 0) return false;
      cuts--;
      return true;
    },
    isOffline(serial, now) {
      const until = offline.get(serial);
      return until !== undefined && now < until;
    },
  };
  return state;
}
