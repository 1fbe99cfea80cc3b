/**
 * Tunnels of an edge actor: remote access opened on request and closed by request or by expiry.
 *
 * requested ──open result ok──▶ open ──close──▶ closed
 *     │                          └──expiry────▶ expired
 *     └──open failed / no answer before its deadline──▶ failed   (also closed / expired directly)
 *
 * The gateway allocates the remote ports and sends `tunnelOpen`; the actor sends the edge a
 * `tunnel.open` command, arms the durable `tunnels` timer for the expiry — it fires on whichever
 * node holds the edge then, so a tunnel closes itself even after its node died — and, on every
 * change of state, hands a `tunnel.state` event to the outbox (the gateway releases the ports of
 * a finished tunnel, records it, and tells the web backend and the live feed). Whenever a tunnel
 * ends the edge gets `tunnel.close` (harmless when it never opened).
 */
import type { ActorContext } from '../../actors/mod.ts';
import type { TunnelClosePayload, TunnelOpenPayload, TunnelRecord } from '../protocol/mod.ts';

/** Finished tunnels kept in the state (oldest go first). */
export const MAX_FINISHED_TUNNELS = 20;

/** The id of the command that opens tunnel `id` (results are matched to tunnels by it). */
export const openCommandId = (id: string) => `${id}.open`;
const closeCommandId = (id: string) => `${id}.close`;

export const isActive = (t: TunnelRecord) => t.state === 'requested' || t.state === 'open';

type Tunnels = Readonly<Record<string, TunnelRecord>>;

/** A command for the edge, as `issueCommand` in the edge actor sends it. */
export type IssueCommand = (command: {
  id: string;
  type: string;
  args: Record<string, unknown>;
  deadline: number;
}) => void;

/** What a tunnel change acts through: the actor's context and the command it issues to the edge. */
export interface TunnelActor {
  readonly ctx: ActorContext;
  readonly issue: IssueCommand;
}

/** How a tunnel ends: its id, its final state and why. */
interface Ending {
  readonly id: string;
  readonly state: 'closed' | 'expired' | 'failed';
  readonly reason: string;
}

function emitState(ctx: ActorContext, id: string, t: TunnelRecord): void {
  ctx.log.info(
    { tunnelId: id, state: t.state, ...(t.reason === undefined ? {} : { reason: t.reason }) },
    `tunnel ${t.state}`,
  );
  ctx.emit({
    type: 'tunnel.state',
    edgeId: ctx.id,
    tunnelId: id,
    state: t.state,
    services: t.services,
    expiresAt: t.expiresAt,
    ...(t.reason === undefined ? {} : { reason: t.reason }),
    ...(t.opened === undefined ? {} : { opened: t.opened }),
  });
}

/** Keeps every active tunnel and the newest finished ones. */
function trim(tunnels: Record<string, TunnelRecord>): Record<string, TunnelRecord> {
  const finished = Object.entries(tunnels)
    .filter(([, t]) => !isActive(t))
    .sort(([, a], [, b]) => (b.endedAt ?? 0) - (a.endedAt ?? 0));
  for (const [id] of finished.slice(MAX_FINISHED_TUNNELS)) delete tunnels[id];
  return tunnels;
}

/** Arms the `tunnels` timer for the earliest expiry of an active tunnel (or cancels it). */
function arm(tunnels: Tunnels, ctx: ActorContext): void {
  const due = Object.values(tunnels)
    .filter(isActive)
    .map((t) => t.expiresAt);
  if (due.length === 0) ctx.cancelTimer('tunnels');
  else ctx.setTimer('tunnels', Math.max(0, Math.min(...due) - ctx.now));
}

/** Validates an open request; returns the reason it is refused, if it is. */
export function invalidOpen(payload: TunnelOpenPayload): string | undefined {
  if (typeof payload?.id !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(payload.id))
    return 'id must be 1..64 characters of [A-Za-z0-9_.:-]';
  if (!Array.isArray(payload.services) || payload.services.length === 0 || payload.services.length > 8)
    return 'services must list 1..8 services';
  for (const s of payload.services)
    if (typeof s?.name !== 'string' || !(s.remotePort === null || Number.isInteger(s.remotePort)))
      return 'each service needs a name and a remotePort (integer or null)';
  if (!Number.isFinite(payload.expiresAt)) return 'expiresAt must be a time in ms';
  return undefined;
}

/** `tunnelOpen`: records the tunnel, asks the edge to open it, arms the expiry. */
export function openTunnel(
  tunnels: Tunnels,
  payload: TunnelOpenPayload,
  actor: TunnelActor,
): Tunnels | undefined {
  const { ctx, issue } = actor;
  if (tunnels[payload.id] !== undefined) return undefined; // a repeated request
  const record: TunnelRecord = {
    services: payload.services.map((s) => ({
      name: s.name,
      remotePort: s.remotePort,
      ...(typeof s.host === 'string' ? { host: s.host } : {}),
    })),
    state: 'requested',
    requestedAt: ctx.now,
    expiresAt: payload.expiresAt,
  };
  if (payload.expiresAt <= ctx.now) {
    const expired: TunnelRecord = {
      ...record,
      state: 'expired',
      endedAt: ctx.now,
      reason: 'expired before it opened',
    };
    emitState(ctx, payload.id, expired);
    return trim({ ...tunnels, [payload.id]: expired });
  }
  ctx.log.info({ tunnelId: payload.id, state: 'requested' }, 'tunnel requested');
  issue({
    id: openCommandId(payload.id),
    type: 'tunnel.open',
    args: { ...payload.args, tunnelId: payload.id, services: record.services, expiresAt: payload.expiresAt },
    deadline: Math.min(payload.expiresAt, ctx.now + (payload.openTimeoutMs ?? 60_000)),
  });
  const next = { ...tunnels, [payload.id]: record };
  arm(next, ctx);
  return next;
}

/** Ends an active tunnel: its new state, the event, and the close command to the edge. */
function end(tunnels: Tunnels, ending: Ending, actor: TunnelActor): Record<string, TunnelRecord> {
  const { id, state, reason } = ending;
  const { ctx, issue } = actor;
  const t = tunnels[id]!;
  const ended: TunnelRecord = { ...t, state, endedAt: ctx.now, reason };
  emitState(ctx, id, ended);
  issue({ id: closeCommandId(id), type: 'tunnel.close', args: { tunnelId: id }, deadline: ctx.now + 60_000 });
  return { ...tunnels, [id]: ended };
}

/** `tunnelClose`: closes an active tunnel; a finished or unknown one is left alone. */
export function closeTunnel(
  tunnels: Tunnels,
  payload: TunnelClosePayload,
  actor: TunnelActor,
): Tunnels | undefined {
  const t = tunnels[payload?.id];
  if (t === undefined || !isActive(t)) return undefined;
  const reason = payload.reason ?? 'closed on request';
  const next = trim(end(tunnels, { id: payload.id, state: 'closed', reason }, actor));
  arm(next, actor.ctx);
  return next;
}

/** The `tunnels` timer: every active tunnel past its expiry expires. */
export function expireTunnels(tunnels: Tunnels, actor: TunnelActor): Tunnels | undefined {
  const { ctx } = actor;
  let next: Record<string, TunnelRecord> | undefined;
  for (const [id, t] of Object.entries(tunnels)) {
    if (isActive(t) && t.expiresAt <= ctx.now)
      next = end(next ?? tunnels, { id, state: 'expired', reason: 'its time ran out' }, actor);
  }
  const out = next === undefined ? tunnels : trim(next);
  arm(out, ctx);
  return next === undefined ? undefined : out;
}

/** A command's outcome: its id and whether the edge carried it out. */
export interface CommandAnswer {
  readonly commandId: string;
  readonly result: { ok: boolean; result?: unknown; error?: string };
}

/**
 * The result (or the timeout) of a tunnel's open command: open, or failed. Returns undefined
 * when the command is not a tunnel's or the tunnel has moved on.
 */
export function openResult(tunnels: Tunnels, answer: CommandAnswer, actor: TunnelActor): Tunnels | undefined {
  const { commandId, result } = answer;
  const { ctx } = actor;
  if (!commandId.endsWith('.open')) return undefined;
  const id = commandId.slice(0, -'.open'.length);
  const t = tunnels[id];
  if (t === undefined || t.state !== 'requested') return undefined;
  if (!result.ok) {
    // No answer by the expiry (the open command's deadline is at most the expiry): it expired.
    const next =
      ctx.now >= t.expiresAt
        ? trim(
            end(
              tunnels,
              { id, state: 'expired', reason: 'its time ran out before the edge opened it' },
              actor,
            ),
          )
        : trim(
            end(
              tunnels,
              { id, state: 'failed', reason: result.error ?? 'the edge could not open it' },
              actor,
            ),
          );
    arm(next, ctx);
    return next;
  }
  const open: TunnelRecord = {
    ...t,
    state: 'open',
    openedAt: ctx.now,
    ...(result.result === undefined ? {} : { opened: result.result }),
  };
  emitState(ctx, id, open);
  return { ...tunnels, [id]: open };
}
