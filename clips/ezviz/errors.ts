/**
 * `EzvizError`: what went wrong talking to the Ezviz Open Platform, with Ezviz's own code (or
 * `MALFORMED` / `HTTP_<status>` / `NETWORK`), a kind the clip worker acts on, and whether trying
 * again later can help. docs/ezviz-open-api.md lists the codes and where they come from.
 */

export type EzvizErrorKind =
  | 'token'
  | 'rate'
  | 'offline'
  | 'not_ready'
  | 'no_device'
  | 'duplicate'
  | 'malformed'
  | 'other';

export class EzvizError extends Error {
  /** Ezviz's code ('10002', '20007', …) or 'MALFORMED', 'HTTP_<status>', 'NETWORK'. */
  readonly code: string;
  readonly kind: EzvizErrorKind;
  readonly retryable: boolean;
  /** The endpoint that answered (token, save, fileInfo, task, taskFiles, download). */
  readonly endpoint: string;
  constructor(
    code: string,
    message: string,
    options: { kind: EzvizErrorKind; retryable: boolean; endpoint: string; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'EzvizError';
    this.code = code;
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.endpoint = options.endpoint;
  }
}

/** Access token expired or invalid: the client refreshes it once and asks again. */
export const TOKEN_EXPIRED = '10002';
/** The account's call count (10007) or call frequency (10029) is exceeded. */
export const RATE_CODES: ReadonlySet<string> = new Set(['10007', '10029']);
/**
 * A cloud-recording save with a fileId the project already has. ASSUMED (docs/ezviz-open-api.md):
 * the published table of the save endpoint lists 400/403/404/500 only; the stand-in answers 409.
 */
export const DUPLICATE_FILE = '409';

const KINDS: Readonly<Record<string, { kind: EzvizErrorKind; retryable: boolean }>> = {
  [TOKEN_EXPIRED]: { kind: 'token', retryable: true },
  '10007': { kind: 'rate', retryable: true },
  '10029': { kind: 'rate', retryable: true },
  // The device: offline, network trouble, response timeout (retry until the clip's deadline).
  '20006': { kind: 'offline', retryable: true },
  '20007': { kind: 'offline', retryable: true },
  '20008': { kind: 'offline', retryable: true },
  // No such device for this account: never retried.
  '20002': { kind: 'no_device', retryable: false },
  '20014': { kind: 'no_device', retryable: false },
  '20018': { kind: 'no_device', retryable: false },
  '20032': { kind: 'no_device', retryable: false },
  [DUPLICATE_FILE]: { kind: 'duplicate', retryable: false },
  // Ezviz's own trouble ("数据异常", 服务内部问题): worth another try later.
  '49999': { kind: 'other', retryable: true },
  '500': { kind: 'other', retryable: true },
  MALFORMED: { kind: 'malformed', retryable: false },
  NETWORK: { kind: 'other', retryable: true },
};

/** The kind and retry semantics of an Ezviz code (anything unknown: 'other', not retryable). */
export function classifyEzvizCode(code: string): { kind: EzvizErrorKind; retryable: boolean } {
  const known = KINDS[code];
  if (known) return known;
  if (code === 'HTTP_429') return { kind: 'rate', retryable: true };
  if (/^HTTP_5\d\d$/.test(code)) return { kind: 'other', retryable: true };
  return { kind: 'other', retryable: false };
}

/** An EzvizError for `code` answered by `endpoint`, classified. */
export function ezvizError(endpoint: string, code: string, message: string, cause?: unknown): EzvizError {
  const { kind, retryable } = classifyEzvizCode(code);
  return new EzvizError(code, `Ezviz ${endpoint}: ${code} ${message}`, { kind, retryable, endpoint, cause });
}
