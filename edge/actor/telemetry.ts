/**
 * Where an edge's telemetry changes its device shadow: the `telemetry` handler of the edge actor.
 * Status, vision, heartbeat and birth messages merge their fields over the last values of their
 * kind (the shadow) and note the device time of the update; a birth may set how long the edge may
 * be silent before it counts as offline (presence.ts). A duplicate only counts; a late message
 * counts and marks the edge seen, but is not laid over newer values (sequence.ts). The shadow's
 * kinds are merged into in place: what compares a state before and after a message (the tile,
 * tile.ts) takes what it needs of the state before the handler runs. A full status comes packed
 * from the link (an array, edge/protocol/packed.ts): laid over the held shadow from its values when
 * the shadow holds a status (and a birth, if it carries one), else unpacked here first.
 */
import { type ActorContext, TerminalError } from '../../actors/mod.ts';
import {
  mergePackedBirth,
  mergePackedStatus,
  type PackedParts,
  packedParts,
  type TelemetryKind,
  type TelemetryPayload,
  unpackParts,
} from '../protocol/mod.ts';
import { seen } from './presence.ts';
import { duplicate, track } from './sequence.ts';
import { type EdgeState, isRecord } from './state.ts';

const KINDS = new Set<string>(['status', 'vision', 'heartbeat', 'birth']);

type Fields = Record<string, unknown>;

/**
 * `fields` laid over `into`, a value only where it differs: a string JSON.parse made of 13
 * characters or more is a slice of the whole message, which it keeps alive. A legacy status
 * repeats its birth facts (a 16-character registration code) every second; assigned every time,
 * each kept its message, and the hub node promoted every message's text (~830 B).
 */
function mergeInto(into: Fields, fields: Fields): void {
  for (const key in fields) if (into[key] !== fields[key]) into[key] = fields[key];
}

/** The `telemetry` handler; `offlineAfterMs` is the edge actor's default silence window. */
export function telemetryHandler(offlineAfterMs: number) {
  return (state: EdgeState, received: TelemetryPayload | unknown[], ctx: ActorContext): EdgeState => {
    let payload: TelemetryPayload;
    if (!Array.isArray(received)) payload = received;
    else {
      const parts = packedParts(received);
      if (parts === undefined) throw new TerminalError('telemetry: not a packed status');
      if (state.shadow.status !== undefined) {
        const next = packedStatus(state, parts, ctx, offlineAfterMs);
        if (next !== undefined) return next;
      }
      payload = unpackParts(parts);
    }
    if (!isRecord(payload) || !KINDS.has(payload.kind as string)) {
      throw new TerminalError(`telemetry: kind must be one of ${[...KINDS].join(', ')}`);
    }
    if (payload.data !== undefined && !isRecord(payload.data))
      throw new TerminalError('telemetry: data must be an object');
    const tracked = track(state, payload.seq, payload.boot);
    if (tracked === undefined) return duplicate(state);
    const { seq, late } = tracked;
    const silence = payload.silenceSeconds;
    if (payload.kind === 'birth' && typeof silence === 'number' && silence >= 1 && silence <= 86_400)
      state = { ...state, offlineAfterMs: Math.max(offlineAfterMs, silence * 2500) };
    // A late message is counted but not laid over the newer values already in the shadow.
    if (payload.data === undefined || late)
      return seen(state, ctx, { defaultOfflineAfterMs: offlineAfterMs, seq, via: payload.via });
    // A kind the shadow lacks is added (a new shadow object). One it holds is merged into in
    // place, after `seen` (nothing fails after it; a retry would merge the same fields again):
    // a new object per message, each living until the edge's next one, was always promoted, at
    // 30,000 edges the largest share our code made of what the hub node's young generation
    // promoted (bench/README.md). The fields were parsed for this delivery and belong to us. A
    // birth may ride along with any kind (`payload.birth`).
    const kind = payload.kind as TelemetryKind;
    const data = payload.data as Fields;
    const birth = isRecord(payload.birth) ? (payload.birth as Fields) : undefined;
    let shadow = state.shadow;
    const heldKind = shadow[kind] as Fields | undefined;
    if (heldKind === undefined) shadow = { ...shadow, [kind]: data };
    const heldBirth = birth === undefined ? undefined : (shadow.birth as Fields | undefined);
    if (birth !== undefined && heldBirth === undefined) shadow = { ...shadow, birth };
    const at = typeof payload.ts === 'number' ? payload.ts : ctx.now;
    const stamped = kind in state.updatedAt;
    const next = seen(state, ctx, {
      defaultOfflineAfterMs: offlineAfterMs,
      seq,
      shadow,
      updatedAt: stamped ? state.updatedAt : { ...state.updatedAt, [kind]: at },
      via: payload.via,
    });
    if (heldKind !== undefined) mergeInto(heldKind, data);
    if (heldBirth !== undefined) mergeInto(heldBirth, birth!);
    if (stamped) (next.updatedAt as Record<string, number>)[kind] = at;
    return next;
  };
}

/**
 * A packed status over a shadow that holds a status (and a birth, when the status carries one): the
 * commonest message of a legacy fleet, laid over the shadow from the packed values, without the
 * payload object `unpackParts` would build and `mergeInto`'s loop over its keys (decision 071).
 * The same state as the general path; undefined when that path is needed (no birth held yet).
 */
function packedStatus(
  state: EdgeState,
  parts: PackedParts,
  ctx: ActorContext,
  offlineAfterMs: number,
): EdgeState | undefined {
  const held = state.shadow.status as Fields;
  const heldBirth = state.shadow.birth as Fields | undefined;
  if (parts.birth !== null && heldBirth === undefined) return undefined;
  const tracked = track(state, parts.seq ?? undefined, parts.boot ?? undefined);
  if (tracked === undefined) return duplicate(state);
  const { seq, late } = tracked;
  const via = parts.via ?? undefined;
  if (late) return seen(state, ctx, { defaultOfflineAfterMs: offlineAfterMs, seq, via });
  const at = typeof parts.ts === 'number' ? parts.ts : ctx.now;
  const stamped = 'status' in state.updatedAt;
  const next = seen(state, ctx, {
    defaultOfflineAfterMs: offlineAfterMs,
    seq,
    updatedAt: stamped ? state.updatedAt : { ...state.updatedAt, status: at },
    via,
  });
  mergePackedStatus(held, parts.status);
  if (parts.birth !== null) mergePackedBirth(heldBirth!, parts.birth);
  if (stamped) (next.updatedAt as Record<string, number>).status = at;
  return next;
}
