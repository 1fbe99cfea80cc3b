/**
 * Vision frames (issue 17): `PUT /v1/edges/{id}/frames/{eventId}?index=0..3` — an edge uploads the
 * candidate JPEG of one of its vision events with its own credentials (`Basic <edgeId:secret>`,
 * the ones it polls its configuration with), for itself only; stored at `frameKey` in the object
 * store. The same bytes again are a 200 (a retried upload), other bytes for a stored frame a 409.
 * `GET /v1/edges/{id}/frames/{eventId}/{index}` (operator) serves it for the dashboard.
 */
import { createRoute, OpenAPIHono, type RouteHandler, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { frameKey, ObjectNotFoundError, type ObjectStore } from '../../objects/mod.ts';
import { type AuthEnv, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, EdgeIdParam, ErrorSchema, json } from '../routes/schemas.ts';
import { FrameError } from './errors.ts';
import type { FrameCounts } from './metrics.ts';
import { receiveFrame } from './receive.ts';

/** The largest frame the gateway takes by default: 2 MiB (an elenet frame is 50–300 kB). */
export const DEFAULT_MAX_FRAME_BYTES = 2 * 1024 * 1024;

const EventId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'an event id: 1–64 characters of [A-Za-z0-9_-]')
  .openapi({ param: { name: 'eventId', in: 'path' }, example: 'ev-20261130-0001' });

const FrameSchema = z
  .object({
    edgeId: z.string().openapi({ example: 'E-000123' }),
    eventId: z.string().openapi({ example: 'ev-20261130-0001' }),
    index: z.number().int().openapi({ example: 0 }),
    size: z.number().int().openapi({ description: 'Bytes' }),
  })
  .openapi('Frame');

const jpeg = (description: string) => ({
  description,
  content: { 'image/jpeg': { schema: z.string().openapi({ type: 'string', format: 'binary' }) } },
});

const put = createRoute({
  method: 'put',
  path: '/v1/edges/{id}/frames/{eventId}',
  summary: 'Upload a candidate frame (JPEG) of one of the edge’s vision events (its own credentials)',
  security: [{ edgeCredentials: [] }] as Record<string, string[]>[],
  request: {
    params: EdgeIdParam.extend({ eventId: EventId }),
    query: z.object({
      index: z.coerce
        .number()
        .int()
        .min(0)
        .max(3)
        .default(0)
        .openapi({ description: 'Which of the event’s 1–4 frames (0..3)' }),
    }),
    body: { required: true, ...jpeg('The frame’s JPEG bytes (at most 2 MiB by default)') },
  },
  responses: {
    200: json(FrameSchema, 'The same bytes were stored already (a retried upload)'),
    201: json(FrameSchema, 'Stored'),
    ...AUTH_ERRORS,
    400: json(ErrorSchema, 'A bad path or query, or the body: EMPTY, NOT_JPEG, TRUNCATED'),
    403: json(ErrorSchema, 'Not this edge’s own credentials (another edge, or an API key)'),
    409: json(ErrorSchema, 'CONFLICT: the frame is stored already with other bytes'),
    413: json(ErrorSchema, 'TOO_LARGE: the body is over the gateway’s bound (2 MiB by default)'),
    415: json(ErrorSchema, 'The body is not image/jpeg'),
    503: json(ErrorSchema, 'The gateway has no object store'),
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/frames/{eventId}/{index}',
  summary: 'A vision event’s frame (JPEG), for the dashboard',
  request: {
    params: EdgeIdParam.extend({
      eventId: EventId,
      index: z.coerce
        .number()
        .int()
        .min(0)
        .max(3)
        .openapi({ param: { name: 'index', in: 'path' }, example: 0 }),
    }),
  },
  responses: {
    200: jpeg('The frame'),
    ...AUTH_ERRORS,
    404: json(ErrorSchema, 'No such frame'),
    503: json(ErrorSchema, 'The gateway has no object store'),
  },
});

/** Whether a request streams its body past the app's body limit (a frame upload, under its own bound). */
export function isFrameUpload(method: string, path: string): boolean {
  return method === 'PUT' && /^\/v1\/edges\/[^/]+\/frames\/[^/]+$/.test(path);
}

export function frameRoutes(deps: GatewayDeps, counts: FrameCounts) {
  const app = new OpenAPIHono<AuthEnv>();
  // Any valid credentials reach the handler, which lets only the path's own edge through (403).
  app.put('/v1/edges/:id/frames/:eventId', requireAuth(deps.auth, 'service', { edges: true }));
  app.get('/v1/edges/:id/frames/:eventId/:index', requireAuth(deps.auth, 'operator'));
  app.openapi(put, uploadFrame(deps, counts));
  app.openapi(get, serveFrame(deps));
  return app;
}

function storeOf(deps: GatewayDeps): ObjectStore {
  if (deps.objects === undefined)
    throw new ApiError('UNAVAILABLE', 'This gateway has no object store (--object-store)');
  return deps.objects;
}

function uploadFrame(deps: GatewayDeps, counts: FrameCounts): RouteHandler<typeof put, AuthEnv> {
  const maxBytes = deps.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  return async (c) => {
    const { id, eventId } = c.req.valid('param');
    const { index } = c.req.valid('query');
    try {
      const principal = c.get('principal');
      if (principal.kind !== 'edge')
        throw new FrameError('FORBIDDEN', 'Frames are uploaded by their edge, with its own credentials');
      if (principal.id !== id)
        throw new FrameError('FORBIDDEN', `Edge ${principal.id} may only upload its own frames`);
      const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'image/jpeg')
        throw new FrameError(
          'UNSUPPORTED_MEDIA_TYPE',
          `A frame is sent as image/jpeg, got ${type === undefined ? 'no Content-Type' : JSON.stringify(type)}`,
        );
      const store = storeOf(deps);
      const length = c.req.header('content-length');
      const bytes = await receiveFrame(c.req.raw.body, {
        maxBytes,
        ...(length === undefined || !/^\d+$/.test(length) ? {} : { contentLength: Number(length) }),
      });
      const key = frameKey(id, eventId, index);
      const frame = { edgeId: id, eventId, index, size: bytes.length };
      if (await sameAsStored(store, key, bytes)) {
        counts.count('duplicate');
        return c.json(frame, 200);
      }
      await store.put(key, once(bytes), { contentType: 'image/jpeg' });
      counts.count('stored');
      deps.log.debug({ edgeId: id, eventId, index, size: bytes.length }, 'frame stored');
      return c.json(frame, 201);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      counts.count(err.code);
      return refuse(c, err);
    }
  };
}

/**
 * Whether `key` holds exactly `bytes` (a retried upload); CONFLICT when it holds other bytes. Two
 * different uploads of one frame at the same moment both find nothing, and the last put wins: an
 * edge uploads each frame of an event once, from one agent (docs/decisions/034-frames.md).
 */
async function sameAsStored(store: ObjectStore, key: string, bytes: Buffer): Promise<boolean> {
  const info = await store.head(key);
  if (info === undefined) return false;
  const conflict = () =>
    new FrameError('CONFLICT', `Frame ${key} is stored already with other bytes (${info.size})`);
  if (info.size !== bytes.length) throw conflict();
  let stored: Buffer;
  try {
    const read = await store.get(key);
    stored = Buffer.from(await new Response(read.body).arrayBuffer());
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return false; // removed meanwhile
    throw err;
  }
  if (!stored.equals(bytes)) throw conflict();
  return true;
}

/** `bytes` as the one chunk of a body. */
async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function refuse(c: Context<AuthEnv>, err: FrameError) {
  return c.json(
    {
      error: {
        code: err.code,
        message: err.message,
        ...(err.details === undefined ? {} : { details: err.details }),
      },
    },
    err.status as 400 | 403 | 409 | 413 | 415,
  );
}

function serveFrame(deps: GatewayDeps): RouteHandler<typeof get, AuthEnv> {
  return async (c) => {
    const { id, eventId, index } = c.req.valid('param');
    const store = storeOf(deps);
    const key = frameKey(id, eventId, index);
    try {
      const read = await store.get(key);
      return c.body(read.body, 200, {
        'content-type': 'image/jpeg',
        'content-length': String(read.info.size),
        // A frame never changes once stored (a different one is refused).
        'cache-control': 'private, max-age=86400, immutable',
      });
    } catch (err) {
      if (err instanceof ObjectNotFoundError)
        throw new ApiError('NOT_FOUND', `No frame ${index} of event ${eventId} from edge ${id}`);
      throw err;
    }
  };
}
