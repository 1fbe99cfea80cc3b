/**
 * `POST /v1/edges/{id}/log-level { level, minutes }` (operator): ships the edge's logs from
 * `level` for the next `minutes` — the dashboard's "debug for an hour". It writes
 * `logs.override = { level, until }` into the edge's own configuration document (a new version,
 * audited), so the edge's long-poll delivers it at once; the agent goes back to its configured
 * level by itself at `until` (docs/decisions/038). The document's other fields stay as they are.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { LOG_LINE_LEVELS } from '../../edge/protocol/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { configHistory, putConfig } from '../config-store.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { isRegistered } from '../register-edges.ts';
import { parseDocument } from './config-documents.ts';
import { BODY_ERRORS, EdgeIdParam, ErrorSchema, json, jsonBody } from './schemas.ts';

const LogLevelBody = z
  .object({
    level: z.enum(LOG_LINE_LEVELS).openapi({ example: 'debug' }),
    minutes: z.number().int().min(1).max(1440).openapi({ example: 60, description: 'How long (1–1440)' }),
  })
  .strict()
  .openapi('EdgeLogLevel');

const LogLevelResult = z
  .object({
    edgeId: z.string(),
    level: z.enum(LOG_LINE_LEVELS),
    until: z.string().openapi({ description: 'ISO 8601: the edge goes back to its configured level then' }),
    version: z
      .number()
      .int()
      .openapi({ description: 'The new version of the edge’s configuration document' }),
  })
  .openapi('EdgeLogLevelSet');

const post = createRoute({
  method: 'post',
  path: '/v1/edges/{id}/log-level',
  summary: 'Ship the edge’s logs from this level for a while (then back by itself)',
  request: { params: EdgeIdParam, body: jsonBody(LogLevelBody) },
  responses: {
    200: json(LogLevelResult, 'Written into the edge’s configuration'),
    404: json(ErrorSchema, 'No such edge'),
    ...BODY_ERRORS,
  },
});

/** Writes attempted when another writer got in between (If-Match conflicts). */
const ATTEMPTS = 3;

export function edgeLogLevelRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.post('/v1/edges/:id/log-level', requireAuth(deps.auth, 'operator'));
  app.openapi(post, async (c) => {
    const { id } = c.req.valid('param');
    const { level, minutes } = c.req.valid('json');
    if (!(await isRegistered(deps.db, id))) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const until = new Date(Date.now() + minutes * 60_000).toISOString();
    const scope = `module:${id}`;
    const actor = actorOf(c.get('principal'));
    for (let attempt = 1; ; attempt++) {
      const [current] = await configHistory(deps.db, { kind: 'edge', scope, limit: 1 });
      const body = (current?.body ?? {}) as Record<string, unknown>;
      const logs = typeof body.logs === 'object' && body.logs !== null ? body.logs : {};
      const next = parseDocument('edge', { ...body, logs: { ...logs, override: { level, until } } });
      try {
        const version = await putConfig(deps.db, {
          kind: 'edge',
          scope,
          body: next,
          ifMatch: current?.version ?? 0,
          actor,
        });
        await audit(deps.db, {
          actor,
          action: 'edge.log-level',
          target: `edge/${id}`,
          details: { level, minutes, until, version },
        });
        await deps.view.changed(`config/edge/${scope}`);
        return c.json({ edgeId: id, level, until, version }, 200);
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 'PRECONDITION_FAILED') || attempt >= ATTEMPTS)
          throw error;
      }
    }
  });
  return app;
}
