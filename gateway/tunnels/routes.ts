/**
 * Remote access on demand: `POST /v1/edges/{id}/tunnels` opens a tunnel (`openTunnel`: ports and
 * claims from the shared pool, the row, `tunnelOpen` to the edge actor, whose durable timer closes
 * it at its expiry); list, get and close. The gateway's outbox sink follows the actor's
 * `tunnel.state` events onto the row and gives the ports back when the tunnel ends. A second
 * request for services an open tunnel already has returns that tunnel.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { desc, eq } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { audit } from '../audit.ts';
import { type AuthEnv, actorOf, requireAuth } from '../auth.ts';
import { callerOf } from '../db/read-router.ts';
import { tunnels } from '../db/schema.ts';
import type { GatewayDeps, TunnelSettings } from '../deps.ts';
import { type OpenTunnelDeps, openTunnel } from './open-tunnel.ts';
import { closeRoute, getRoute, listRoute, openRoute } from './schemas.ts';
import { findTunnel, liveTunnels, tunnelView } from './view.ts';

export const DEFAULT_TUNNEL_SETTINGS: TunnelSettings = {
  ports: { low: 20_000, high: 20_999 },
  defaultTtlSeconds: 1800,
  maxTtlSeconds: 4 * 3600,
  publicHost: '127.0.0.1',
};

export function tunnelRoutes(deps: GatewayDeps) {
  const app = new OpenAPIHono<AuthEnv>();
  const { db, bus } = deps;
  const settings = deps.tunnels ?? DEFAULT_TUNNEL_SETTINGS;
  const service: OpenTunnelDeps = {
    db,
    bus,
    settings,
    edges: createActorClient(bus, edgeActor),
  };

  app.use('/v1/edges/:id/tunnels', requireAuth(deps.auth, 'service'));
  app.use('/v1/edges/:id/tunnels/*', requireAuth(deps.auth, 'service'));
  // Opening and closing remote access to an elevator is for operators.
  app.post('/v1/edges/:id/tunnels', requireAuth(deps.auth, 'operator'));
  app.delete('/v1/edges/:id/tunnels/:tunnelId', requireAuth(deps.auth, 'operator'));

  app.openapi(openRoute, async (c) => {
    const { id: edgeId } = c.req.valid('param');
    const { services, ttlSeconds = settings.defaultTtlSeconds } = c.req.valid('json');
    const requestedBy = actorOf(c.get('principal'));
    const opened = await openTunnel(service, { edgeId, services, ttlSeconds, requestedBy });
    // Its next list shows the new tunnel, whichever gateway answers it (read-your-writes).
    await deps.reads?.wrote(callerOf(c.get('principal')));
    const body = opened.secret === undefined ? opened.tunnel : { ...opened.tunnel, secret: opened.secret };
    return opened.outcome === 'existing' ? c.json(body, 200) : c.json(body, 202);
  });

  app.openapi(listRoute, async (c) => {
    const { id: edgeId } = c.req.valid('param');
    // The tunnel history is a heavy read: the replica, unless this caller wrote recently or it is away.
    const reads = (await deps.reads?.db(callerOf(c.get('principal')))) ?? db;
    const rows = await reads
      .select()
      .from(tunnels)
      .where(eq(tunnels.edgeId, edgeId))
      .orderBy(desc(tunnels.requestedAt))
      .limit(50);
    const live = await liveTunnels(service, edgeId);
    return c.json({ tunnels: rows.map((r) => tunnelView(settings, r, live[r.id])) }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { id, tunnelId } = c.req.valid('param');
    return c.json(await findTunnel(service, id, tunnelId), 200);
  });

  app.openapi(closeRoute, async (c) => {
    const { id, tunnelId } = c.req.valid('param');
    const tunnel = await findTunnel(service, id, tunnelId);
    if (tunnel.state === 'requested' || tunnel.state === 'open') {
      await service.edges.send(id, 'tunnelClose', {
        id: tunnelId,
        reason: `closed by ${actorOf(c.get('principal'))}`,
      });
      await audit(db, {
        actor: actorOf(c.get('principal')),
        action: 'tunnel.close',
        target: `edge/${id}`,
        details: { tunnelId },
      });
      await deps.reads?.wrote(callerOf(c.get('principal')));
    }
    return c.json(tunnel, 202);
  });

  return app;
}
