/**
 * Fleet state: register and deregister edges (the link's fleet check follows), list and read
 * them with their live shadow, and send them commands — queued in the edge's mailbox even while
 * it is offline, failed by the actor's durable timer when the deadline passes.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { auditLog, edges } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { readCommands, readEdgeViews } from '../edge-states.ts';
import { ApiError } from '../errors.ts';
import { hashSecret, newSecret } from '../secrets.ts';
import { BROKER_UNAVAILABLE, edgeSecretRoutes, tellBroker } from './edge-secrets.ts';
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  EdgeIdParam,
  ErrorSchema,
  ID_PATTERN,
  json,
  jsonBody,
  jsonObject,
  safeRecord,
  safeString,
} from './schemas.ts';

const EdgeSchema = z
  .object({
    id: z.string(),
    groupId: z.string().nullable(),
    labels: z.record(z.string(), z.string()),
    online: z.boolean(),
    lastSeen: z.number().nullable(),
    transport: z.string().nullable(),
    status: z.record(z.string(), z.unknown()).nullable(),
    birth: z.record(z.string(), z.unknown()).nullable(),
    health: z.record(z.string(), z.unknown()).nullable(),
    openAlarms: z.record(z.string(), z.unknown()),
    node: z.string().nullable(),
  })
  .openapi('Edge');

const NewEdge = z.object({
  id: EdgeIdParam.shape.id,
  groupId: safeString.regex(ID_PATTERN, 'a group id: 1–128 characters of [A-Za-z0-9_.:-]').optional(),
  labels: safeRecord(safeString.max(256)).optional(),
});

const CommandRequest = z.object({
  type: safeString.min(1).max(64).openapi({ example: 'echo' }),
  args: jsonObject.optional(),
  deadlineSeconds: z.number().int().min(1).max(3600).default(60),
});

const list = createRoute({
  method: 'get',
  path: '/v1/edges',
  summary: 'List edges with their live state',
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(100),
      after: safeString.max(128).optional().openapi({ description: 'The last id of the previous page' }),
      group: safeString.max(128).optional(),
    }),
  },
  responses: {
    200: json(z.object({ edges: z.array(EdgeSchema), next: z.string().nullable() }), 'A page of edges'),
    ...AUTH_ERRORS,
  },
});

const get = createRoute({
  method: 'get',
  path: '/v1/edges/{id}',
  summary: 'One edge with its live state',
  request: { params: EdgeIdParam },
  responses: { 200: json(EdgeSchema, 'The edge'), 404: json(ErrorSchema, 'No such edge'), ...AUTH_ERRORS },
});

const register = createRoute({
  method: 'post',
  path: '/v1/edges',
  summary: 'Register an edge; its secret is returned once',
  request: { body: jsonBody(NewEdge) },
  responses: {
    201: json(z.object({ id: z.string(), secret: z.string() }), 'Registered'),
    409: json(ErrorSchema, 'Already registered'),
    ...BROKER_UNAVAILABLE,
    ...BODY_ERRORS,
  },
});

const deregister = createRoute({
  method: 'delete',
  path: '/v1/edges/{id}',
  summary: 'Deregister an edge (the broker cuts it off; its messages are refused from then on)',
  request: { params: EdgeIdParam },
  responses: {
    204: { description: 'Deregistered' },
    404: json(ErrorSchema, 'No such edge'),
    ...BROKER_UNAVAILABLE,
    ...AUTH_ERRORS,
  },
});

const sendCommand = createRoute({
  method: 'post',
  path: '/v1/edges/{id}/commands',
  summary: 'Send a command; it waits in the mailbox while the edge is offline',
  request: { params: EdgeIdParam, body: jsonBody(CommandRequest) },
  responses: {
    202: json(z.object({ id: z.string(), deadline: z.number() }), 'Queued'),
    404: json(ErrorSchema, 'No such edge'),
    ...BODY_ERRORS,
  },
});

const getCommand = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/commands/{commandId}',
  summary: 'A command’s status: queued, sent, succeeded or failed',
  request: { params: EdgeIdParam.extend({ commandId: safeString.min(1).max(64) }) },
  responses: {
    404: json(ErrorSchema, 'No such command'),
    200: json(
      z.object({
        id: z.string(),
        status: z.enum(['queued', 'sent', 'succeeded', 'failed']),
        result: z.unknown().optional(),
        error: z.string().optional(),
      }),
      'The command',
    ),
    ...AUTH_ERRORS,
  },
});

export function edgeRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, redis, keyspace, view } = deps;
  const client = createActorClient(redis, keyspace, edgeActor);
  const exists = async (id: string) =>
    (await db.select({ id: edges.id }).from(edges).where(eq(edges.id, id))).length > 0;
  const shape = async (rows: (typeof edges.$inferSelect)[]) => {
    const views = await readEdgeViews(
      redis,
      keyspace,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({ id: r.id, groupId: r.groupId, labels: r.labels, ...views.get(r.id)! }));
  };

  app.use('/v1/edges', requireAuth(deps.auth, 'service'));
  app.use('/v1/edges/*', requireAuth(deps.auth, 'service'));
  // Changing the fleet itself is for operators.
  app.post('/v1/edges', requireAuth(deps.auth, 'operator'));
  app.delete('/v1/edges/:id', requireAuth(deps.auth, 'operator'));

  app.route('/', edgeSecretRoutes(deps));

  app.openapi(list, async (c) => {
    const { limit, after, group } = c.req.valid('query');
    const rows = await db
      .select()
      .from(edges)
      .where(and(after ? gt(edges.id, after) : undefined, group ? eq(edges.groupId, group) : undefined))
      .orderBy(asc(edges.id))
      .limit(limit);
    const next = rows.length === limit ? rows[rows.length - 1]!.id : null;
    return c.json({ edges: await shape(rows), next }, 200);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const rows = await db.select().from(edges).where(eq(edges.id, id));
    if (rows.length === 0) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    return c.json((await shape(rows))[0]!, 200);
  });

  app.openapi(register, async (c) => {
    const principal = c.get('principal');
    const body = c.req.valid('json');
    const secret = newSecret('dhe');
    const inserted = await db
      .insert(edges)
      .values({
        id: body.id,
        groupId: body.groupId ?? null,
        labels: body.labels ?? {},
        secretHash: hashSecret(secret),
      })
      .onConflictDoNothing()
      .returning({ id: edges.id });
    if (inserted.length === 0) throw new ApiError('CONFLICT', `Edge ${body.id} is already registered`);
    // The broker takes the edge before 201, so it can connect at once; if it cannot, nothing stays.
    const broker = deps.broker;
    if (broker !== undefined) {
      await tellBroker(`edge ${body.id}'s identity`, () => broker.ensureEdge(body.id, secret)).catch(
        async (error: unknown) => {
          await db.delete(edges).where(eq(edges.id, body.id));
          throw error;
        },
      );
    }
    await redis.sadd(keyspace.fleet, body.id);
    await audit(db, {
      actor: actorOf(principal),
      action: 'edge.register',
      target: `edge/${body.id}`,
      details: { groupId: body.groupId },
    });
    await view.changed(`edge/${body.id}`);
    return c.json({ id: body.id, secret }, 201);
  });

  app.openapi(deregister, async (c) => {
    const principal = c.get('principal');
    const { id } = c.req.valid('param');
    // The broker first (it kicks the edge): a broker that cannot be told leaves the edge registered.
    const broker = deps.broker;
    if (broker !== undefined) {
      if (!(await exists(id))) throw new ApiError('NOT_FOUND', `No edge ${id}`);
      await tellBroker(`the removal of edge ${id}`, () => broker.removeEdge(id));
    }
    const deleted = await db.delete(edges).where(eq(edges.id, id)).returning({ id: edges.id });
    if (deleted.length === 0) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    await redis.srem(keyspace.fleet, id);
    deps.auth.forget();
    await audit(db, { actor: actorOf(principal), action: 'edge.deregister', target: `edge/${id}` });
    await view.changed(`edge/${id}`);
    return c.body(null, 204);
  });

  app.openapi(sendCommand, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await exists(id))) throw new ApiError('NOT_FOUND', `No edge ${id}`);
    const { type, args, deadlineSeconds } = c.req.valid('json');
    const commandId = `c-${randomUUID()}`;
    const deadline = Date.now() + deadlineSeconds * 1000;
    await client.send(id, 'command', { id: commandId, type, args: args ?? {}, deadline });
    await audit(db, {
      actor: actorOf(c.get('principal')),
      action: 'edge.command',
      target: `edge/${id}`,
      details: { commandId, type, deadline },
    });
    return c.json({ id: commandId, deadline }, 202);
  });

  app.openapi(getCommand, async (c) => {
    const { id, commandId } = c.req.valid('param');
    const record = (await readCommands(redis, keyspace, id))[commandId];
    if (record === undefined) {
      // Not in the actor's state: still in the mailbox if this gateway's fleet sent it.
      const issued = await db
        .select({ id: auditLog.id })
        .from(auditLog)
        .where(
          and(
            eq(auditLog.target, `edge/${id}`),
            eq(auditLog.action, 'edge.command'),
            sql`${auditLog.details}->>'commandId' = ${commandId}`,
          ),
        )
        .limit(1);
      if (issued.length === 0) throw new ApiError('NOT_FOUND', `No command ${commandId} for edge ${id}`);
      return c.json({ id: commandId, status: 'queued' as const }, 200);
    }
    return c.json(
      {
        id: commandId,
        status: record.status,
        ...(record.result === undefined ? {} : { result: record.result }),
        ...(record.error === undefined ? {} : { error: record.error }),
      },
      200,
    );
  });

  return app;
}
