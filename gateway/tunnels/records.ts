/**
 * The sink handler that keeps tunnel rows and the port pool in step with the edge actors: tunnel
 * states onto their rows, and the ports and claims of a finished tunnel back to the pool
 * (idempotent: a batch may come twice); the claims a tunnel holds; tunnels by state.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Bus, tunnelClaim } from '../../bus/mod.ts';
import type { TunnelService } from '../../edge/mod.ts';
import type { Db } from '../db/database.ts';
import { tunnels } from '../db/schema.ts';
import type { SinkHandler } from '../outbox/sink.ts';

/** The claims a tunnel holds in the port pool: one per edge and service. */
export const tunnelClaims = (edgeId: string, services: readonly { name: string }[]) =>
  services.map((s) => tunnelClaim(edgeId, s.name));

export function recordTunnels(db: Db, bus: Bus): SinkHandler {
  return async (items) => {
    for (const { emittedAt, event } of items) {
      if (event.type !== 'tunnel.state' || typeof event.edgeId !== 'string') continue;
      const id = String(event.tunnelId);
      const state = String(event.state);
      const at = new Date(emittedAt);
      const reason = typeof event.reason === 'string' ? event.reason : null;
      if (state === 'open') {
        await db
          .update(tunnels)
          .set({ state: 'open', openedAt: at })
          .where(and(eq(tunnels.id, id), eq(tunnels.state, 'requested')));
        continue;
      }
      if (state !== 'closed' && state !== 'expired' && state !== 'failed') continue;
      await db
        .update(tunnels)
        .set({ state, reason, endedAt: at })
        .where(and(eq(tunnels.id, id), inArray(tunnels.state, ['requested', 'open'])));
      const services = (Array.isArray(event.services) ? event.services : []) as TunnelService[];
      const ports = services.flatMap((s) => (typeof s.remotePort === 'number' ? [s.remotePort] : []));
      await bus.releasePorts({ owner: id, ports, claims: tunnelClaims(event.edgeId, services) });
    }
  };
}

/** Tunnels by state, for the metrics. */
export async function tunnelCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .select({ state: tunnels.state, n: sql<number>`count(*)::int` })
    .from(tunnels)
    .groupBy(tunnels.state);
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}
