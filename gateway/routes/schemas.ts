/**
 * Request and response shapes the routes share (and the OpenAPI document shows). Every string a
 * request carries — path ids, query cursors, body fields, JSON keys and values at any depth — goes
 * through `safeString` or `jsonValue`, so a string PostgreSQL refuses (a NUL, an unpaired
 * surrogate) is a 400 naming the field, never a database error.
 */
import { z } from '@hono/zod-openapi';

/** Why PostgreSQL would refuse `s` in a text or jsonb column, or undefined when it would not. */
export function unstorable(s: string): string | undefined {
  if (s.includes('\0')) return 'must not contain NUL (U+0000)';
  // A UTF-16 surrogate without its other half is not Unicode, and PostgreSQL's jsonb refuses it.
  if (!s.isWellFormed()) return 'must not contain an unpaired surrogate (it is not Unicode)';
  return undefined;
}

/** A string PostgreSQL can store: the base of every string schema of the API. */
export const safeString = z.string().superRefine((s, ctx) => {
  const why = unstorable(s);
  if (why !== undefined) ctx.addIssue({ code: 'custom', message: why, input: s });
});

/** How deep a JSON value in a request may nest (configuration documents, command arguments). */
export const MAX_JSON_DEPTH = 32;

/** Where in `value` the first string PostgreSQL would refuse is (or too deep a nesting), and why. */
function firstUnstorable(value: unknown): { path: (string | number)[]; message: string } | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value: v, path } = item;
    if (typeof v === 'string') {
      const why = unstorable(v);
      if (why !== undefined) return { path, message: why };
    } else if (typeof v === 'object' && v !== null) {
      if (path.length >= MAX_JSON_DEPTH)
        return { path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
      const entries: [string | number, unknown][] = Array.isArray(v)
        ? v.map((x, i) => [i, x])
        : Object.entries(v);
      for (const [key, child] of entries) {
        const why = typeof key === 'string' ? unstorable(key) : undefined;
        if (why !== undefined) return { path: [...path, key], message: `key ${why}` };
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}

/** Any JSON value whose keys and strings PostgreSQL can store, at most MAX_JSON_DEPTH levels deep. */
export const jsonValue = z.unknown().superRefine((value, ctx) => {
  const bad = firstUnstorable(value);
  if (bad !== undefined) ctx.addIssue({ code: 'custom', message: bad.message, path: bad.path, input: value });
});

/**
 * A JSON object whose keys PostgreSQL can store, with values of `value` (the key's own reason:
 * zod reports a bad record key only as "Invalid key in record").
 */
export const safeRecord = <T extends z.ZodType>(value: T) =>
  z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      const why = unstorable(key);
      if (why !== undefined) ctx.addIssue({ code: 'custom', message: `key ${why}`, path: [key], input: key });
    }
  });

/** A JSON object of such values (configuration documents, command arguments). */
export const jsonObject = safeRecord(jsonValue);

/** The ids of edges, groups and brokers: what the routes' paths and the fleet use. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_REQUEST' }),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z
        .string()
        .optional()
        .openapi({ description: 'On a 500: the id the gateway’s log line of the failure carries' }),
    }),
  })
  .openapi('Error');

export const EdgeIdParam = z.object({
  id: safeString
    .regex(ID_PATTERN, 'an edge id: 1–128 characters of [A-Za-z0-9_.:-]')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'E-000123' }),
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A route's JSON body: required (a request without one is a 400, not a handler run with `{}`). */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** The error responses every authenticated route may give. */
export const AUTH_ERRORS = {
  400: json(ErrorSchema, 'The request is not valid'),
  401: json(ErrorSchema, 'No valid credentials'),
  403: json(ErrorSchema, 'The credentials lack the scope'),
  429: {
    ...json(ErrorSchema, 'Too many failed logins from this address'),
    headers: z.object({
      'retry-after': z.string().openapi({ description: 'Seconds until the address may try again' }),
    }),
  },
  500: json(ErrorSchema, 'The gateway failed; the body has the request id its log carries'),
} as const;

/** …and those of a route that takes a JSON body. */
export const BODY_ERRORS = {
  ...AUTH_ERRORS,
  413: json(ErrorSchema, 'The body is larger than 1 MiB'),
  415: json(ErrorSchema, 'The body is not application/json'),
} as const;
