/**
 * What the API answers when it cannot do what was asked: `{"error": {code, message, details}}`
 * with the HTTP status that goes with the code. `toApiError` is the one place where other errors
 * a request can raise become typed API errors (Hono's own 400 and 415, a body that is not JSON);
 * anything it does not know is the gateway's fault (500, with a request id the log carries too).
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export const API_ERRORS = {
  INVALID_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly details: unknown;
  constructor(code: ApiErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }

  get status(): ContentfulStatusCode {
    return API_ERRORS[this.code];
  }
}

export function errorBody(code: ApiErrorCode, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

const CODE_OF_STATUS = new Map<number, ApiErrorCode>(
  Object.entries(API_ERRORS).map(([code, status]) => [status, code as ApiErrorCode]),
);

/**
 * The typed API error `error` stands for when it is the client's fault, or undefined when it is
 * the gateway's (a bug, the database or Redis gone): those answer 500. Client JSON is parsed by
 * Hono's validator only (a SyntaxError here would be the gateway's own, e.g. a corrupt record).
 */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own refusals: a body that is not JSON (400), a content type the route does not take (415).
    const code = CODE_OF_STATUS.get(error.status) ?? 'INVALID_REQUEST';
    const message =
      error.status === 415
        ? 'Send the body as application/json'
        : error.message || `The request is not valid (HTTP ${error.status})`;
    return new ApiError(code, message);
  }
  return undefined;
}
