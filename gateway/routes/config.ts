/**
 * Configuration for every module kind (`edge`, `devicehub`, `screen`): versioned documents per
 * scope (global → group → module), merged on read. `GET /v1/config/{kind}/{id}` answers with an
 * ETag, 304 to a matching `If-None-Match`, and waits up to `?wait=` seconds for a change first
 * (long-poll), so an edge hears of a new configuration at once. Writes check `If-Match`.
 */
import { createRoute, OpenAPIHono, type RouteHandler, z } from '@hono/zod-openapi';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { checkScope, configHistory, configVersion, putConfig } from '../config-store.ts';
import { CONFIG_KINDS } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { GATED_RECHECK_MS } from '../rollouts/mod.ts';
import { parseDocument } from './config-documents.ts';
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  ErrorSchema,
  ID_PATTERN,
  json,
  jsonBody,
  jsonObject,
  safeString,
} from './schemas.ts';

const Kind = z.enum(CONFIG_KINDS).openapi({ param: { name: 'kind', in: 'path' } });
const Id = safeString
  .regex(ID_PATTERN, 'an id: 1–128 characters of [A-Za-z0-9_.:-]')
  .openapi({ param: { name: 'id', in: 'path' } });
const Scope = safeString
  .regex(
    /^(global|group:[A-Za-z0-9_.:-]{1,128}|module:[A-Za-z0-9_.:-]{1,128})$/,
    'a scope: "global", "group:<id>" or "module:<id>"',
  )
  .openapi({ param: { name: 'scope', in: 'path' }, example: 'group:building-7' });
const Version = z.object({ kind: z.string(), scope: z.string(), version: z.number() });

const read = createRoute({
  method: 'get',
  path: '/v1/config/{kind}/{id}',
  summary: 'A module’s merged configuration (ETag, If-None-Match → 304, ?wait= long-poll)',
  // An API key, or an edge's own credentials for its own configuration.
  security: [{ apiKey: [] }, { edgeCredentials: [] }] as Record<string, string[]>[],
  request: {
    params: z.object({ kind: Kind, id: Id }),
    query: z.object({ wait: z.coerce.number().int().min(0).max(300).default(0) }),
  },
  responses: {
    200: json(z.record(z.string(), z.unknown()), 'The configuration'),
    304: { description: 'Unchanged' },
    404: json(ErrorSchema, 'No such edge'),
    ...AUTH_ERRORS,
  },
});

const write = createRoute({
  method: 'put',
  path: '/v1/config/{kind}/{scope}',
  summary: 'Write a new version of a document (If-Match: "<version>" the one you read; "0": new)',
  request: {
    params: z.object({ kind: Kind, scope: Scope }),
    body: jsonBody(jsonObject),
  },
  responses: {
    200: json(Version, 'Written'),
    412: json(ErrorSchema, 'Someone wrote another version meanwhile'),
    ...BODY_ERRORS,
  },
});

const history = createRoute({
  method: 'get',
  path: '/v1/config/{kind}/{scope}/history',
  summary: 'A document’s versions, newest first',
  request: { params: z.object({ kind: Kind, scope: Scope }) },
  responses: {
    200: json(
      z.object({
        versions: z.array(
          Version.extend({ body: z.unknown(), createdBy: z.string(), createdAt: z.string() }),
        ),
      }),
      'Versions',
    ),
    ...AUTH_ERRORS,
  },
});

const rollback = createRoute({
  method: 'post',
  path: '/v1/config/{kind}/{scope}/rollback',
  summary: 'Write an earlier version again as the newest',
  request: {
    params: z.object({ kind: Kind, scope: Scope }),
    body: jsonBody(
      z.object({
        version: z
          .number()
          .int()
          .min(1)
          .max(2 ** 31 - 1),
      }),
    ),
  },
  responses: { 200: json(Version, 'Rolled back'), 404: json(ErrorSchema, 'No such version'), ...BODY_ERRORS },
});

export function configRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();

  // Reads: every key, and an edge its own (checked in the handler); history: keys; writes: operators.
  app.get('/v1/config/:kind/:id', requireAuth(deps.auth, 'service', { edges: true }));
  app.get('/v1/config/:kind/:scope/history', requireAuth(deps.auth, 'service'));
  app.put('/v1/config/*', requireAuth(deps.auth, 'operator'));
  app.post('/v1/config/*', requireAuth(deps.auth, 'operator'));

  app.openapi(read, readConfig(deps));
  app.openapi(write, writeConfig(deps));
  app.openapi(history, readHistory(deps));
  app.openapi(rollback, rollBack(deps));
  return app;
}

/**
 * GET: the merged document, or 304 when the client's ETag is still current after `?wait=`. While a
 * configuration rollout runs, an edge it has not admitted gets the version before (the gate), and
 * its long-poll is woken by its admission (rollouts/config-gate.ts), and looks again every
 * GATED_RECHECK_MS in case that event was missed.
 */
function readConfig(deps: GatewayDeps): RouteHandler<typeof read, AuthEnv> {
  const { view, maxWaitSeconds = 60, configGate } = deps;
  return async (c) => {
    const { kind, id } = c.req.valid('param');
    const principal = c.get('principal');
    if (principal.kind === 'edge' && (kind !== 'edge' || principal.id !== id))
      throw new ApiError('FORBIDDEN', `Edge ${principal.id} may only fetch its own configuration`);
    const wait = Math.min(c.req.valid('query').wait, maxWaitSeconds);
    const seen = c.req.header('if-none-match');
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      const config = view.resolve(kind, id, await configGate?.pin(kind, id));
      if (config === undefined) throw new ApiError('NOT_FOUND', `No ${kind} ${id}`);
      if (config.etag !== seen) {
        c.header('etag', config.etag);
        // An edge's configuration may carry its new secret: no cache keeps it.
        c.header('cache-control', principal.kind === 'edge' ? 'no-store' : 'no-cache');
        if (principal.kind === 'edge') return c.json(await withNewSecret(deps, id, config.body), 200);
        return c.json(config.body, 200);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        c.header('etag', config.etag);
        return c.body(null, 304);
      }
      const waitMs = configGate?.active ? Math.min(left, GATED_RECHECK_MS) : left;
      await view.waitForChange(waitMs, c.req.raw.signal, { kind, id });
      if (c.req.raw.signal.aborted) return c.body(null, 304);
    }
  };
}

/** An edge's own configuration with the new secret a rotation left for it (only the edge sees it). */
async function withNewSecret(
  deps: GatewayDeps,
  id: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const credentials = body.credentials as { version: number } | undefined;
  // The database only while a rotation waits: not on every poll of every edge ever rotated.
  if (credentials === undefined || deps.credentials === undefined || !deps.view.secretPending(id))
    return body;
  const secret = await deps.credentials.rotations.pendingSecret(id);
  return secret === undefined ? body : { ...body, credentials: { ...credentials, secret } };
}

/** The version an `If-Match` header names (`"3"`, `W/"3"`), or undefined without one. */
function expectedVersion(ifMatch: string | undefined): number | undefined {
  const expected = ifMatch === undefined ? undefined : Number(ifMatch.replace(/^W\//, '').replace(/"/g, ''));
  if (expected !== undefined && !Number.isInteger(expected))
    throw new ApiError('INVALID_REQUEST', `If-Match must be a version like "3", got ${ifMatch}`);
  return expected;
}

/** PUT: a new version of the scope's document (`If-Match` checked), audited, every gateway told. */
function writeConfig({ db, view }: GatewayDeps): RouteHandler<typeof write, AuthEnv> {
  return async (c) => {
    const { kind, scope } = c.req.valid('param');
    checkScope(scope);
    const body = parseDocument(kind, c.req.valid('json'));
    const expected = expectedVersion(c.req.header('if-match'));
    const actor = actorOf(c.get('principal'));
    const version = await putConfig(db, { kind, scope, body, ifMatch: expected, actor });
    await audit(db, { actor, action: 'config.put', target: `config/${kind}/${scope}`, details: { version } });
    await view.changed(`config/${kind}/${scope}`);
    return c.json({ kind, scope, version }, 200);
  };
}

/** GET history: the scope's versions, newest first. */
function readHistory({ db }: GatewayDeps): RouteHandler<typeof history, AuthEnv> {
  return async (c) => {
    const { kind, scope } = c.req.valid('param');
    const rows = await configHistory(db, { kind, scope: checkScope(scope) });
    return c.json(
      {
        versions: rows.map((r) => ({
          kind: r.kind,
          scope: r.scope,
          version: r.version,
          body: r.body,
          createdBy: r.createdBy,
          createdAt: r.createdAt.toISOString(),
        })),
      },
      200,
    );
  };
}

/** POST rollback: an earlier version written again as the newest. */
function rollBack({ db, view }: GatewayDeps): RouteHandler<typeof rollback, AuthEnv> {
  return async (c) => {
    const { kind, scope } = c.req.valid('param');
    const old = await configVersion(db, {
      kind,
      scope: checkScope(scope),
      version: c.req.valid('json').version,
    });
    const actor = actorOf(c.get('principal'));
    const version = await putConfig(db, { kind, scope, body: old.body, actor });
    await audit(db, {
      actor,
      action: 'config.rollback',
      target: `config/${kind}/${scope}`,
      details: { to: old.version, version },
    });
    await view.changed(`config/${kind}/${scope}`);
    return c.json({ kind, scope, version }, 200);
  };
}
