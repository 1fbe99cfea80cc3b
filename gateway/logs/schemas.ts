/**
 * The logs' shapes in the OpenAPI document: the query of `GET /v1/logs` (edge, service, level,
 * time range in ISO or ms, plain-text words, limit, cursor) and of the live tail (the same filters,
 * no range), a log line, and the store's query built from them. A bad value is a 400 naming its
 * field: a range over 31 days, `from` after `to`, an unknown level, a cursor not handed out.
 */
import { z } from '@hono/zod-openapi';
import { LOG_LEVELS, type LogQuery, MAX_QUERY_LIMIT, type TailFilter } from '../../logs/mod.ts';
import { EdgeIdParam, safeString } from '../routes/schemas.ts';
import { timeParam, timeRange } from '../routes/time-range.ts';

/** The widest time range one query may span. */
export const MAX_RANGE_MS = 31 * 86_400_000;
/** Without `from`: this long before `to`. */
export const DEFAULT_RANGE_MS = 3600_000;
export const DEFAULT_LIMIT = 100;
/** The longest text filter, characters. */
export const MAX_TEXT = 256;

/**
 * A cursor as the store hands them out: opaque, but always URL-safe and short. Anything else is
 * refused here, naming `cursor`; one of the right shape the store cannot read is refused by it.
 */
export const CURSOR = /^[A-Za-z0-9_-]{1,1024}$/;

/** The filters the page and the tail share. */
const filters = {
  edge: EdgeIdParam.shape.id
    .optional()
    .openapi({ param: { name: 'edge', in: 'query' }, description: 'Only this edge’s lines' }),
  service: safeString
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a service name: 1–64 characters of [A-Za-z0-9_.:-]')
    .optional()
    .openapi({
      description: 'Only this service’s lines (node, link, gateway, agent, elenet, …)',
      example: 'agent',
    }),
  level: z.enum(LOG_LEVELS).optional().openapi({ description: 'Only lines of this level or worse' }),
  q: safeString.min(1).max(MAX_TEXT).optional().openapi({
    description: 'Plain words (not a query language): each must occur in the line',
    example: 'timeout',
  }),
};

/** The range a query asks for (`to` default now, `from` default an hour before it) and its check. */
const range = timeRange({ defaultMs: DEFAULT_RANGE_MS, maxMs: MAX_RANGE_MS, advice: 'ask day by day' });

export const LogsQuery = z
  .object({
    ...filters,
    from: timeParam('The earliest line (inclusive); default an hour before `to`'),
    to: timeParam('The latest line (inclusive); default now. At most 31 days after `from`'),
    limit: z.coerce.number().int().min(1).max(MAX_QUERY_LIMIT).default(DEFAULT_LIMIT),
    cursor: z
      .string()
      .regex(CURSOR, 'not a cursor this API handed out (use `next`)')
      .optional()
      .openapi({ description: 'The `next` of the previous page (the same filters)' }),
  })
  .superRefine(range.check);

export const TailQuery = z.object(filters);

/** The store's filter of the tail's (or the page's) query parameters. */
export function tailFilter(q: z.infer<typeof TailQuery>): TailFilter {
  return {
    ...(q.edge === undefined ? {} : { edgeId: q.edge }),
    ...(q.service === undefined ? {} : { service: q.service }),
    ...(q.level === undefined ? {} : { level: q.level }),
    ...(q.q === undefined ? {} : { text: q.q }),
  };
}

/** The store's query of `GET /v1/logs`'s parameters. */
export function storeQuery(q: z.infer<typeof LogsQuery>, now = Date.now()): LogQuery {
  return {
    ...tailFilter(q),
    ...range.rangeOf(q, now),
    limit: q.limit,
    ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
  };
}

export const LogLineSchema = z
  .object({
    time: z.number().int().openapi({ description: 'ms since the epoch' }),
    level: z.enum(LOG_LEVELS),
    msg: z
      .string()
      .openapi({ description: 'One line: control characters and bad UTF-8 escaped, long ones cut' }),
    service: z.string(),
    host: z.string().optional(),
    edgeId: z.string().optional(),
    nodeId: z.string().optional(),
    tunnelId: z.string().optional(),
    fields: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .openapi({ description: 'The line’s other flat fields' }),
  })
  .openapi('LogLine');

export const LogPageSchema = z.object({
  from: z.number().int().openapi({ description: 'The range read (ms since the epoch), inclusive' }),
  to: z.number().int(),
  records: z.array(LogLineSchema).openapi({ description: 'Newest first' }),
  next: z.string().nullable().openapi({ description: 'Cursor of the next (older) page; null: the last' }),
});
