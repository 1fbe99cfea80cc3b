/**
 * The alarm history's and the clips' shapes in the OpenAPI document: the history's query (time
 * range, edge, building, kind, phase, cursor, limit), an alarm with its clip, a clip with its
 * signed links, and the signed links' query.
 */
import { z } from '@hono/zod-openapi';
import { CLIP_ID } from '../../edge/protocol/mod.ts';
import { CLIP_STATUSES } from '../db/schema.ts';
import { EdgeIdParam, safeString } from '../routes/schemas.ts';
import { decodeCursor } from './cursor.ts';

/** The widest time range one history query may span. */
export const MAX_RANGE_MS = 366 * 86_400_000;
/** Without `from`: this long before `to`. */
export const DEFAULT_RANGE_MS = 30 * 86_400_000;
export const MAX_LIMIT = 500;

/** ms since the epoch from an ISO 8601 time or a number of ms; undefined when it is neither. */
export function parseTime(s: string): number | undefined {
  if (/^\d{1,15}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}(:?\d{2})?)?)?$/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
}

const time = (description: string) =>
  z
    .string()
    .refine((s) => parseTime(s) !== undefined, 'an ISO 8601 time or milliseconds since the epoch')
    .optional()
    .openapi({ description, example: '2026-11-30T00:00:00Z' });

/** The range a query asks for, ms: `to` default now, `from` default DEFAULT_RANGE_MS before it. */
export function rangeOf(q: { from?: string | undefined; to?: string | undefined }, now = Date.now()) {
  const to = q.to === undefined ? now : (parseTime(q.to) ?? now);
  const from = q.from === undefined ? to - DEFAULT_RANGE_MS : (parseTime(q.from) ?? to);
  return { from, to };
}

export const AlarmQuery = z
  .object({
    from: time('The earliest `at` (inclusive); default 30 days before `to`'),
    to: time('The latest `at` (exclusive); default now. At most 366 days after `from`'),
    edge: EdgeIdParam.shape.id
      .optional()
      .openapi({ param: { name: 'edge', in: 'query' }, description: 'Only this edge’s alarms' }),
    building: safeString
      .min(1)
      .max(128)
      .optional()
      .openapi({ description: 'Only edges whose `building` label (else their group) is this' }),
    kind: safeString
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'Only this alarm kind (e.g. trapped, door_open_moving, ebike)' }),
    phase: z.enum(['start', 'end']).optional().openapi({ description: 'Only alarm starts, or ends' }),
    cursor: z
      .string()
      .refine((s) => decodeCursor(s) !== undefined, 'not a cursor this API handed out (use `next`)')
      .optional()
      .openapi({ description: 'The `next` of the previous page' }),
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
  })
  .superRefine((q, ctx) => {
    if ([q.from, q.to].some((t) => t !== undefined && parseTime(t) === undefined)) return;
    const { from, to } = rangeOf(q);
    if (from > to)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to', input: q.from });
    else if (to - from > MAX_RANGE_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: `the range from..to spans ${Math.ceil((to - from) / 86_400_000)} days, at most 366 (ask page by page)`,
        input: q.from,
      });
  });

export const ClipIdParam = z.object({
  id: z
    .string()
    .regex(CLIP_ID, 'a clip id: c and 31 of [0-9a-f]')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'c0123456789abcdef0123456789abcde' }),
});

export const LinkQuery = z.object({
  exp: z.string().optional().openapi({ description: 'When the link stops working (unix seconds)' }),
  sig: z.string().optional().openapi({ description: 'The link’s signature (HMAC-SHA256, base64url)' }),
});

const ms = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description} (ms since the epoch)` });

export const ClipSchema = z
  .object({
    id: z.string().openapi({ description: 'The clip id (also the Ezviz fileId)' }),
    edgeId: z.string(),
    alarm: z.string(),
    since: ms('When the alarm started'),
    end: ms('When the alarm ended').nullable().openapi({ description: 'Null: cut at the longest clip' }),
    status: z.enum(CLIP_STATUSES),
    code: z.string().nullable(),
    reason: z.string().nullable().openapi({ description: 'Why it failed, for people' }),
    attempts: z.number().int(),
    camera: z.object({ serial: z.string(), channel: z.number().int() }).nullable(),
    window: z.object({ start: ms('Video from'), end: ms('Video to') }),
    durationMs: z.number().int().nullable(),
    bytes: z.number().int().nullable(),
    sha256: z.string().nullable(),
    requestedAt: ms('Requested'),
    storedAt: ms('Stored').nullable(),
    expiresAt: ms('Deleted after').nullable(),
    links: z
      .object({
        video: z.string().openapi({ description: 'Signed link to the MP4 (Range for seeking)' }),
        poster: z.string().openapi({ description: 'Signed link to the poster (JPEG)' }),
        expiresAt: ms('The links stop working'),
      })
      .nullable()
      .openapi({ description: 'Only while the clip is stored' }),
  })
  .openapi('Clip');

export const AlarmSchema = z
  .object({
    eventId: z.string(),
    edgeId: z.string(),
    alarm: z.string().openapi({ description: 'The alarm kind' }),
    phase: z.enum(['start', 'end']),
    at: ms('When it started (start) or ended (end), by the edge'),
    since: ms('An end’s start').nullable(),
    recordedAt: ms('When the hub recorded it'),
    data: z.record(z.string(), z.unknown()),
    clip: ClipSchema.nullable().openapi({ description: 'The alarm’s clip, when one was requested' }),
  })
  .openapi('Alarm');
