/**
 * Commands to an edge: `POST /v1/edges/{id}/commands` queues one in the edge's mailbox (it waits
 * there while the edge is offline; the actor's durable timer fails it when the deadline passes);
 * `GET /v1/edges/{id}/commands/{commandId}` reads its status from the edge actor's state (or, not
 * yet there, from the audit log: queued).
 */
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { and, eq, sql } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf } from '../auth.ts';
import { callerOf } from '../db/read-router.ts';
import { auditLog } from '../db/schema.ts';
import type { GatewayDeps } from '../deps.ts';
import { readCommands } from '../edge-states.ts';
import { ApiError } from '../errors.ts';
import { isRegistered } from '../register-edges.ts';
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  EdgeIdParam,
  ErrorSchema,
  json,
  jsonBody,
  jsonObject,
  safeString,
} from './schemas.ts';

const CommandRequest = z.object({
  type: safeString.min(1).max(64).openapi({ example: 'echo' }),
  args: jsonObject.optional(),
  deadlineSeconds: z.number().int().min(1).max(3600).default(60),
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

/** The command routes (mounted by `edgeRoutes`, behind its auth). */
export function edgeCommandRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, bus } = deps;
  const client = createActorClient(bus, edgeActor);

  app.openapi(sendCommand, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await isRegistered(db, id))) throw new ApiError('NOT_FOUND', `No edge ${id}`);
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
    // Its next GET of the command finds the audit record, whichever gateway answers (read-your-writes).
    await deps.reads?.wrote(callerOf(c.get('principal')));
    return c.json({ id: commandId, deadline }, 202);
  });

  app.openapi(getCommand, async (c) => {
    const { id, commandId } = c.req.valid('param');
    const record = (await readCommands(bus, id))[commandId];
    if (record === undefined) {
      // Not in the actor's state: still in the mailbox if this gateway's fleet sent it (the audit
      // log, a heavy read: the replica unless this caller sent it recently or it is away).
      const audit = (await deps.reads?.db(callerOf(c.get('principal')))) ?? db;
      const issued = await audit
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
