/**
 * Sink handlers that keep the database and the port pool in step with the actors: alarm starts
 * and ends into the partitioned alarm history, tunnel states onto their rows — and the ports and
 * claims of a finished tunnel back to the pool. Both idempotent (a batch may come twice).
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Keyspace, type Redis, releasePorts } from '../../bus/mod.ts';
import type { TunnelService } from '../../edge/mod.ts';
import type { Db } from '../db/database.ts';
import { alarms, tunnels } from '../db/schema.ts';
import type { SinkHandler } from './sink.ts';

const time = (value: unknown): Date | null =>
  typeof value === 'number' && Number.isFinite(value) ? new Date(value) : null;

export function recordAlarms(db: Db): SinkHandler {
  return async (items) => {
    const rows = items.flatMap(({ id, emittedAt, event }) => {
      if ((event.type !== 'alarm.start' && event.type !== 'alarm.end') || typeof event.edgeId !== 'string')
        return [];
      return [
        {
          eventId: id,
          recordedAt: new Date(emittedAt),
          edgeId: event.edgeId,
          alarm: String(event.alarm),
          phase: event.type === 'alarm.start' ? ('start' as const) : ('end' as const),
          at: time(event.at) ?? new Date(emittedAt),
          since: time(event.since),
          data: (event.data ?? {}) as Record<string, unknown>,
        },
      ];
    });
    if (rows.length > 0) await db.insert(alarms).values(rows).onConflictDoNothing();
  };
}

/** The claims a tunnel holds in the port pool: one per edge and service. */
export const tunnelClaims = (edgeId: string, services: readonly { name: string }[]) =>
  services.map((s) => `${edgeId}|${s.name}`);

export function recordTunnels(db: Db, redis: Redis, keyspace: Keyspace): SinkHandler {
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
      await releasePorts(redis, keyspace, id, ports, tunnelClaims(event.edgeId, services));
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
