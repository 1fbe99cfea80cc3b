/**
 * Silences and the alerts Alertmanager holds, for operators: `GET/POST /v1/alert-silences`,
 * `DELETE /v1/alert-silences/{id}` (proxied to Alertmanager's API v2, writes audited, the
 * silence's author is the API key) and `GET /v1/monitoring/alerts` (firing alerts, silenced or
 * not). Without DEVICEHUB_ALERTMANAGER_URL they answer 503.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, BODY_ERRORS, ErrorSchema, json, jsonBody, safeString } from '../routes/schemas.ts';
import { AlertmanagerClient, type AmSilence } from './alertmanager.ts';
import { LABEL_NAME_PATTERN } from './rules.ts';

/** The longest silence (30 days). */
export const MAX_SILENCE_MS = 30 * 86_400_000;

const Matcher = z.object({
  name: safeString.regex(LABEL_NAME_PATTERN, 'a label name').openapi({ example: 'alertname' }),
  value: safeString.max(1024).openapi({ example: 'HubHostLoadHigh' }),
  isRegex: z.boolean().default(false),
  isEqual: z.boolean().default(true),
});

const time = safeString.max(64).refine((s) => Number.isFinite(Date.parse(s)), 'an RFC 3339 time');

const SilenceCreate = z
  .object({
    matchers: z.array(Matcher).min(1).max(16),
    startsAt: time.optional().openapi({ description: 'Default now' }),
    endsAt: time.optional().openapi({ description: 'The end; or give `minutes`' }),
    minutes: z
      .number()
      .int()
      .min(1)
      .max(MAX_SILENCE_MS / 60_000)
      .optional(),
    comment: safeString.min(1).max(1024),
  })
  .openapi('AlertSilenceCreate');

const SilenceSchema = z
  .object({
    id: z.string(),
    state: z.string().openapi({ description: 'active, pending or expired' }),
    matchers: z.array(
      z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean() }),
    ),
    startsAt: z.string(),
    endsAt: z.string(),
    createdBy: z.string(),
    comment: z.string(),
  })
  .openapi('AlertSilence');

const SilenceIdParam = z.object({
  id: safeString
    .regex(/^[0-9a-f-]{36}$/, 'a silence id (a UUID)')
    .openapi({ param: { name: 'id', in: 'path' }, example: '8c5d8e0e-7bd2-4c3c-9a0f-2d6d3f1c2b1a' }),
});

const FiringAlert = z
  .object({
    fingerprint: z.string(),
    alertname: z.string(),
    severity: z.string(),
    instance: z.string().nullable(),
    summary: z.string(),
    labels: z.record(z.string(), z.string()),
    startsAt: z.string(),
    state: z.string().openapi({ description: 'active, suppressed (silenced or inhibited) or unprocessed' }),
    silencedBy: z.array(z.string()),
  })
  .openapi('FiringAlert');

const AM_DOWN = { 503: json(ErrorSchema, 'No Alertmanager configured, or it did not answer') };

const list = createRoute({
  method: 'get',
  path: '/v1/alert-silences',
  summary: 'Alertmanager’s silences',
  responses: {
    200: json(z.object({ silences: z.array(SilenceSchema) }), 'The silences'),
    ...AUTH_ERRORS,
    ...AM_DOWN,
  },
});
const create = createRoute({
  method: 'post',
  path: '/v1/alert-silences',
  summary: 'Silences the alerts that match, from startsAt (default now) to endsAt (or for `minutes`)',
  request: { body: jsonBody(SilenceCreate) },
  responses: { 201: json(z.object({ id: z.string() }), 'Created'), ...BODY_ERRORS, ...AM_DOWN },
});
const remove = createRoute({
  method: 'delete',
  path: '/v1/alert-silences/{id}',
  summary: 'Expires a silence',
  request: { params: SilenceIdParam },
  responses: {
    204: { description: 'Expired' },
    404: json(ErrorSchema, 'No such silence'),
    ...AUTH_ERRORS,
    ...AM_DOWN,
  },
});
const alerts = createRoute({
  method: 'get',
  path: '/v1/monitoring/alerts',
  summary: 'The alerts Alertmanager holds now (firing; silenced ones too, marked)',
  responses: {
    200: json(z.object({ alerts: z.array(FiringAlert) }), 'The alerts'),
    ...AUTH_ERRORS,
    ...AM_DOWN,
  },
});

const toSilence = (s: AmSilence) => ({
  id: s.id,
  state: s.status.state,
  matchers: s.matchers.map((m) => ({
    name: m.name,
    value: m.value,
    isRegex: m.isRegex,
    isEqual: m.isEqual ?? true,
  })),
  startsAt: s.startsAt,
  endsAt: s.endsAt,
  createdBy: s.createdBy,
  comment: s.comment,
});

/** The silence's window: startsAt (default now) to endsAt or startsAt + minutes; a 400 naming the field. */
function windowOf(
  body: z.infer<typeof SilenceCreate>,
  now = Date.now(),
): { startsAt: string; endsAt: string } {
  const start = body.startsAt === undefined ? now : Date.parse(body.startsAt);
  if (body.endsAt === undefined && body.minutes === undefined)
    throw new ApiError('INVALID_REQUEST', 'endsAt: give endsAt or minutes');
  if (body.endsAt !== undefined && body.minutes !== undefined)
    throw new ApiError('INVALID_REQUEST', 'minutes: give endsAt or minutes, not both');
  const end = body.endsAt === undefined ? start + (body.minutes ?? 0) * 60_000 : Date.parse(body.endsAt);
  if (!(end > start)) throw new ApiError('INVALID_REQUEST', 'endsAt: must be after startsAt');
  if (end <= now) throw new ApiError('INVALID_REQUEST', 'endsAt: must be in the future');
  if (end - start > MAX_SILENCE_MS)
    throw new ApiError('INVALID_REQUEST', 'endsAt: a silence lasts at most 30 days');
  if (Math.abs(start - now) > 366 * 86_400_000)
    throw new ApiError('INVALID_REQUEST', 'startsAt: must be within a year of now');
  return { startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString() };
}

export function silenceRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const url = deps.monitoring?.alertmanagerUrl;
  const am = url === undefined ? undefined : new AlertmanagerClient(url);
  const client = () => {
    if (am === undefined)
      throw new ApiError('UNAVAILABLE', 'This gateway has no Alertmanager (DEVICEHUB_ALERTMANAGER_URL)');
    return am;
  };
  app.use('/v1/alert-silences', requireAuth(deps.auth, 'operator'));
  app.use('/v1/alert-silences/*', requireAuth(deps.auth, 'operator'));
  app.use('/v1/monitoring/alerts', requireAuth(deps.auth, 'operator'));

  app.openapi(list, async (c) => c.json({ silences: (await client().silences()).map(toSilence) }, 200));

  app.openapi(create, async (c) => {
    const body = c.req.valid('json');
    const window = windowOf(body);
    const actor = actorOf(c.get('principal'));
    const matchers = body.matchers.map((m) => ({ ...m }));
    if (matchers.every((m) => m.isRegex && /^(\.\*|\.\+)?$/.test(m.value)))
      throw new ApiError(
        'INVALID_REQUEST',
        'matchers: at least one must name something (not match everything)',
      );
    const id = await client().createSilence({ matchers, ...window, createdBy: actor, comment: body.comment });
    await audit(deps.db, {
      actor,
      action: 'alert-silence.create',
      target: `alert-silence/${id}`,
      details: { matchers, ...window },
    });
    return c.json({ id }, 201);
  });

  app.openapi(remove, async (c) => {
    const { id } = c.req.valid('param');
    await client().expireSilence(id);
    await audit(deps.db, {
      actor: actorOf(c.get('principal')),
      action: 'alert-silence.expire',
      target: `alert-silence/${id}`,
    });
    return c.body(null, 204);
  });

  app.openapi(alerts, async (c) => {
    const held = await client().alerts();
    return c.json(
      {
        alerts: held.map((a) => ({
          fingerprint: a.fingerprint,
          alertname: a.labels.alertname ?? '',
          severity: a.labels.severity ?? 'warning',
          instance: a.labels.instance ?? null,
          summary: a.annotations.summary ?? a.annotations.description ?? '',
          labels: a.labels,
          startsAt: a.startsAt,
          state: a.status.state,
          silencedBy: a.status.silencedBy ?? [],
        })),
      },
      200,
    );
  });
  return app;
}
