/**
 * The gateway's own settings: API keys (admin: created with an end, listed with their ends,
 * rotated with a grace period for the key before, revoked) and the broker pool edges are spread
 * over (operator). Every change is audited (never a key); a broker change re-spreads edges at
 * once, a key's rotation or revocation reaches every gateway's cache at once.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import {
  createApiKey,
  KEY_LIFETIME_DAYS,
  listApiKeys,
  ROTATION_GRACE_SECONDS,
  rotateApiKey,
} from '../api-keys.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { API_SCOPES, apiKeys, brokers } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, BODY_ERRORS, ErrorSchema, json, jsonBody, safeString } from './schemas.ts';

const BrokerSchema = z
  .object({
    id: z.string(),
    transport: z.enum(['mqtt', 'kafka']),
    address: safeString.min(3).max(1024).openapi({
      example: 'mqtt://broker-1:1883',
      description:
        'mqtt://… or mqtts://… for MQTT; host:port,… for Kafka, or kafkas://host:port,… for SASL_SSL (edges log in as themselves)',
    }),
    weight: z.number().int().min(0).max(1000),
  })
  .openapi('Broker');
const BrokerId = safeString
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a broker id: 1–64 characters of [A-Za-z0-9_.:-]')
  .openapi({ param: { name: 'id', in: 'path' } });

const ExpiresInDays = z
  .number()
  .int()
  .min(KEY_LIFETIME_DAYS.min)
  .max(KEY_LIFETIME_DAYS.max)
  .optional()
  .openapi({ description: `The key's lifetime in days (default ${KEY_LIFETIME_DAYS.default})` });
const KeyId = z.object({ id: safeString.max(128).openapi({ param: { name: 'id', in: 'path' } }) });

const createKey = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  summary: 'Create an API key; the key is returned once',
  request: {
    body: jsonBody(
      z.object({ name: safeString.min(1).max(128), scope: z.enum(API_SCOPES), expiresInDays: ExpiresInDays }),
    ),
  },
  responses: {
    201: json(z.object({ id: z.string(), key: z.string(), expiresAt: z.string() }), 'Created'),
    ...BODY_ERRORS,
  },
});

const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(API_SCOPES),
    state: z.enum(['active', 'expired', 'revoked']),
    createdAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
    rotatedAt: z.string().nullable(),
    previousExpiresAt: z
      .string()
      .nullable()
      .openapi({ description: 'Until when the key before the last rotation works (null: it does not)' }),
  })
  .openapi('ApiKey');

const listKeys = createRoute({
  method: 'get',
  path: '/v1/api-keys',
  summary: 'API keys with their state and expiry (never the keys)',
  responses: { 200: json(z.object({ keys: z.array(ApiKeySchema) }), 'Keys'), ...AUTH_ERRORS },
});

const rotateKey = createRoute({
  method: 'post',
  path: '/v1/api-keys/{id}/rotate',
  summary: 'A new key under the same id (returned once); the key before works for a grace period',
  request: {
    params: KeyId,
    body: jsonBody(
      z.object({
        graceSeconds: z
          .number()
          .int()
          .min(ROTATION_GRACE_SECONDS.min)
          .max(ROTATION_GRACE_SECONDS.max)
          .optional()
          .openapi({
            description: `How long the key before keeps working (default ${ROTATION_GRACE_SECONDS.default}; 0: it stops now)`,
          }),
        expiresInDays: ExpiresInDays,
      }),
    ),
  },
  responses: {
    200: json(
      z.object({ id: z.string(), key: z.string(), expiresAt: z.string(), previousExpiresAt: z.string() }),
      'Rotated',
    ),
    404: json(ErrorSchema, 'No such key'),
    409: json(ErrorSchema, 'The key is revoked'),
    ...BODY_ERRORS,
  },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  summary: 'Revoke an API key',
  request: { params: KeyId },
  responses: { 204: { description: 'Revoked' }, 404: json(ErrorSchema, 'No such key'), ...AUTH_ERRORS },
});

const listBrokers = createRoute({
  method: 'get',
  path: '/v1/brokers',
  summary: 'The broker pool',
  responses: { 200: json(z.object({ brokers: z.array(BrokerSchema) }), 'Brokers'), ...AUTH_ERRORS },
});

const putBroker = createRoute({
  method: 'put',
  path: '/v1/brokers/{id}',
  summary: 'Add or change a broker of the pool',
  request: {
    params: z.object({ id: BrokerId }),
    body: jsonBody(BrokerSchema.omit({ id: true })),
  },
  responses: { 200: json(BrokerSchema, 'Stored'), ...BODY_ERRORS },
});

const deleteBroker = createRoute({
  method: 'delete',
  path: '/v1/brokers/{id}',
  summary: 'Remove a broker from the pool (its edges move to the others)',
  request: { params: z.object({ id: BrokerId }) },
  responses: { 204: { description: 'Removed' }, 404: json(ErrorSchema, 'No such broker'), ...AUTH_ERRORS },
});

export function adminRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  app.use('/v1/api-keys', requireAuth(deps.auth, 'admin'));
  app.use('/v1/api-keys/*', requireAuth(deps.auth, 'admin'));
  app.use('/v1/brokers', requireAuth(deps.auth, 'operator'));
  app.use('/v1/brokers/*', requireAuth(deps.auth, 'operator'));
  apiKeyRoutes(app, deps);
  brokerRoutes(app, deps);
  return app;
}

/** API keys (admin): create, list, rotate, revoke. */
function apiKeyRoutes(app: OpenAPIHono<AuthEnv>, deps: GatewayDeps): void {
  const { db, view } = deps;
  app.openapi(createKey, async (c) => {
    const body = c.req.valid('json');
    const created = await createApiKey(db, body);
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'api-key.create',
      target: `api-key/${created.id}`,
      details: { name: body.name, scope: body.scope, expiresAt: created.expiresAt.toISOString() },
    });
    return c.json({ id: created.id, key: created.key, expiresAt: created.expiresAt.toISOString() }, 201);
  });

  app.openapi(listKeys, async (c) => c.json({ keys: await listApiKeys(db) }, 200));

  app.openapi(rotateKey, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const rotated = await rotateApiKey(db, id, body);
    // The key before works only until previousExpiresAt: every gateway looks it up afresh.
    deps.auth.forgetKeys();
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'api-key.rotate',
      target: `api-key/${id}`,
      details: {
        expiresAt: rotated.expiresAt.toISOString(),
        previousExpiresAt: rotated.previousExpiresAt.toISOString(),
      },
    });
    await view.changed(`api-key/${id}`);
    return c.json(
      {
        id,
        key: rotated.key,
        expiresAt: rotated.expiresAt.toISOString(),
        previousExpiresAt: rotated.previousExpiresAt.toISOString(),
      },
      200,
    );
  });

  app.openapi(revokeKey, async (c) => {
    const { id } = c.req.valid('param');
    const revoked = await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.id, id))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) throw new ApiError('NOT_FOUND', `No API key ${id}`);
    deps.auth.forgetKeys();
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'api-key.revoke',
      target: `api-key/${id}`,
    });
    await view.changed(`api-key/${id}`);
    return c.body(null, 204);
  });
}

/** The broker pool (operator): list, add or change, remove. */
function brokerRoutes(app: OpenAPIHono<AuthEnv>, deps: GatewayDeps): void {
  const { db, view } = deps;
  app.openapi(listBrokers, async (c) => {
    const rows = await db.select().from(brokers).orderBy(brokers.id);
    return c.json({ brokers: rows.map(({ createdAt: _, ...b }) => b) }, 200);
  });

  app.openapi(putBroker, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    await db
      .insert(brokers)
      .values({ id, ...body })
      .onConflictDoUpdate({ target: brokers.id, set: body });
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'broker.put',
      target: `broker/${id}`,
      details: body,
    });
    await view.changed(`broker/${id}`);
    return c.json({ id, ...body }, 200);
  });

  app.openapi(deleteBroker, async (c) => {
    const { id } = c.req.valid('param');
    const deleted = await db.delete(brokers).where(eq(brokers.id, id)).returning({ id: brokers.id });
    if (deleted.length === 0) throw new ApiError('NOT_FOUND', `No broker ${id}`);
    await audit(db, { actor: actorOf(c.get('principal')), action: 'broker.delete', target: `broker/${id}` });
    await view.changed(`broker/${id}`);
    return c.body(null, 204);
  });
}
