/**
 * A tunnel as the API shows it: its row with the edge actor's live state laid over it (fresher
 * than the sink's copy), and for each service how an operator connects through the tunnel server.
 */
import { and, eq } from 'drizzle-orm';
import type { Bus } from '../../bus/mod.ts';
import type { TunnelRecord } from '../../edge/mod.ts';
import type { Db } from '../db/database.ts';
import { tunnels } from '../db/schema.ts';
import type { TunnelSettings } from '../deps.ts';
import { readTunnels } from '../edge-states.ts';
import { ApiError } from '../errors.ts';

export type TunnelRow = typeof tunnels.$inferSelect;

/** The remote ports a tunnel's services hold. */
export const portsOf = (services: TunnelRow['services']) =>
  services.flatMap((s) => (s.remotePort === null ? [] : [s.remotePort]));

/** How an operator reaches a service through the tunnel server. */
export function connectHint(settings: TunnelSettings, s: TunnelRow['services'][number]): string | null {
  const host = settings.publicHost;
  if (s.host !== undefined && settings.mux !== undefined) {
    // One public port for every tunnel: HTTP CONNECT to it, asking for the service's name, with
    // the tunnel's id and secret (DH_TUNNEL_SECRET, from the open response) as proxy credentials.
    const via = `${host}:${settings.mux.port}`;
    if (s.name === 'ssh') return `ssh -o ProxyCommand='devicehub connect --via ${via} %h:%p' root@${s.host}`;
    const tunnelId = tunnelIdOfHost(s.host) ?? '<tunnel id>';
    return `curl --proxytunnel -x http://${via} --proxy-user "${tunnelId}:$DH_TUNNEL_SECRET" http://${s.host}/`;
  }
  if (s.remotePort === null) return null;
  if (s.name === 'ssh') return `ssh -p ${s.remotePort} root@${host}`;
  return `http://${host}:${s.remotePort}/`;
}

/** The tunnel id in a multiplexed service's name (`<service>-<tunnelId>.<domain>`). */
export function tunnelIdOfHost(host: string): string | undefined {
  return /^[a-z]+-(t-[A-Za-z0-9-]+)\./.exec(host)?.[1];
}

/** The row with the actor's live state laid over it (fresher than the sink's copy). */
export function tunnelView(settings: TunnelSettings, row: TunnelRow, live?: TunnelRecord) {
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
}

export type TunnelView = ReturnType<typeof tunnelView>;

/** What reading tunnels needs: the database, the edge actors' state in Redis, the settings. */
export interface TunnelReader {
  readonly db: Db;
  readonly bus: Bus;
  readonly settings: TunnelSettings;
}

/** The edge's tunnels as its actor keeps them (live state). */
export const liveTunnels = (deps: TunnelReader, edgeId: string) => readTunnels(deps.bus, edgeId);

/** One tunnel of an edge, live; NOT_FOUND when the edge has no such tunnel. */
export async function findTunnel(deps: TunnelReader, edgeId: string, tunnelId: string): Promise<TunnelView> {
  const [row] = await deps.db
    .select()
    .from(tunnels)
    .where(and(eq(tunnels.id, tunnelId), eq(tunnels.edgeId, edgeId)));
  if (row === undefined) throw new ApiError('NOT_FOUND', `No tunnel ${tunnelId} for edge ${edgeId}`);
  return tunnelView(deps.settings, row, (await liveTunnels(deps, edgeId))[tunnelId]);
}
