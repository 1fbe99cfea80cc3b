/**
 * Opening a tunnel: remote ports for the requested services from the shared pool, with a claim
 * per edge and service (one open tunnel each), the tunnel's row, and `tunnelOpen` to the edge
 * actor, whose durable timer closes it at its expiry. A failure after the ports were taken gives
 * them back and removes the row. A request for services an open tunnel already has returns that
 * tunnel; an ended tunnel whose ports the sink has not yet returned gives them back first.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import type { ActorClient } from '../../actors/mod.ts';
import { ClaimTakenError, PortsExhaustedError } from '../../bus/mod.ts';
import type { edgeActor } from '../../edge/mod.ts';
import { audit } from '../audit.ts';
import { tunnels } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { isRegistered } from '../register-edges.ts';
import { tunnelClaims } from './records.ts';
import type { TUNNEL_SERVICES } from './schemas.ts';
import { tunnelSecret } from './secret.ts';
import { liveTunnels, portsOf, type TunnelReader, type TunnelView, tunnelView } from './view.ts';

export interface OpenTunnelDeps extends TunnelReader {
  /** The edge actors' client (`tunnelOpen` goes to the edge's actor). */
  readonly edges: ActorClient<(typeof edgeActor)['handlers']>;
}

export interface OpenTunnelRequest {
  readonly edgeId: string;
  readonly services: readonly (typeof TUNNEL_SERVICES)[number][];
  readonly ttlSeconds: number;
  /** Who asks (recorded on the row and in the audit log). */
  readonly requestedBy: string;
}

/**
 * The tunnel, whether this request created it (`requested`) or found it open (`existing`), and in
 * multiplexed mode its secret when the caller is the one who opened it.
 */
export type OpenTunnelResult = {
  readonly outcome: 'requested' | 'existing';
  readonly tunnel: TunnelView;
  readonly secret?: string;
};

/** Takes ports and claims, records the tunnel and asks the edge actor to open it. */
export async function openTunnel(
  deps: OpenTunnelDeps,
  request: OpenTunnelRequest,
): Promise<OpenTunnelResult> {
  const { db, settings } = deps;
  const { edgeId, services, ttlSeconds } = request;
  if (ttlSeconds > settings.maxTtlSeconds)
    throw new ApiError('INVALID_REQUEST', `ttlSeconds: at most ${settings.maxTtlSeconds}`, [
      { path: 'ttlSeconds', message: `at most ${settings.maxTtlSeconds}` },
    ]);
  if (!(await isRegistered(db, edgeId))) throw new ApiError('NOT_FOUND', `No edge ${edgeId}`);
  const tunnelId = `t-${randomUUID()}`;
  const claimed = await claimPorts(deps, request, tunnelId);
  if ('existing' in claimed) {
    const { existing } = claimed;
    const secret =
      existing.requestedBy === request.requestedBy ? tunnelSecret(settings, existing.id) : undefined;
    return { outcome: 'existing', tunnel: existing, ...(secret === undefined ? {} : { secret }) };
  }
  const { ports } = claimed;
  const list = services.map((name, i) =>
    settings.mux === undefined
      ? { name, remotePort: ports[i] ?? null }
      : { name, remotePort: null, host: `${name}-${tunnelId}.${settings.mux.domain}` },
  );
  const secret = tunnelSecret(settings, tunnelId);
  try {
    const tunnel = await recordAndAsk(deps, request, { tunnelId, list, secret });
    return { outcome: 'requested', tunnel, ...(secret === undefined ? {} : { secret }) };
  } catch (error) {
    await deps.bus.releasePorts({ owner: tunnelId, ports, claims: tunnelClaims(edgeId, list) });
    await db.delete(tunnels).where(eq(tunnels.id, tunnelId));
    throw error;
  }
}

/**
 * Ports (none in multiplexed mode) and the claims for the services, or the open tunnel that
 * already has them all. CONFLICT when another open tunnel has some of them, UNAVAILABLE when the
 * pool is empty.
 */
async function claimPorts(
  deps: OpenTunnelDeps,
  { edgeId, services }: OpenTunnelRequest,
  tunnelId: string,
): Promise<{ ports: number[] } | { existing: TunnelView }> {
  const { db, bus, settings } = deps;
  for (let attempt = 0; ; attempt++) {
    try {
      const ports = await bus.allocatePorts({
        range: settings.ports,
        count: settings.mux === undefined ? services.length : 0,
        owner: tunnelId,
        claims: tunnelClaims(
          edgeId,
          services.map((name) => ({ name })),
        ),
      });
      return { ports };
    } catch (error) {
      if (error instanceof PortsExhaustedError) throw new ApiError('UNAVAILABLE', error.message);
      if (!(error instanceof ClaimTakenError) || attempt >= 20) throw error;
      // Another tunnel holds (some of) these services: return it when it has them all.
      const [row] = await db.select().from(tunnels).where(eq(tunnels.id, error.holder));
      if (row === undefined) {
        await delay(50); // another gateway has claimed but not yet recorded it
        continue;
      }
      const existing = tunnelView(settings, row, (await liveTunnels(deps, edgeId))[row.id]);
      if (existing.state !== 'requested' && existing.state !== 'open') {
        // Ended, its ports not yet returned by the sink: return them now (only the holder's go).
        await bus.releasePorts({
          owner: row.id,
          ports: portsOf(row.services),
          claims: tunnelClaims(edgeId, row.services),
        });
        continue;
      }
      const has = new Set(existing.services.map((s) => s.name));
      if (services.every((s) => has.has(s))) return { existing };
      throw new ApiError('CONFLICT', `Tunnel ${row.id} already has some of these services; close it first`, {
        tunnelId: row.id,
      });
    }
  }
}

/** The tunnel's row, `tunnelOpen` to the edge actor and the audit entry; the new tunnel. */
async function recordAndAsk(
  deps: OpenTunnelDeps,
  { edgeId, ttlSeconds, requestedBy }: OpenTunnelRequest,
  tunnel: {
    tunnelId: string;
    list: { name: string; remotePort: number | null; host?: string }[];
    secret: string | undefined;
  },
): Promise<TunnelView> {
  const { tunnelId, list, secret } = tunnel;
  const { db, settings } = deps;
  const now = Date.now();
  const expiresAt = now + ttlSeconds * 1000;
  const [row] = await db
    .insert(tunnels)
    .values({
      id: tunnelId,
      edgeId,
      services: list,
      state: 'requested',
      requestedBy,
      requestedAt: new Date(now),
      expiresAt: new Date(expiresAt),
    })
    .returning();
  await deps.edges.send(edgeId, 'tunnelOpen', {
    id: tunnelId,
    services: list,
    expiresAt,
    // The secret reaches the edge in its open command only (frpc's httpPassword); never the row.
    args: {
      ...(settings.serverAddr === undefined ? {} : { server: settings.serverAddr }),
      ...(secret === undefined ? {} : { secret }),
    },
  });
  await audit(db, {
    actor: requestedBy,
    action: 'tunnel.open',
    target: `edge/${edgeId}`,
    details: { tunnelId, services: list, expiresAt },
  });
  return tunnelView(settings, row!);
}
