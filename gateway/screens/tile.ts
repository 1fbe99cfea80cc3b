/**
 * A wall screen's tile of one elevator and what it counts as: offline (the edge is), fault (an
 * alarm is open or the controller reports a fault code), running (the car runs), else idle. Built
 * from an edge actor's checkpointed state (a model's rebuild) and then kept by the outbox's
 * `edge.tile`, `edge.online`/`edge.offline` and `alarm.start`/`alarm.end` events (read-model.ts).
 */
import { type EdgeState, type TileFields, tileFields } from '../../edge/mod.ts';

export const TILE_STATES = ['running', 'idle', 'fault', 'offline'] as const;
export type TileState = (typeof TILE_STATES)[number];

/** A tile as screens get it. */
export interface Tile {
  readonly edgeId: string;
  readonly floor: number | null;
  readonly direction: string | null;
  readonly door: string | null;
  readonly people: boolean | null;
  /** When the hub last heard from the edge (ms), as of the tile's last change. */
  readonly lastSeen: number | null;
  /** When the message that changed the tile entered the hub (ms): edge → screen is measured from it. */
  readonly enteredAt: number | null;
  readonly state: TileState;
}

/** The kinds of scope an elevator is in, one of each at most: its index in ElevatorRecord.marks. */
export const SCOPE_KINDS = { fleet: 0, group: 1, building: 2 } as const;

/** A record's tile fields: one object per elevator, written over in place by every change. */
export type RecordFields = { -readonly [K in keyof TileFields]: TileFields[K] };

/**
 * An elevator in the model: its tile's fields, its open alarms, where it belongs. At 50,000
 * elevators a tile changes 50,000 times a second; each change writes over the record's own
 * fields (a short string from JSON.parse is an internalized one), so nothing the change makes
 * outlives a young-generation collection but the tile's JSON.
 */
export interface ElevatorRecord {
  readonly id: string;
  readonly fields: RecordFields;
  /** When the hub last heard from the edge (ms); NO_TIME: never. */
  lastSeen: number;
  /** When the message that last changed the tile entered the hub (ms); NO_TIME: not known. */
  enteredAt: number;
  /** Open alarms by name: when each opened (ms, the edge's clock). */
  alarms: Map<string, number>;
  group: string | null;
  state: TileState;
  /** The tile's JSON, when a large scope kept it (tileJson; invalidated on change). */
  json: string | undefined;
  /**
   * Per kind of scope (SCOPE_KINDS), the mark of the period between ticks in which its scope of
   * that kind listed it as changed (scope-view.ts); 0: not listed.
   */
  readonly marks: number[];
}

/**
 * A record's time that is not known: NaN, not null, so that `lastSeen` and `enteredAt` are always
 * doubles, which V8 writes over in place. A field that is sometimes null holds each new time as a
 * new heap number: two per tile change, 100,000 a second at 50,000 edges, each alive until the
 * next change and so promoted. NaN compares false with every time, as a null was checked to.
 */
export const NO_TIME = Number.NaN;

/** A record's time as a tile shows it: null when not known. */
export const timeOrNull = (t: number): number | null => (Number.isNaN(t) ? null : t);

const NO_FIELDS: TileFields = {
  floor: null,
  direction: null,
  door: null,
  people: null,
  running: null,
  faultCode: null,
  building: null,
  online: false,
};

export function stateOf(r: Pick<ElevatorRecord, 'fields' | 'alarms'>): TileState {
  if (!r.fields.online) return 'offline';
  if (r.alarms.size > 0 || (r.fields.faultCode !== null && r.fields.faultCode !== 0)) return 'fault';
  return r.fields.running === true ? 'running' : 'idle';
}

/** A record from an edge actor's state (or none yet: a registered edge never heard from). */
export function recordOf(id: string, group: string | null, state: EdgeState | undefined): ElevatorRecord {
  const alarms = new Map<string, number>();
  for (const [name, open] of Object.entries(state?.openAlarms ?? {})) alarms.set(name, open.since);
  const fields: RecordFields = state === undefined ? { ...NO_FIELDS } : tileFields(state);
  const r = {
    id,
    fields,
    lastSeen: state?.lastSeen ?? NO_TIME,
    enteredAt: NO_TIME,
    alarms,
    group,
    state: 'offline' as TileState,
    json: undefined,
    marks: [0, 0, 0],
  };
  r.state = stateOf(r);
  return r;
}

/** What JSON.stringify writes for a tile's value (a tile's fields are read as these types). */
function jsonText(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : 'null';
  return v ? 'true' : 'false';
}

/**
 * The tile as JSON: the fields of `Tile`, in its order, written as one template (no Tile object
 * made and walked by JSON.stringify: 0.22 µs a tile instead of 0.58, and a snapshot of a small
 * scope serializes every tile of it). `keep`: kept until the tile changes — for a large scope,
 * whose snapshot of a new version joins thousands of tiles that did not change. A small scope's
 * tiles are serialized each time (a few dozen): kept, each changed tile's JSON lived about a
 * second, long enough to be promoted, and at 50,000 edges that was the largest part of what the
 * gateway's collector copied.
 */
export function tileJson(r: ElevatorRecord, keep = true): string {
  if (r.json !== undefined) return r.json;
  const { floor, direction, door, people } = r.fields;
  const json = `{"edgeId":${JSON.stringify(r.id)},"floor":${jsonText(floor)},"direction":${jsonText(direction)},"door":${jsonText(door)},"people":${jsonText(people)},"lastSeen":${jsonText(r.lastSeen)},"enteredAt":${jsonText(r.enteredAt)},"state":"${r.state}"}`;
  if (keep) r.json = json;
  return json;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : null);
const bool = (v: unknown) => (typeof v === 'boolean' ? v : null);

/**
 * Writes the fields an `edge.tile` event carries over `fields`, read defensively (the stream is
 * JSON another layer wrote).
 */
export function assignEventFields(fields: RecordFields, e: Readonly<Record<string, unknown>>): void {
  fields.floor = num(e.floor);
  fields.direction = str(e.direction);
  fields.door = str(e.door);
  fields.people = bool(e.people);
  fields.running = bool(e.running);
  fields.faultCode = num(e.faultCode);
  fields.building = str(e.building);
  fields.online = e.online === true;
}

/** Writes `from` over `fields` (a record read again from its checkpointed state). */
export function assignFields(fields: RecordFields, from: TileFields): void {
  Object.assign(fields, from);
}
