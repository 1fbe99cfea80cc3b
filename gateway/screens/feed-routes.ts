/**
 * Wall-screen feeds, served from the process's screen read model (read-model.ts), never a query:
 * - `GET /v1/screens/{scope}`: the scope's snapshot (counts, open alarms, tiles) with
 *   `ETag: "<epoch>.<version>"`; a matching `If-None-Match` is a 304 (a map lookup and a string
 *   compare once the caller's key is cached);
 * - `GET /v1/screens/{scope}/stream`: Server-Sent Events (sse.ts), the snapshot then deltas.
 * Operator and admin keys see every scope; a wall screen (edge credentials) only its own
 * (scope-access.ts). A scope with no elevators is 404; the model not running is 503.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type AuthEnv, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, ErrorSchema, json } from '../routes/schemas.ts';
import { refusal, SCOPE_PATTERN } from './scope-access.ts';
import type { ScopeView } from './scope-view.ts';
import { SSE_HEADERS, serveSse } from './sse.ts';

const ScopeParam = z.object({
  scope: z
    .string()
    .regex(SCOPE_PATTERN, 'a scope: fleet, group:<id> or building:<name>')
    .openapi({ param: { name: 'scope', in: 'path' }, example: 'fleet' }),
});

const Counts = z.object({ running: z.number(), idle: z.number(), fault: z.number(), offline: z.number() });
const Tile = z
  .object({
    edgeId: z.string(),
    floor: z.number().nullable(),
    direction: z.string().nullable(),
    door: z.string().nullable(),
    people: z.boolean().nullable().openapi({ description: 'Someone is in the car' }),
    lastSeen: z.number().nullable(),
    enteredAt: z.number().nullable().openapi({ description: 'When the change entered the hub (ms)' }),
    state: z.enum(['running', 'idle', 'fault', 'offline']),
  })
  .openapi('ScreenTile');
const Snapshot = z
  .object({
    scope: z.string(),
    version: z.string().openapi({ description: '`<epoch>.<version>` of this gateway process; the ETag' }),
    at: z.number(),
    counts: Counts,
    alarms: z.array(z.object({ edgeId: z.string(), kind: z.string(), openedAt: z.number() })),
    tiles: z.array(Tile),
  })
  .openapi('ScreenSnapshot');

/** One Server-Sent Event of the stream, as an SSE parser hands it over. */
const StreamEvent = z
  .object({
    event: z.enum(['snapshot', 'delta']).optional(),
    id: z.string().optional().openapi({ description: 'The scope’s version, `<epoch>.<n>`' }),
    data: z.string().openapi({ description: 'JSON: a ScreenSnapshot, or a delta of the changed tiles' }),
    retry: z.number().optional(),
  })
  .openapi('ScreenStreamEvent');

const security = [{ apiKey: [] }, { edgeCredentials: [] }] as Record<string, string[]>[];
const ERRORS = {
  ...AUTH_ERRORS,
  404: json(ErrorSchema, 'No such scope (no elevator in it)'),
  503: json(ErrorSchema, 'This gateway runs no screen model'),
};

const snapshotRoute = createRoute({
  method: 'get',
  path: '/v1/screens/{scope}',
  summary: 'A wall screen’s scope now: counts, open alarms, one tile per elevator (ETag, 304)',
  security,
  request: { params: ScopeParam },
  responses: { 200: json(Snapshot, 'The snapshot'), 304: { description: 'Unchanged' }, ...ERRORS },
});

const streamRoute = createRoute({
  method: 'get',
  path: '/v1/screens/{scope}/stream',
  summary: 'A scope’s live changes as Server-Sent Events: the snapshot, then deltas about every 250 ms',
  security,
  request: { params: ScopeParam },
  responses: {
    200: {
      description: '`event: snapshot` (a ScreenSnapshot), then `event: delta` frames with `id: <version>`',
      content: { 'text/event-stream': { schema: StreamEvent } },
    },
    ...ERRORS,
  },
});

/** The scope a request may see: 503 without a model, 403 not for this caller, 404 none such. */
function scopeFor(deps: GatewayDeps, c: Context<AuthEnv>, name: string): ScopeView {
  const model = deps.screens;
  if (model === undefined) throw new ApiError('UNAVAILABLE', 'This gateway runs no screen read model');
  const why = refusal(deps.view, c.get('principal'), name);
  if (why !== undefined) throw new ApiError('FORBIDDEN', why);
  const scope = model.scope(name);
  if (scope === undefined) throw new ApiError('NOT_FOUND', `No scope ${name}: no elevator is in it`);
  return scope;
}

export function feedRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const auth = requireAuth(deps.auth, 'operator', { edges: true });
  app.get('/v1/screens/:scope', auth);
  app.get('/v1/screens/:scope/stream', auth);
  app.openapi(snapshotRoute, (c) => {
    const scope = scopeFor(deps, c, c.req.valid('param').scope);
    const etag = `"${scope.id}"`;
    if (c.req.header('if-none-match') === etag)
      return c.body(null, 304, { etag, 'cache-control': 'no-cache' });
    const frame = scope.snapshot();
    return c.body(frame.body as Uint8Array<ArrayBuffer>, 200, {
      etag: `"${frame.id}"`,
      'cache-control': 'no-cache',
      'content-type': 'application/json',
    }) as never;
  });
  app.openapi(streamRoute, (c) => {
    const scope = scopeFor(deps, c, c.req.valid('param').scope);
    const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;
    const lastEventId = c.req.header('last-event-id');
    if (env?.outgoing === undefined)
      // In process (app.request): the snapshot alone, and the stream ends.
      return c.body(scope.snapshot().sse as Uint8Array<ArrayBuffer>, 200, SSE_HEADERS);
    serveSse({
      res: env.outgoing,
      model: deps.screens!,
      scope,
      lastEventId,
      maxMs: deps.screens!.streamMaxMs,
    });
    return RESPONSE_ALREADY_SENT as never;
  });
  return app;
}
