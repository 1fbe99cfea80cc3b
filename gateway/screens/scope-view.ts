/**
 * One scope of the screen read model (`fleet`, `group:<id>`, `building:<name>`): its elevators,
 * their counts by state, the ones with open alarms, what changed since the last tick, its version,
 * its subscribers, and its snapshot (a large scope's serialized once per version, which every
 * poll and every new stream of that version then gets; a small one's per request). A tick with
 * changes makes one delta frame, encoded once, which read-model.ts (calling `tick` every ~250 ms)
 * hands to every subscriber (fan-out.ts).
 */
import { ReusedList } from './reused-list.ts';
import { type ElevatorRecord, SCOPE_KINDS, type TileState, tileJson } from './tile.ts';

export type FrameEvent = 'snapshot' | 'delta' | 'heartbeat';

/**
 * A frame for every subscriber, encoded once: its SSE bytes are made with it, and the JSON is a
 * slice of them (the snapshot's HTTP body) — a frame waiting in the fan-out's queue holds bytes
 * outside the JS heap, not a string the young generation would copy and promote. The WebSocket
 * encoding is made on first use.
 */
export class ScreenFrame {
  readonly event: FrameEvent;
  /** `<epoch>.<version>`: the SSE id and the snapshot's ETag (without quotes). */
  readonly id: string;
  /** `id: …\nevent: …\ndata: <json>\n\n`, or a comment for a heartbeat. */
  readonly sse: Buffer;
  readonly #start: number;
  #text: string | undefined;

  constructor(event: FrameEvent, id: string, json: string) {
    this.event = event;
    this.id = id;
    if (event === 'heartbeat') {
      this.sse = Buffer.from(': hb\n\n');
      this.#start = -1;
      return;
    }
    const head = `id: ${id}\nevent: ${event}\ndata: `;
    this.#start = head.length; // the id and event are ASCII: one byte a character
    this.sse = Buffer.from(`${head}${json}\n\n`);
  }

  /** The JSON's bytes (a view of the SSE bytes): what a snapshot poll is answered with. */
  get body(): Buffer {
    return this.#start < 0 ? Buffer.from('null') : this.sse.subarray(this.#start, this.sse.length - 2);
  }

  /** The JSON as a string (made on each call: the WebSocket encoding, tests). */
  get json(): string {
    return this.#start < 0 ? 'null' : this.sse.toString('utf8', this.#start, this.sse.length - 2);
  }

  /** The WebSocket text frame: `{"event", "id", "data"}`. */
  get text(): string {
    this.#text ??= `{"event":"${this.event}","id":"${this.id}","data":${this.json}}`;
    return this.#text;
  }
}

export const HEARTBEAT = new ScreenFrame('heartbeat', '', 'null');

/** Scopes of this many elevators or more keep their snapshot for the version. */
export const KEEP_SNAPSHOT_FROM = 200;

/** Someone showing a scope: handed every frame; it decides what a slow reader skips. */
export interface ScreenSubscriber {
  send(frame: ScreenFrame): void;
}

export type Counts = Record<TileState, number>;

/** Marks of a scope's periods between ticks, unique across scopes (ElevatorRecord.marks). */
let lastMark = 0;
const nextMark = () => ++lastMark;

/** The kind of scope a name is (its index in ElevatorRecord.marks: an elevator is in one of each). */
const kindOf = (name: string) =>
  name === 'fleet' ? SCOPE_KINDS.fleet : name.startsWith('group:') ? SCOPE_KINDS.group : SCOPE_KINDS.building;

export class ScopeView {
  readonly name: string;
  readonly #epoch: string;
  version = 0;
  readonly members = new Set<ElevatorRecord>();
  readonly counts: Counts = { running: 0, idle: 0, fault: 0, offline: 0 };
  readonly subscribers = new Set<ScreenSubscriber>();
  readonly #alarmed = new Set<ElevatorRecord>();
  /** The elevators that changed since the last tick: each listed once, its mark this period's. */
  readonly #dirty = new ReusedList<ElevatorRecord>();
  readonly #kind: number;
  #mark = nextMark();
  #removed = new Set<string>();
  #alarmsChanged = false;
  #snapshot: ScreenFrame | undefined;

  constructor(name: string, epoch: string) {
    this.name = name;
    this.#epoch = epoch;
    this.#kind = kindOf(name);
  }

  /** `<epoch>.<version>`: what a client's ETag or Last-Event-ID must equal to be current. */
  get id(): string {
    return `${this.#epoch}.${this.version}`;
  }

  get pending(): boolean {
    return this.#dirty.size > 0 || this.#removed.size > 0 || this.#alarmsChanged;
  }

  add(r: ElevatorRecord): void {
    this.members.add(r);
    this.counts[r.state]++;
    if (r.alarms.size > 0) {
      this.#alarmed.add(r);
      this.#alarmsChanged = true;
    }
    this.#removed.delete(r.id);
    this.#listChanged(r);
  }

  remove(r: ElevatorRecord): void {
    if (!this.members.delete(r)) return;
    this.counts[r.state]--;
    if (this.#alarmed.delete(r)) this.#alarmsChanged = true;
    if (r.marks[this.#kind] === this.#mark) r.marks[this.#kind] = 0; // left out of the delta
    this.#removed.add(r.id);
  }

  /** `r` changed (it was in state `before`); `alarms`: its open alarms changed. */
  changed(r: ElevatorRecord, before: TileState, alarms: boolean): void {
    this.counts[before]--;
    this.counts[r.state]++;
    if (alarms) {
      if (r.alarms.size > 0) this.#alarmed.add(r);
      else this.#alarmed.delete(r);
      this.#alarmsChanged = true;
    }
    this.#listChanged(r);
  }

  #listChanged(r: ElevatorRecord): void {
    if (r.marks[this.#kind] === this.#mark) return;
    r.marks[this.#kind] = this.#mark;
    this.#dirty.push(r);
  }

  #countsJson(): string {
    return JSON.stringify(this.counts);
  }

  /** Open alarms, the longest open first. */
  #alarmsJson(): string {
    const out: { edgeId: string; kind: string; openedAt: number }[] = [];
    for (const r of this.#alarmed)
      for (const [kind, openedAt] of r.alarms) out.push({ edgeId: r.id, kind, openedAt });
    out.sort((a, b) => a.openedAt - b.openedAt || (a.edgeId < b.edgeId ? -1 : 1));
    return JSON.stringify(out);
  }

  /**
   * The snapshot of the current version. A large scope's is serialized on its first request and
   * kept for the version (a fleet's is megabytes); a small one's is made for each request and
   * dropped with it: its version changes every tick or two, so a kept one would rarely be asked
   * for twice, and would only live long enough for the garbage collector to promote it.
   */
  snapshot(): ScreenFrame {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const tiles: string[] = [];
    const keep = this.#large;
    for (const r of this.members) tiles.push(tileJson(r, keep));
    const json = `{"scope":${JSON.stringify(this.name)},"version":${JSON.stringify(this.id)},"at":${Date.now()},"counts":${this.#countsJson()},"alarms":${this.#alarmsJson()},"tiles":[${tiles.join(',')}]}`;
    const frame = new ScreenFrame('snapshot', this.id, json);
    if (keep) this.#snapshot = frame;
    return frame;
  }

  /**
   * A new version when anything changed since the last tick: the delta frame (changed tiles,
   * removed ids, the counts, the alarms when they changed) for every subscriber, if it has any.
   */
  tick(): ScreenFrame | undefined {
    if (!this.pending) return undefined;
    this.version++;
    this.#snapshot = undefined;
    const removed = this.#removed;
    const alarms = this.#alarmsChanged;
    if (removed.size > 0) this.#removed = new Set();
    this.#alarmsChanged = false;
    const kind = this.#kind;
    const mark = this.#mark;
    this.#mark = nextMark();
    const tiles: string[] | undefined = this.subscribers.size > 0 ? [] : undefined;
    const keep = this.#large;
    this.#dirty.drain((r) => {
      if (r.marks[kind] !== mark) return; // removed since, or listed again after a removal
      r.marks[kind] = 0;
      tiles?.push(tileJson(r, keep));
    });
    if (tiles === undefined) return undefined;
    const parts = [
      `"scope":${JSON.stringify(this.name)}`,
      `"version":${JSON.stringify(this.id)}`,
      `"at":${Date.now()}`,
      `"tiles":[${tiles.join(',')}]`,
      `"counts":${this.#countsJson()}`,
    ];
    if (removed.size > 0) parts.push(`"removed":${JSON.stringify([...removed])}`);
    if (alarms) parts.push(`"alarms":${this.#alarmsJson()}`);
    return new ScreenFrame('delta', this.id, `{${parts.join(',')}}`);
  }

  /** Large enough to keep its snapshot, and its tiles' JSON, from one version to the next. */
  get #large(): boolean {
    return this.members.size >= KEEP_SNAPSHOT_FROM;
  }

  /** Whether the scope has elevators (fleet always exists). */
  get exists(): boolean {
    return this.name === 'fleet' || this.members.size > 0;
  }
}
