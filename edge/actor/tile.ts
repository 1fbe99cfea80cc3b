/**
 * What a wall screen shows of an elevator (its tile): floor, direction, door, someone in the car,
 * running, fault code, building, online. The edge actor publishes an `edge.tile` event (to its
 * tag group's live stream, bus/live.ts) when one of these changes (not on every message: an
 * elevator at rest sends a status every second and changes nothing), so every gateway's screen
 * read model (gateway/screens) follows the fleet from the live and outbox streams; `tileFields` reads the same fields from a checkpointed state,
 * which is how a gateway rebuilds its model at start.
 */
import type { ActorContext } from '../../actors/mod.ts';
import type { EdgeState } from './state.ts';

export const TILE_EVENT = 'edge.tile';

/** The screen's fields of an edge, from its state; null where the edge never said. */
export interface TileFields {
  readonly floor: number | null;
  readonly direction: string | null;
  readonly door: string | null;
  /** Someone is in the car (the protocols carry no head count: docs/protocol.md). */
  readonly people: boolean | null;
  readonly running: boolean | null;
  readonly faultCode: number | null;
  readonly building: string | null;
  readonly online: boolean;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);

export function tileFields(state: EdgeState): TileFields {
  const status = state.shadow.status;
  const birth = state.shadow.birth;
  return {
    floor: num(status?.floor),
    direction: str(status?.direction),
    door: str(status?.door),
    people: bool(status?.hasPerson),
    running: bool(status?.running),
    faultCode: num(status?.faultCode),
    building: str(birth?.buildingId),
    online: state.online,
  };
}

function sameTile(a: TileFields, b: TileFields): boolean {
  return (
    a.floor === b.floor &&
    a.direction === b.direction &&
    a.door === b.door &&
    a.people === b.people &&
    a.running === b.running &&
    a.faultCode === b.faultCode &&
    a.building === b.building &&
    a.online === b.online
  );
}

/**
 * Wraps a handler: when its turn changes the edge's tile, an `edge.tile` event with the new
 * fields, when the edge was last seen and when the message entered the hub (`enteredAt`, so a
 * bench can measure edge → screen).
 */
export function withTile<P, R extends EdgeState | undefined>(
  handler: (state: EdgeState, payload: P, ctx: ActorContext) => R,
): (state: EdgeState, payload: P, ctx: ActorContext) => R {
  return (state, payload, ctx) => {
    // Taken before the handler runs: telemetry merges into the held shadow in place.
    const before = tileFields(state);
    const next = handler(state, payload, ctx);
    if (next === undefined || next === state) return next;
    const after = tileFields(next);
    if (!sameTile(before, after))
      ctx.publish({
        type: TILE_EVENT,
        edgeId: ctx.id,
        ...after,
        lastSeen: next.lastSeen,
        enteredAt: ctx.enqueuedAt,
      });
    return next;
  };
}
