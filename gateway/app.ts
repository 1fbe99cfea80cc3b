/**
 * The gateway's HTTP API: every route group mounted on one Hono app, request validation with
 * `{"error": {code, message, details}}` 400s (one hook for every route), errors mapped to their
 * status in one place (`toApiError`; anything else is a 500 with a request id the log has too), the
 * OpenAPI document generated from the route schemas (`/v1/openapi.json`) and a page to read it
 * (`/v1/docs`), health (`/healthz`), readiness (`/readyz`: the database and Redis answer) and
 * Prometheus metrics (`/metrics`).
 * Stateless: any number of gateways serve the same fleet.
 */
import { OpenAPIHono, type OpenAPIHonoOptions } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { ErrorHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { Logger } from '../actors/mod.ts';
import { toError } from '../bus/mod.ts';
import { alarmRoutes } from './alarms/mod.ts';
import { artifactRoutes, isArtifactUpload } from './artifacts/mod.ts';
import type { AuthEnv } from './auth.ts';
import { credentialRoutes } from './credentials/mod.ts';
import { dashboardRoutes } from './dashboard/routes.ts';
import type { GatewayDeps } from './deps.ts';
import { errorBody, toApiError } from './errors.ts';
import { FrameCounts, frameMetrics, frameRoutes, isFrameUpload } from './frames/mod.ts';
import { logRoutes } from './logs/mod.ts';
import { createMetrics } from './metrics.ts';
import { alertRuleMetrics, isAlertWebhook, monitoringRoutes, serverRoutes } from './monitoring/mod.ts';
import { rolloutRoutes } from './rollouts/mod.ts';
import { adminRoutes } from './routes/admin.ts';
import { configRoutes } from './routes/config.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { edgeRoutes } from './routes/edges.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { screenRoutes } from './screens/mod.ts';
import { tufRoutes } from './tuf/mod.ts';
import { tunnelRoutes } from './tunnels/mod.ts';

/** The largest request body the API reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function createApp(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  // Every response carries X-Request-Id (the client's own when it sent a usable one).
  app.use('*', requestId());
  // No request body is read past MAX_BODY_BYTES (configuration documents are the largest), except
  // an artifact upload's: streamed into the object store under its own bound (gateway/artifacts).
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      c.json(errorBody('PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes`), 413),
  });
  // A frame upload is streamed under its own, smaller bound too (gateway/frames); Alertmanager's
  // webhook reads its body under its own bound once its token is checked (gateway/monitoring).
  const streamed = (method: string, path: string) =>
    isArtifactUpload(method, path) || isFrameUpload(method, path) || isAlertWebhook(method, path);
  app.use('*', (c, next) => (streamed(c.req.method, c.req.path) ? next() : limit(c, next)));
  app.onError(errorHandler(deps.log));
  app.notFound((c) => c.json(errorBody('NOT_FOUND', `No route ${c.req.method} ${c.req.path}`), 404));

  const frames = new FrameCounts();
  serveHealth(app, deps, frames);

  // Before the edge routes, whose `/v1/edges/*` guard lets no edge credentials through.
  app.route('/', frameRoutes(deps, frames));
  app.route('/', edgeRoutes(deps));
  app.route('/', credentialRoutes(deps));
  app.route('/', tunnelRoutes(deps));
  app.route('/', nodeRoutes(deps));
  app.route('/', dashboardRoutes());
  app.route('/', configRoutes(deps));
  app.route('/', adminRoutes(deps));
  app.route('/', deadLetterRoutes(deps));
  app.route('/', artifactRoutes(deps));
  app.route('/', rolloutRoutes(deps));
  app.route('/', screenRoutes(deps));
  app.route('/', tufRoutes(deps));
  app.route('/', alarmRoutes(deps));
  app.route('/', serverRoutes(deps));
  app.route('/', monitoringRoutes(deps));
  app.route('/', logRoutes(deps));

  serveApiDocument(app);
  return app;
}

/** The one validation hook of every route: a 400 naming the first field that is wrong. */
const validationHook: OpenAPIHonoOptions<AuthEnv>['defaultHook'] = (result, c) => {
  // No content type and no body: Hono hands the validator `{}`, which is not what was sent.
  if (result.target === 'json' && !c.req.header('content-type'))
    return c.json(
      errorBody('INVALID_REQUEST', 'A JSON body is required (content-type: application/json)'),
      400,
    );
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    const first = issues[0];
    return c.json(
      errorBody(
        'INVALID_REQUEST',
        first ? `${first.path || 'request'}: ${first.message}` : 'invalid request',
        issues,
      ),
      400,
    );
  }
};

/** Known errors to their status; anything else a 500 with the request id its log line carries. */
function errorHandler(log: Logger): ErrorHandler<AuthEnv> {
  return (error, c) => {
    const known = toApiError(error);
    if (known !== undefined) return c.json(errorBody(known.code, known.message, known.details), known.status);
    const id = c.get('requestId') ?? 'unknown';
    log.error(
      { err: toError(error), requestId: id, method: c.req.method, path: c.req.path },
      'request failed',
    );
    return c.json(
      {
        error: { code: 'INTERNAL', message: `The gateway failed; its log has request ${id}`, requestId: id },
      },
      500,
    );
  };
}

/** `/metrics` (and timing every request), `/healthz` and `/readyz` (the database and Redis answer). */
function serveHealth(app: OpenAPIHono<AuthEnv>, deps: GatewayDeps, frames: FrameCounts): void {
  const metrics = createMetrics(deps);
  frameMetrics(metrics.registry, frames);
  if (deps.monitoring?.applier !== undefined) alertRuleMetrics(metrics.registry, deps.monitoring.applier);
  app.use('*', metrics.middleware);
  // Several gateway processes on one port: whichever a scrape reaches answers for all of them.
  deps.clusterMetrics?.attach(metrics.registry);
  app.get('/metrics', async (c) =>
    c.text(await (deps.clusterMetrics?.text() ?? metrics.registry.metrics()), 200, {
      'content-type': metrics.registry.contentType,
    }),
  );
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await Promise.allSettled([deps.db.execute(sql`select 1`), deps.bus.redis.ping()]);
    const [database, redis] = checks.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)));
    const ready = database === 'ok' && redis === 'ok';
    return c.json({ status: ready ? 'ready' : 'unavailable', database, redis }, ready ? 200 : 503);
  });
}

/** The OpenAPI document generated from the route schemas (`/v1/openapi.json`) and a page for it. */
function serveApiDocument(app: OpenAPIHono<AuthEnv>): void {
  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    security: [{ apiKey: [] }],
    info: {
      title: 'DeviceHub gateway',
      version: '1',
      description:
        'Fleet state, commands and configuration for elevator edge boxes. Authenticate with `Authorization: Bearer <API key>` (scopes service < operator < admin); edges fetch their own configuration with `Authorization: Basic <edgeId:secret>`.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'alertWebhook', {
    type: 'http',
    scheme: 'bearer',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'edgeCredentials', {
    type: 'http',
    scheme: 'basic',
  });
  app.get('/v1/docs', (c) => c.html(DOCS_PAGE));
}

/** A readable page for the OpenAPI document, with no scripts from elsewhere. */
const DOCS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>DeviceHub API</title>
<style>body{font:14px system-ui;margin:2em;max-width:60em}code{background:#f3f3f3;padding:0 .2em}
h2{margin-top:1.5em;font-size:1.1em}li{margin:.3em 0}</style></head><body>
<h1>DeviceHub gateway API</h1><p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a></p>
<div id="routes">Loading…</div><script>
fetch('/v1/openapi.json').then(r=>r.json()).then(doc=>{
  const out=[];for(const [path,ops] of Object.entries(doc.paths)){for(const [m,op] of Object.entries(ops)){
  out.push('<li><code>'+m.toUpperCase()+' '+path+'</code> — '+(op.summary||'')+'</li>')}}
  document.getElementById('routes').innerHTML='<ul>'+out.join('')+'</ul>'});
</script></body></html>`;
