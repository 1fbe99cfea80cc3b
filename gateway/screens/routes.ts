/**
 * Wall screens' routes. A screen is an edge (hardware `screen`) and speaks with its own
 * credentials (`Basic <id:secret>`), for itself only:
 * - `GET /v1/screens/{id}/manifest`: the bundle to run (manifest.ts), ETag, 304 to a matching
 *   `If-None-Match`, `?wait=` long-poll (a configuration change wakes it at once; the actor's
 *   assignment is read again every `pollMs`);
 * - `POST /v1/screens/{id}/status`: its report, into its edge actor (status.ts);
 * - `GET /screens/{id}` and `/screens/assets/*`: the loader page and its script (loader.ts);
 * - `GET /v1/screens/{scope}` and `/v1/screens/{scope}/stream`: the wall-screen feeds (feed-routes.ts).
 */
import { createRoute, OpenAPIHono, type RouteHandler, z } from '@hono/zod-openapi';
import { type AuthEnv, type Principal, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, BODY_ERRORS, EdgeIdParam, ErrorSchema, json, jsonBody } from '../routes/schemas.ts';
import { catalogLookup } from './catalog-lookup.ts';
import { feedRoutes } from './feed-routes.ts';
import { loaderRoutes } from './loader.ts';
import { type BundleLookup, screenManifest } from './manifest.ts';
import { reportStatus, ScreenStatus } from './status.ts';

export interface ScreenOptions {
  /** Looks up a bundle by name and version (default: the gateway's artifacts catalog, when it has one). */
  readonly lookup?: BundleLookup | undefined;
  /** How often a long-poll reads the edge actor's assignment again (ms, default 1000). */
  readonly pollMs?: number;
}

const Bundle = z
  .object({
    path: z.string().openapi({ description: 'TUF target path screen-bundle/<name>/<version>/<file>' }),
    name: z.string(),
    version: z.string(),
    sha256: z.string(),
    length: z.number(),
    urls: z.array(z.string()).openapi({ description: 'Where to fetch it, the ranked CDN mirrors first' }),
  })
  .openapi('ScreenBundle');

const Manifest = z
  .object({
    screen: z.string(),
    bundle: Bundle.nullable(),
    rollout: z.string().nullable(),
    healthDeadlineMs: z.number(),
    spreadMs: z.number(),
    config: z.record(z.string(), z.unknown()),
  })
  .openapi('ScreenManifest');

const security = [{ apiKey: [] }, { edgeCredentials: [] }] as Record<string, string[]>[];

const manifest = createRoute({
  method: 'get',
  path: '/v1/screens/{id}/manifest',
  summary: 'The bundle a wall screen runs (ETag, If-None-Match → 304, ?wait= long-poll)',
  security,
  request: {
    params: EdgeIdParam,
    query: z.object({ wait: z.coerce.number().int().min(0).max(300).default(0) }),
  },
  responses: {
    200: json(Manifest, 'The manifest'),
    304: { description: 'Unchanged' },
    404: json(ErrorSchema, 'No such screen'),
    ...AUTH_ERRORS,
  },
});

const status = createRoute({
  method: 'post',
  path: '/v1/screens/{id}/status',
  summary: 'A wall screen reports its bundle, its update state and its health',
  security: [{ edgeCredentials: [] }] as Record<string, string[]>[],
  request: { params: EdgeIdParam, body: jsonBody(ScreenStatus) },
  responses: {
    202: json(z.object({ accepted: z.number() }), 'In the screen’s mailbox'),
    ...BODY_ERRORS,
  },
});

export function screenRoutes(deps: GatewayDeps, options: ScreenOptions = {}) {
  const app = new OpenAPIHono<AuthEnv>();
  app.get('/v1/screens/:id/manifest', requireAuth(deps.auth, 'service', { edges: true }));
  app.post('/v1/screens/:id/status', requireAuth(deps.auth, 'service', { edges: true }));
  app.openapi(manifest, readManifest(deps, options));
  app.openapi(status, async (c) => {
    const { id } = c.req.valid('param');
    const principal = c.get('principal');
    if (principal.kind !== 'edge' || principal.id !== id)
      throw new ApiError('FORBIDDEN', `Only screen ${id} itself reports its status`);
    return c.json({ accepted: await reportStatus(deps.bus, id, c.req.valid('json')) }, 202);
  });
  app.route('/', loaderRoutes());
  app.route('/', feedRoutes(deps));
  return app;
}

function checkOwn(principal: Principal, id: string): void {
  if (principal.kind === 'edge' && principal.id !== id)
    throw new ApiError('FORBIDDEN', `Screen ${principal.id} may only fetch its own manifest`);
}

/** GET: the manifest, or 304 when the client's ETag is still current after `?wait=`. */
function readManifest(deps: GatewayDeps, options: ScreenOptions): RouteHandler<typeof manifest, AuthEnv> {
  const { view, bus, maxWaitSeconds = 60 } = deps;
  const { pollMs = 1000 } = options;
  const lookup = options.lookup ?? (deps.artifacts === undefined ? undefined : catalogLookup(deps.artifacts));
  return async (c) => {
    const { id } = c.req.valid('param');
    checkOwn(c.get('principal'), id);
    // Screens are edges: an unknown id is a 404 (the fleet view knows every registered edge).
    if (view.resolve('edge', id) === undefined) throw new ApiError('NOT_FOUND', `No screen ${id}`);
    const wait = Math.min(c.req.valid('query').wait, maxWaitSeconds);
    const seen = c.req.header('if-none-match');
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      const { manifest: body, etag } = await screenManifest({ bus, view, lookup }, id);
      c.header('etag', etag);
      c.header('cache-control', 'no-store');
      if (etag !== seen) return c.json(body, 200);
      const left = deadline - Date.now();
      if (left <= 0 || c.req.raw.signal.aborted) return c.body(null, 304);
      await view.waitForChange(Math.min(left, pollMs), c.req.raw.signal);
    }
  };
}
