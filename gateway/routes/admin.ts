/**
 * The gateway's own settings: API keys (admin) and the broker pool edges are spread over
 * (operator). Every change is audited; a broker change re-spreads edges at once.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, createApiKey, requireAuth } from '../auth.ts';
import { API_SCOPES, apiKeys, brokers } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { ApiError } from '../errors.ts';
import { AUTH_ERRORS, BODY_ERRORS, ErrorSchema, json, jsonBody, safeString } from './schemas.ts';

const BrokerSchema = z
  .object({
    id: z.string(),
    transport: z.enum(['mqtt', 'kafka']),
    address: safeString.min(3).max(1024).openapi({ example: 'mqtt://broker-1:1883' }),
    weight: z.number().int().min(0).max(1000),
  })
  .openapi('Broker');
const BrokerId = safeString
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a broker id: 1–64 characters of [A-Za-z0-9_.:-]')
  .openapi({ param: { name: 'id', in: 'path' } });

const createKey = createRoute({
  method: 'post',
  path: '/v1/api-keys',
  summary: 'Create an API key; the key is returned once',
  request: { body: jsonBody(z.object({ name: safeString.min(1).max(128), scope: z.enum(API_SCOPES) })) },
  responses: { 201: json(z.object({ id: z.string(), key: z.string() }), 'Created'), ...BODY_ERRORS },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/v1/api-keys/{id}',
  summary: 'Revoke an API key',
  request: { params: z.object({ id: safeString.max(128).openapi({ param: { name: 'id', in: 'path' } }) }) },
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
  const { db, view } = deps;
  app.use('/v1/api-keys', requireAuth(deps.auth, 'admin'));
  app.use('/v1/api-keys/*', requireAuth(deps.auth, 'admin'));
  app.use('/v1/brokers', requireAuth(deps.auth, 'operator'));
  app.use('/v1/brokers/*', requireAuth(deps.auth, 'operator'));

  app.openapi(createKey, async (c) => {
    const body = c.req.valid('json');
    const created = await createApiKey(db, body);
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'api-key.create',
      target: `api-key/${created.id}`,
      details: { name: body.name, scope: body.scope },
    });
    return c.json(created, 201);
  });

  app.openapi(revokeKey, async (c) => {
    const { id } = c.req.valid('param');
    const revoked = await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.id, id))
      .returning({ id: apiKeys.id });
    if (revoked.length === 0) throw new ApiError('NOT_FOUND', `No API key ${id}`);
    deps.auth.forget();
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'api-key.revoke',
      target: `api-key/${id}`,
    });
    await view.changed(`api-key/${id}`);
    return c.body(null, 204);
  });

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

  return app;
}
