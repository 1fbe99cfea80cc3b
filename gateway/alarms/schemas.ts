/**
 * The alarm history's and the clips' shapes in the OpenAPI document: the history's query (time
 * range, edge, building, kind, phase, cursor, limit), an alarm with its clip, a clip with its
 * signed links, and the signed links' query.
 */
import { z } from '@hono/zod-openapi';
import { CLIP_ID } from '../../edge/protocol/mod.ts';
import { CLIP_STATUSES } from '../db/schema.ts';
import { EdgeIdParam, safeString } from '../routes/schemas.ts';
import { timeParam, timeRange } from '../routes/time-range.ts';
import { decodeCursor } from './cursor.ts';

/** The widest time range one history query may span. */
export const MAX_RANGE_MS = 366 * 86_400_000;
/** Without `from`: this long before `to`. */
export const DEFAULT_RANGE_MS = 30 * 86_400_000;
export const MAX_LIMIT = 500;

const range = timeRange({ defaultMs: DEFAULT_RANGE_MS, maxMs: MAX_RANGE_MS, advice: 'ask page by page' });

/** The range a query asks for, ms: `to` default now, `from` default DEFAULT_RANGE_MS before it. */
export const rangeOf = range.rangeOf;

export const AlarmQuery = z
  .object({
    from: timeParam(
      'The earliest `recordedAt`, when the hub recorded it (inclusive); default 30 days before `to`',
    ),
    to: timeParam('The latest `recordedAt` (exclusive); default now. At most 366 days after `from`'),
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
  .superRefine(range.check);

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
