/**
 * The alarm history and its clips: `GET /v1/alarms` (operator; a time range, edge, building,
 * kind, phase, a cursor; each alarm with its clip), `GET /v1/clips/{id}` (operator: the row and
 * signed links), and the signed links themselves (`/v1/clips/{id}/video`, `/poster`; public).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type AuthEnv, requireAuth } from '../auth.ts';
import { callerOf } from '../db/read-router.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, ErrorSchema, json } from '../routes/schemas.ts';
import { clipContentRoute, serveClipContent } from './clip-content.ts';
import { ClipLinkSigner } from './clip-links.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type AlarmRow, type ClipRow, clipById, pageAlarms } from './history.ts';
import { AlarmQuery, AlarmSchema, ClipIdParam, ClipSchema, rangeOf } from './schemas.ts';

const list = createRoute({
  method: 'get',
  path: '/v1/alarms',
  summary: 'The alarm history, newest first, each alarm with its clip (status, links)',
  request: { query: AlarmQuery },
  responses: {
    200: json(
      z.object({
        from: z
          .number()
          .int()
          .openapi({ description: 'The range read (ms since the epoch), from inclusive' }),
        to: z.number().int(),
        alarms: z.array(AlarmSchema),
        next: z
          .string()
          .nullable()
          .openapi({ description: 'Cursor of the next (older) page; null: the last' }),
      }),
      'A page of alarms',
    ),
    ...AUTH_ERRORS,
  },
});

const one = createRoute({
  method: 'get',
  path: '/v1/clips/{id}',
  summary: 'An alarm clip: its status (or why it failed) and, once stored, signed links to it',
  request: { params: ClipIdParam },
  responses: {
    200: json(ClipSchema, 'The clip'),
    ...AUTH_ERRORS,
    404: json(ErrorSchema, 'No such clip'),
  },
});

const ms = (d: Date | null) => (d === null ? null : d.getTime());

/** A clip row as the API shows it; links only while stored and the gateway has the store. */
function toClip(row: ClipRow, links: ClipLinkSigner | undefined) {
  return {
    id: row.id,
    edgeId: row.edgeId,
    alarm: row.alarm,
    since: row.alarmSince.getTime(),
    end: ms(row.alarmEnd),
    status: row.status,
    code: row.code,
    reason: row.reason,
    attempts: row.attempts,
    camera: row.cameraSerial === null ? null : { serial: row.cameraSerial, channel: row.cameraChannel ?? 1 },
    window: { start: row.windowStart.getTime(), end: row.windowEnd.getTime() },
    durationMs: row.durationMs,
    bytes: row.bytes,
    sha256: row.sha256,
    requestedAt: row.requestedAt.getTime(),
    storedAt: ms(row.storedAt),
    expiresAt: ms(row.expiresAt),
    links: links !== undefined && row.status === 'stored' ? links.links(row.id) : null,
  };
}

function toAlarm(alarm: AlarmRow, clip: ClipRow | undefined, links: ClipLinkSigner | undefined) {
  return {
    eventId: alarm.eventId,
    edgeId: alarm.edgeId,
    alarm: alarm.alarm,
    phase: alarm.phase,
    at: alarm.at.getTime(),
    since: ms(alarm.since),
    recordedAt: alarm.recordedAt.getTime(),
    data: alarm.data,
    clip: clip === undefined ? null : toClip(clip, links),
  };
}

export function alarmRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/alarms', requireAuth(deps.auth, 'operator'));
  // The clip's row; its video and poster are public behind their signed links.
  app.get('/v1/clips/:id', requireAuth(deps.auth, 'operator'));
  const signer = deps.clipLinks ?? new ClipLinkSigner();
  // Links are handed out only where the bytes can be served.
  const links = deps.objects === undefined ? undefined : signer;

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const { from, to } = rangeOf(q);
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    // A heavy read: the replica, unless this caller wrote recently or it is away (gateway/db/read-router.ts).
    const db = (await deps.reads?.db(callerOf(c.get('principal')))) ?? deps.db;
    const page = await pageAlarms(db, {
      from,
      to,
      limit: q.limit,
      ...(q.edge === undefined ? {} : { edge: q.edge }),
      ...(q.building === undefined ? {} : { building: q.building }),
      ...(q.kind === undefined ? {} : { kind: q.kind }),
      ...(q.phase === undefined ? {} : { phase: q.phase }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    return c.json(
      {
        from,
        to,
        alarms: page.rows.map((r) => toAlarm(r.alarm, r.clip, links)),
        next: page.next === undefined ? null : encodeCursor(page.next),
      },
      200,
    );
  });

  app.openapi(one, async (c) => {
    const { id } = c.req.valid('param');
    const db = (await deps.reads?.db(callerOf(c.get('principal')))) ?? deps.db;
    const row = await clipById(db, id);
    if (row === undefined) throw new ApiError('NOT_FOUND', `No clip ${id}`);
    return c.json(toClip(row, links), 200);
  });

  const content = { db: deps.db, links: signer, objects: deps.objects };
  app.openapi(clipContentRoute('video'), serveClipContent('video', content));
  app.openapi(clipContentRoute('poster'), serveClipContent('poster', content));
  return app;
}
