/**
 * The servers page's API (operator scope): `GET /v1/servers` (hosts and processes Prometheus
 * scrapes, up or down), `GET /v1/servers/series` (a named panel over a range, uPlot-ready; no
 * PromQL from the client) and `GET /v1/servers/alerts` (what Prometheus's rules fire now).
 * Prometheus down, slow or not configured: 503 with the reason.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { type AuthEnv, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, ErrorSchema, json } from '../routes/schemas.ts';
import { HOST_PATTERN, NODE_PATTERN, PANELS, RANGES, type RangeName } from './panels.ts';
import { PrometheusError } from './prometheus-client.ts';
import { readSeries, SeriesQueryError } from './series.ts';
import { firingAlerts, listServers } from './servers.ts';

const UNAVAILABLE = {
  503: json(ErrorSchema, 'Prometheus is down, too slow, or not configured (the reason)'),
};

const TargetSchema = z
  .object({
    job: z.string(),
    instance: z.string().openapi({ description: 'What `host=` takes for this target' }),
    up: z.boolean().openapi({ description: 'Its last scrape worked' }),
    name: z.string().openapi({ description: 'A host’s name (node_exporter’s nodename), else the instance' }),
    lastScrape: z.number().openapi({ description: 'When it was last scraped (ms; 0: never)' }),
    lastError: z.string().openapi({ description: 'Why its last scrape failed (empty: it did not)' }),
  })
  .openapi('ServerTarget');

const servers = createRoute({
  method: 'get',
  path: '/v1/servers',
  summary: 'Hosts (node_exporter) and processes (hub /metrics, exporters) Prometheus scrapes, up or down',
  responses: {
    200: json(z.object({ hosts: z.array(TargetSchema), processes: z.array(TargetSchema) }), 'The targets'),
    ...AUTH_ERRORS,
    ...UNAVAILABLE,
  },
});

const SeriesQuery = z.object({
  panel: z.enum(PANELS).openapi({
    description:
      'cpu, memory, disk, network (per host); process-cpu, process-rss (per process); messages, p99, backlog (per hub node)',
  }),
  range: z
    .enum(Object.keys(RANGES) as [RangeName, ...RangeName[]])
    .default('1h')
    .openapi({ description: 'The window ending now' }),
  host: z
    .string()
    .regex(HOST_PATTERN, 'a target instance: 1–253 characters of [A-Za-z0-9_.:[]-]')
    .optional()
    .openapi({
      description: 'Only this host or process (an `instance` of GET /v1/servers)',
      example: '127.0.0.1:9100',
    }),
  node: z
    .string()
    .regex(NODE_PATTERN, 'a hub node id: 1–128 characters of [A-Za-z0-9_.:-]')
    .optional()
    .openapi({ description: 'Only this hub node (messages, p99, backlog)', example: 'node-1' }),
});

const SeriesSchema = z
  .object({
    panel: z.enum(PANELS),
    title: z.string(),
    unit: z.enum(['percent', 'bytes', 'bytesPerSecond', 'perSecond', 'ms', 'entries']),
    range: z.string(),
    step: z.number().openapi({ description: 'Seconds between points' }),
    t: z.array(z.number()).openapi({ description: 'The time axis: unix seconds, oldest first' }),
    series: z.array(
      z.object({
        label: z.string(),
        values: z.array(z.number().nullable()).openapi({ description: 'One per `t`; null: no value then' }),
      }),
    ),
    truncated: z.number().int().openapi({ description: 'Series left out (at most 64 are sent)' }),
  })
  .openapi('ServerSeries');

const series = createRoute({
  method: 'get',
  path: '/v1/servers/series',
  summary:
    'A named chart of the servers page over a range, as uPlot draws it (t and one values array per series)',
  request: { query: SeriesQuery },
  responses: { 200: json(SeriesSchema, 'The chart’s data'), ...AUTH_ERRORS, ...UNAVAILABLE },
});

const AlertSchema = z
  .object({
    alertname: z.string(),
    severity: z.string(),
    state: z.enum(['pending', 'firing']),
    instance: z.string().optional(),
    summary: z.string(),
    activeAt: z.number().openapi({ description: 'Since when (ms)' }),
    value: z.number(),
    labels: z.record(z.string(), z.string()),
  })
  .openapi('ServerAlert');

const alerts = createRoute({
  method: 'get',
  path: '/v1/servers/alerts',
  summary: 'Alerts Prometheus’s rules fire (or hold pending) now, most severe first',
  responses: {
    200: json(z.object({ alerts: z.array(AlertSchema) }), 'The alerts'),
    ...AUTH_ERRORS,
    ...UNAVAILABLE,
  },
});

export function serverRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/servers', requireAuth(deps.auth, 'operator'));
  app.use('/v1/servers/*', requireAuth(deps.auth, 'operator'));
  const prometheus = () => {
    if (deps.prometheus === undefined)
      throw new ApiError('UNAVAILABLE', 'This gateway has no Prometheus (set DEVICEHUB_PROMETHEUS_URL)', {
        reason: 'NOT_CONFIGURED',
      });
    return deps.prometheus;
  };

  app.openapi(servers, async (c) =>
    c.json(await unavailable(listServers(prometheus(), c.req.raw.signal)), 200),
  );
  app.openapi(series, async (c) => {
    const q = c.req.valid('query');
    try {
      return c.json(await unavailable(readSeries(prometheus(), q, { signal: c.req.raw.signal })), 200);
    } catch (error) {
      if (error instanceof SeriesQueryError)
        throw new ApiError('INVALID_REQUEST', error.message, [{ path: error.field, message: error.message }]);
      throw error;
    }
  });
  app.openapi(alerts, async (c) =>
    c.json({ alerts: await unavailable(firingAlerts(prometheus(), c.req.raw.signal)) }, 200),
  );
  return app;
}

/** Prometheus down, slow or answering nonsense: a 503 with the reason (a refused query stays a 500: ours). */
async function unavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof PrometheusError && error.code !== 'BAD_QUERY')
      throw new ApiError('UNAVAILABLE', error.message, { reason: error.code });
    throw error;
  }
}
