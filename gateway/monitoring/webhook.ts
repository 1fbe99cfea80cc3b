/**
 * Alertmanager's webhook (`POST /v1/monitoring/alertmanager`, its JSON version 4): each alert in
 * the notification becomes one fleet event `server.alert` in the outbox — to the web backend
 * through the BullMQ partitions like every fleet event, and live on `/v1/events`. Alertmanager
 * re-sends a group every repeat_interval and retries a failed webhook; one alert state (its
 * fingerprint, status and start) is appended once (bus alert-event.lua), so the web backend gets
 * it once, with one Idempotency-Key. Authenticated by the bearer token DEVICEHUB_ALERT_WEBHOOK_TOKEN
 * (Alertmanager's `http_config.authorization.credentials`); without one configured, a 401.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { appendAlertEvent } from '../../bus/mod.ts';
import type { AuthEnv } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError, errorBody } from '../errors.ts';
import { BODY_ERRORS, json, jsonBody, safeRecord, safeString } from '../routes/schemas.ts';

const WEBHOOK_PATH = '/v1/monitoring/alertmanager';
/** The largest notification read: a big group's alerts can pass the API's 1 MiB. */
export const MAX_WEBHOOK_BYTES = 8 * 1024 * 1024;

/** Whether a request is the webhook's: app.ts leaves its body to this route (its token is checked first). */
export const isAlertWebhook = (method: string, path: string): boolean =>
  method === 'POST' && path === WEBHOOK_PATH;

const Alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: safeRecord(safeString.max(1024)),
  annotations: safeRecord(safeString.max(4096)).default({}),
  startsAt: safeString.max(64).refine((s) => Number.isFinite(Date.parse(s)), 'an RFC 3339 time'),
  endsAt: safeString.max(64).optional(),
  generatorURL: safeString.max(2048).optional(),
  fingerprint: safeString.min(1).max(128),
});

export const AlertmanagerNotification = z
  .object({
    version: safeString.max(8).optional(),
    groupKey: safeString.max(2048).optional(),
    status: z.enum(['firing', 'resolved']).optional(),
    receiver: safeString.max(1024).optional(),
    alerts: z.array(Alert).max(1000),
  })
  .openapi('AlertmanagerNotification');

const route = createRoute({
  method: 'post',
  path: WEBHOOK_PATH,
  summary: 'Alertmanager’s webhook (JSON version 4): each alert becomes a server.alert fleet event',
  security: [{ alertWebhook: [] }],
  request: { body: jsonBody(AlertmanagerNotification) },
  responses: {
    200: json(
      z.object({
        events: z.number().int().openapi({ description: 'Alert states appended to the outbox' }),
        repeats: z.number().int().openapi({ description: 'Alert states sent before (not appended again)' }),
      }),
      'Taken',
    ),
    ...BODY_ERRORS,
  },
});

type AlertJson = z.infer<typeof Alert>;

/** The `server.alert` fleet event of one alert of a notification. */
export function toAlertEvent(alert: AlertJson): Record<string, unknown> {
  const { labels, annotations } = alert;
  // Alertmanager sends the zero time (year 1) as a firing alert's end.
  const ends = alert.endsAt === undefined ? Number.NaN : Date.parse(alert.endsAt);
  return {
    type: 'server.alert',
    status: alert.status,
    alertname: labels.alertname ?? '',
    severity: labels.severity ?? 'warning',
    ...(labels.instance === undefined ? {} : { instance: labels.instance }),
    summary: annotations.summary ?? annotations.description ?? labels.alertname ?? '',
    labels,
    startsAt: new Date(Date.parse(alert.startsAt)).toISOString(),
    ...(Number.isFinite(ends) && ends > 0 ? { endsAt: new Date(ends).toISOString() } : {}),
    fingerprint: alert.fingerprint,
    alertKey: alertKey(alert),
  };
}

/** The alert state's key: fingerprint, status and start, hashed (the outbox's seen mark). */
export function alertKey(alert: Pick<AlertJson, 'fingerprint' | 'status' | 'startsAt'>): string {
  return createHash('sha256')
    .update(`${alert.fingerprint}\n${alert.status}\n${Date.parse(alert.startsAt)}`)
    .digest('hex')
    .slice(0, 32);
}

/** Whether `header` is `Bearer <token>` (constant time). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

export function alertWebhookRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const token = deps.monitoring?.webhookToken;
  app.post(WEBHOOK_PATH, async (c, next) => {
    if (token === undefined || token === '')
      throw new ApiError(
        'UNAUTHENTICATED',
        'This gateway takes no alerts: DEVICEHUB_ALERT_WEBHOOK_TOKEN is not set',
      );
    if (!bearerMatches(c.req.header('authorization'), token))
      throw new ApiError(
        'UNAUTHENTICATED',
        'Present the alert webhook token as Authorization: Bearer <token>',
      );
    await next();
  });
  // Only after the token: a caller without it gets its 401 whatever it sends.
  app.post(
    WEBHOOK_PATH,
    bodyLimit({
      maxSize: MAX_WEBHOOK_BYTES,
      onError: (c) =>
        c.json(errorBody('PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_WEBHOOK_BYTES} bytes`), 413),
    }),
  );
  app.openapi(route, async (c) => {
    const { alerts } = c.req.valid('json');
    // All at once: the script calls go out back to back (one round trip per request, not per
    // alert); one connection per Redis node keeps them in order, so one alert's states stay so.
    const ids = await Promise.all(
      alerts.map((alert) =>
        appendAlertEvent(deps.bus, {
          key: alertKey(alert),
          orderBy: alert.fingerprint,
          event: toAlertEvent(alert),
        }),
      ),
    );
    const events = ids.filter((id) => id !== undefined).length;
    return c.json({ events, repeats: alerts.length - events }, 200);
  });
  return app;
}
