/**
 * Remote access on demand: `POST /v1/edges/{id}/tunnels` takes remote ports for the requested
 * services from the shared pool (with a claim per edge and service: one open tunnel each),
 * records the tunnel and asks the edge actor to open it; the actor's durable timer closes it at
 * its expiry. The gateway's outbox sink follows the actor's `tunnel.state` events onto the row
 * and gives the ports back when the tunnel ends. A second request for services an open tunnel
 * already has returns that tunnel.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { and, desc, eq } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { allocatePorts, ClaimTakenError, PortsExhaustedError, releasePorts } from '../../bus/mod.ts';
import { edgeActor, type TunnelRecord } from '../../edge/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { edges, tunnels } from '../db/schema.ts';
import type { GatewayDeps, TunnelSettings } from '../deps.ts';
import { readTunnels } from '../edge-states.ts';
import { ApiError } from '../errors.ts';
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  EdgeIdParam,
  ErrorSchema,
  json,
  jsonBody,
  safeString,
} from '../routes/schemas.ts';
import { tunnelClaims } from './records.ts';

export const TUNNEL_SERVICES = ['ssh', 'camera', 'console'] as const;

export const DEFAULT_TUNNEL_SETTINGS: TunnelSettings = {
  ports: { low: 20_000, high: 20_999 },
  defaultTtlSeconds: 1800,
  maxTtlSeconds: 4 * 3600,
  publicHost: '127.0.0.1',
};

const TunnelSchema = z
  .object({
    id: z.string(),
    edgeId: z.string(),
    state: z.enum(['requested', 'open', 'closed', 'expired', 'failed']),
    reason: z.string().nullable(),
    services: z.array(
      z.object({
        name: z.string(),
        remotePort: z.number().nullable(),
        host: z.string().optional().openapi({ description: 'Multiplexed mode: the name to CONNECT to' }),
        connect: z.string().nullable().openapi({ example: 'ssh -p 20001 root@tunnels.example.com' }),
      }),
    ),
    requestedBy: z.string(),
    requestedAt: z.string(),
    expiresAt: z.string(),
    openedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
  })
  .openapi('Tunnel');

const OpenRequest = z.object({
  services: z
    .array(z.enum(TUNNEL_SERVICES))
    .min(1)
    .max(TUNNEL_SERVICES.length)
    .refine((s) => new Set(s).size === s.length, 'services must not repeat')
    .openapi({ example: ['ssh', 'camera'], uniqueItems: true }),
  ttlSeconds: z.number().int().min(1).optional().openapi({ description: 'Default 1800 (30 minutes)' }),
});

const TunnelParams = EdgeIdParam.extend({
  tunnelId: safeString.regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a tunnel id: 1–64 characters of [A-Za-z0-9_.:-]'),
});

const open = createRoute({
  method: 'post',
  path: '/v1/edges/{id}/tunnels',
  summary: 'Open a remote-access tunnel (or get the open one for these services)',
  request: { params: EdgeIdParam, body: jsonBody(OpenRequest) },
  responses: {
    202: json(TunnelSchema, 'Requested: the edge is asked to open it'),
    200: json(TunnelSchema, 'Already open (or being opened) for these services'),
    404: json(ErrorSchema, 'No such edge'),
    409: json(ErrorSchema, 'Some of the services are in another open tunnel'),
    503: json(ErrorSchema, 'No free remote ports'),
    ...BODY_ERRORS,
  },
});

const list = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/tunnels',
  summary: 'The edge’s recent tunnels, newest first',
  request: { params: EdgeIdParam },
  responses: { 200: json(z.object({ tunnels: z.array(TunnelSchema) }), 'Tunnels'), ...AUTH_ERRORS },
});

const get = createRoute({
  method: 'get',
  path: '/v1/edges/{id}/tunnels/{tunnelId}',
  summary: 'A tunnel: its state and how to connect',
  request: { params: TunnelParams },
  responses: {
    200: json(TunnelSchema, 'The tunnel'),
    404: json(ErrorSchema, 'No such tunnel'),
    ...AUTH_ERRORS,
  },
});

const close = createRoute({
  method: 'delete',
  path: '/v1/edges/{id}/tunnels/{tunnelId}',
  summary: 'Close a tunnel (its ports return to the pool once the edge has been told)',
  request: { params: TunnelParams },
  responses: { 202: json(TunnelSchema, 'Closing'), 404: json(ErrorSchema, 'No such tunnel'), ...AUTH_ERRORS },
});

type Row = typeof tunnels.$inferSelect;

const portsOf = (services: Row['services']) =>
  services.flatMap((s) => (s.remotePort === null ? [] : [s.remotePort]));

/** How an operator reaches a service through the tunnel server. */
function connectHint(settings: TunnelSettings, s: Row['services'][number]): string | null {
  const host = settings.publicHost;
  if (s.host !== undefined && settings.mux !== undefined) {
    // One public port for every tunnel: HTTP CONNECT to it, asking for the service's name.
    const via = `${host}:${settings.mux.port}`;
    if (s.name === 'ssh') return `ssh -o ProxyCommand='devicehub connect --via ${via} %h:%p' root@${s.host}`;
    return `curl --proxytunnel -x http://${via} http://${s.host}/`;
  }
  if (s.remotePort === null) return null;
  if (s.name === 'ssh') return `ssh -p ${s.remotePort} root@${host}`;
  return `http://${host}:${s.remotePort}/`;
}

export function tunnelRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, redis, keyspace } = deps;
  const settings = deps.tunnels ?? DEFAULT_TUNNEL_SETTINGS;
  const client = createActorClient(redis, keyspace, edgeActor);

  /** The row with the actor's live state laid over it (fresher than the sink's copy). */
  const view = (row: Row, live?: TunnelRecord) => {
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      id: row.id,
      edgeId: row.edgeId,
      state: live?.state ?? row.state,
      reason: live?.reason ?? row.reason,
      services: row.services.map((s) => ({ ...s, connect: connectHint(settings, s) })),
      requestedBy: row.requestedBy,
      requestedAt: row.requestedAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      openedAt: iso(live?.openedAt) ?? row.openedAt?.toISOString() ?? null,
      endedAt: iso(live?.endedAt) ?? row.endedAt?.toISOString() ?? null,
    };
  };
  const liveTunnels = (edgeId: string) => readTunnels(redis, keyspace, edgeId);
  const find = async (edgeId: string, tunnelId: string) => {
    const [row] = await db
      .select()
      .from(tunnels)
      .where(and(eq(tunnels.id, tunnelId), eq(tunnels.edgeId, edgeId)));
    if (row === undefined) throw new ApiError('NOT_FOUND', `No tunnel ${tunnelId} for edge ${edgeId}`);
    return view(row, (await liveTunnels(edgeId))[tunnelId]);
  };

  app.use('/v1/edges/:id/tunnels', requireAuth(deps.auth, 'service'));
  app.use('/v1/edges/:id/tunnels/*', requireAuth(deps.auth, 'service'));
  // Opening and closing remote access to an elevator is for operators.
  app.post('/v1/edges/:id/tunnels', requireAuth(deps.auth, 'operator'));
  app.delete('/v1/edges/:id/tunnels/:tunnelId', requireAuth(deps.auth, 'operator'));

  app.openapi(open, async (c) => {
    const { id: edgeId } = c.req.valid('param');
    const { services, ttlSeconds = settings.defaultTtlSeconds } = c.req.valid('json');
    if (ttlSeconds > settings.maxTtlSeconds)
      throw new ApiError('INVALID_REQUEST', `ttlSeconds: at most ${settings.maxTtlSeconds}`, [
        { path: 'ttlSeconds', message: `at most ${settings.maxTtlSeconds}` },
      ]);
    if ((await db.select({ id: edges.id }).from(edges).where(eq(edges.id, edgeId))).length === 0)
      throw new ApiError('NOT_FOUND', `No edge ${edgeId}`);
    const tunnelId = `t-${randomUUID()}`;
    let ports: number[] | undefined;
    for (let attempt = 0; ports === undefined; attempt++) {
      try {
        ports = await allocatePorts(redis, keyspace, {
          range: settings.ports,
          count: settings.mux === undefined ? services.length : 0,
          owner: tunnelId,
          claims: tunnelClaims(
            edgeId,
            services.map((name) => ({ name })),
          ),
        });
      } catch (error) {
        if (error instanceof PortsExhaustedError) throw new ApiError('UNAVAILABLE', error.message);
        if (!(error instanceof ClaimTakenError) || attempt >= 20) throw error;
        // Another tunnel holds (some of) these services: return it when it has them all.
        const [row] = await db.select().from(tunnels).where(eq(tunnels.id, error.holder));
        if (row === undefined) {
          await delay(50); // another gateway has claimed but not yet recorded it
          continue;
        }
        const existing = view(row, (await liveTunnels(edgeId))[row.id]);
        if (existing.state !== 'requested' && existing.state !== 'open') {
          // Ended, its ports not yet returned by the sink: return them now (only the holder's go).
          await releasePorts(
            redis,
            keyspace,
            row.id,
            portsOf(row.services),
            tunnelClaims(edgeId, row.services),
          );
          continue;
        }
        const has = new Set(existing.services.map((s) => s.name));
        if (services.every((s) => has.has(s))) return c.json(existing, 200);
        throw new ApiError(
          'CONFLICT',
          `Tunnel ${row.id} already has some of these services; close it first`,
          {
            tunnelId: row.id,
          },
        );
      }
    }
    const list = services.map((name, i) =>
      settings.mux === undefined
        ? { name, remotePort: ports[i] ?? null }
        : { name, remotePort: null, host: `${name}-${tunnelId}.${settings.mux.domain}` },
    );
    const now = Date.now();
    const expiresAt = now + ttlSeconds * 1000;
    const principal = c.get('principal');
    try {
      const [row] = await db
        .insert(tunnels)
        .values({
          id: tunnelId,
          edgeId,
          services: list,
          state: 'requested',
          requestedBy: actorOf(principal),
          requestedAt: new Date(now),
          expiresAt: new Date(expiresAt),
        })
        .returning();
      await client.send(edgeId, 'tunnelOpen', {
        id: tunnelId,
        services: list,
        expiresAt,
        args: settings.serverAddr === undefined ? {} : { server: settings.serverAddr },
      });
      await audit(db, {
        actor: actorOf(principal),
        action: 'tunnel.open',
        target: `edge/${edgeId}`,
        details: { tunnelId, services: list, expiresAt },
      });
      return c.json(view(row!), 202);
    } catch (error) {
      await releasePorts(redis, keyspace, tunnelId, ports, tunnelClaims(edgeId, list));
      await db.delete(tunnels).where(eq(tunnels.id, tunnelId));
      throw error;
    }
  });

  app.openapi(list, async (c) => {
    const { id: edgeId } = c.req.valid('param');
    const rows = await db
      .select()
      .from(tunnels)
      .where(eq(tunnels.edgeId, edgeId))
      .orderBy(desc(tunnels.requestedAt))
      .limit(50);
    const live = await liveTunnels(edgeId);
    return c.json({ tunnels: rows.map((r) => view(r, live[r.id])) }, 200);
  });

  app.openapi(get, async (c) => {
    const { id, tunnelId } = c.req.valid('param');
    return c.json(await find(id, tunnelId), 200);
  });

  app.openapi(close, async (c) => {
    const { id, tunnelId } = c.req.valid('param');
    const tunnel = await find(id, tunnelId);
    if (tunnel.state === 'requested' || tunnel.state === 'open') {
      await client.send(id, 'tunnelClose', {
        id: tunnelId,
        reason: `closed by ${actorOf(c.get('principal'))}`,
      });
      await audit(db, {
        actor: actorOf(c.get('principal')),
        action: 'tunnel.close',
        target: `edge/${id}`,
        details: { tunnelId },
      });
    }
    return c.json(tunnel, 202);
  });

  return app;
}
