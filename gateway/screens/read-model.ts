/**
 * The wall screens' read model, one per gateway process: every registered elevator's tile and open
 * alarms, grouped into scopes (`fleet`, `group:<id>`, `building:<name>`), fed through the
 * gateway's EventFeed by the edge actors' outbox (`edge.online`, `edge.offline`, `alarm.start`,
 * `alarm.end`) and live streams (`edge.tile`, bus/live.ts) and rebuilt at start from the actors'
 * checkpointed states in Redis (and again when the feed missed live entries) — so no gateway holds anything another could not rebuild, and no request reads the database or Redis.
 * Every `tickMs` each scope that changed gets a new version and one delta frame for all its
 * subscribers; every `heartbeatMs` they get a heartbeat. Registrations, deregistrations and group
 * moves come from the fleet view, looked at every `sweepMs`.
 */
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, toError } from '../../bus/mod.ts';
import type { EdgeState } from '../../edge/mod.ts';
import type { EdgeChanges, EdgesMark } from '../fleet-edges.ts';
import type { EventFeed } from '../live-events.ts';
import type { OutboxItem } from '../outbox/events.ts';
import { changeOf } from './events.ts';
import { FanOut } from './fan-out.ts';
import type { PacedStats } from './paced.ts';
import { forEachStatePage } from './rebuild.ts';
import { ReusedList } from './reused-list.ts';
import { HEARTBEAT, ScopeView, type ScreenSubscriber } from './scope-view.ts';
import { assignFields, type ElevatorRecord, recordOf, stateOf } from './tile.ts';

/** What the model needs of the fleet view (FleetView.edgeGroups, FleetView.edgeChanges). */
export interface RegisteredEdges {
  edgeGroups(): ReadonlyMap<string, string | null>;
  /** The edges changed since `mark` (ids undefined: every edge), and the mark to ask from next. */
  edgeChanges(mark?: EdgesMark): EdgeChanges;
}

export interface ScreenModelOptions {
  /** Registered edges and their groups, and which of them changed (the gateway's fleet view). */
  readonly edges: RegisteredEdges;
  readonly logger?: Logger;
  /** How often changes are coalesced into a version and a delta (ms, default 250). */
  readonly tickMs?: number;
  /** Heartbeats to subscribers (ms, default 15,000). */
  readonly heartbeatMs?: number;
  /** How often registrations and group moves are looked for (ms, default 5000). */
  readonly sweepMs?: number;
  /**
   * When the states are read a second time after start (ms, default 6000: past a hub node's 5 s
   * checkpoint interval): a change an actor published before this process listened, but had not
   * checkpointed when it read the states, is in them then. 0: no second read.
   */
  readonly reconcileMs?: number;
  /** A live stream ends after this and the screen reconnects (ms; default: only when the client goes). */
  readonly streamMaxMs?: number;
}

/** What a gateway's options may set. */
export type ScreenModelSettings = Pick<
  ScreenModelOptions,
  'tickMs' | 'heartbeatMs' | 'sweepMs' | 'streamMaxMs' | 'reconcileMs'
>;

/** A second read of the states after start or a live gap: past a hub node's 5 s checkpoint interval. */
const RECONCILE_MS = 6000;

export class ScreenModel implements AsyncDisposable {
  /** Part of every version id: another process's (or an earlier run's) versions never match. */
  readonly epoch = Math.random().toString(36).slice(2, 8);
  /** Deltas slow subscribers skipped, and the snapshots they were sent once drained. */
  readonly paced: PacedStats = { skipped: 0, resyncs: 0 };
  readonly #o: ScreenModelOptions;
  readonly #log: Logger;
  readonly #records = new Map<string, ElevatorRecord>();
  /** The scopes each elevator is counted in. */
  readonly #member = new Map<string, ScopeView[]>();
  readonly #scopes = new Map<string, ScopeView>();
  /** The scopes with changes since the last tick, each listed when its first change came (#listed). */
  readonly #dirtyScopes = new ReusedList<ScopeView>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #unsubscribe: (() => void) | undefined;
  #unsubscribeGaps: (() => void) | undefined;
  /** The second read after a live gap, when one is due (one at a time, however often the feed falls behind). */
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where in the fleet view's changes the records were last made to match (at start, then by each sweep). */
  #swept: EdgesMark | undefined;
  /** The feed it follows (set at start): its live gaps are this model's. */
  #feed: EventFeed | undefined;
  readonly #fanOut: FanOut;
  readonly streamMaxMs: number | undefined;

  constructor(options: ScreenModelOptions) {
    this.#o = options;
    this.streamMaxMs = options.streamMaxMs;
    this.#log = (options.logger ?? silentLogger).child({ component: 'screens' });
    const log = this.#log;
    this.#fanOut = new FanOut({
      onError: (error) => log.warn({ err: toError(error) }, 'screen model: a frame could not be sent'),
    });
    this.#scope('fleet');
  }

  /**
   * Follows `feed` (events buffered while the states are read, then applied), reads every
   * registered edge's state, and starts the ticks.
   */
  async start(o: { bus: Bus; feed: EventFeed }): Promise<this> {
    const buffered: OutboxItem[] = [];
    let live = false;
    this.#unsubscribe = o.feed.subscribeAll((item) => {
      if (live) this.apply(item);
      else buffered.push(item);
    });
    this.#feed = o.feed;
    this.#unsubscribeGaps = o.feed.subscribeGaps(() => this.#afterGap(o.bus));
    // Marked before the map is read: a change after it is the first sweep's.
    this.#swept = this.#o.edges.edgeChanges().mark;
    const groups = this.#o.edges.edgeGroups();
    // Added in the fleet view's order (a scope's tiles keep it); the pages come by shard.
    const records = new Map<string, ElevatorRecord>();
    await forEachStatePage(o.bus, [...groups.keys()], (states) => {
      for (const [id, state] of states) records.set(id, recordOf(id, groups.get(id) ?? null, state));
    });
    for (const id of groups.keys())
      this.#add(records.get(id) ?? recordOf(id, groups.get(id) ?? null, undefined));
    for (const item of buffered) this.apply(item);
    live = true;
    const { tickMs = 250, heartbeatMs = 15_000, sweepMs = 5000 } = this.#o;
    this.#every(tickMs, () => void this.tick());
    this.#every(heartbeatMs, () => this.#heartbeat());
    // An edge registered since the last sweep: its events until now were ignored (it was not
    // known), so its checkpointed state is read in.
    this.#every(sweepMs, () => {
      const added = this.sweep();
      if (added.length > 0) this.#readAgain(o.bus, added);
    });
    const { reconcileMs = RECONCILE_MS } = this.#o;
    if (reconcileMs > 0) {
      const timer = setTimeout(() => this.#readAgain(o.bus, [...this.#records.keys()]), reconcileMs);
      timer.unref();
      this.#timers.push(timer);
    }
    return this;
  }

  /** Reads `ids`' states again and takes those newer than the model's tiles (reconcile). */
  #readAgain(bus: Bus, ids: readonly string[]): void {
    forEachStatePage(bus, ids, (later) => this.reconcile(later)).catch((error: unknown) =>
      this.#log.warn({ err: toError(error) }, 'screen model: a read of the states failed'),
    );
  }

  /**
   * Tiles were missed (the feed fell behind the live stream's trim): the states are read now,
   * and once more after a checkpoint interval, since a published tile is checkpointed later.
   */
  #afterGap(bus: Bus): void {
    if (this.#gapTimer !== undefined) return;
    this.#readAgain(bus, [...this.#records.keys()]);
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      this.#readAgain(bus, [...this.#records.keys()]);
    }, this.#o.reconcileMs || RECONCILE_MS);
    this.#gapTimer.unref();
  }

  #every(ms: number, run: () => void): void {
    const timer = setInterval(() => {
      try {
        run();
      } catch (error) {
        this.#log.warn({ err: toError(error) }, 'screen model upkeep failed');
      }
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  /** Times its feed missed live entries, after each of which the states were read again. */
  get liveGaps(): number {
    return this.#feed?.liveGaps ?? 0;
  }

  /** A scope by name, when it exists (`fleet` always does). */
  scope(name: string): ScopeView | undefined {
    const s = this.#scopes.get(name);
    return s?.exists ? s : undefined;
  }

  /** Subscribes to scope `name` (which must exist); returns the unsubscribe. */
  subscribe(scope: ScopeView, subscriber: ScreenSubscriber): () => void {
    scope.subscribers.add(subscriber);
    return () => scope.subscribers.delete(subscriber);
  }

  get subscribers(): number {
    let n = 0;
    for (const s of this.#scopes.values()) n += s.subscribers.size;
    return n;
  }

  #scope(name: string): ScopeView {
    let s = this.#scopes.get(name);
    if (s === undefined) {
      s = new ScopeView(name, this.epoch);
      this.#scopes.set(name, s);
    }
    return s;
  }

  /** The scopes an elevator belongs to (kept per elevator: most events move nothing). */
  #scopesOf(r: ElevatorRecord): ScopeView[] {
    const out = [this.#scope('fleet')];
    if (r.group !== null) out.push(this.#scope(`group:${r.group}`));
    if (r.fields.building !== null) out.push(this.#scope(`building:${r.fields.building}`));
    return out;
  }

  #add(r: ElevatorRecord): void {
    this.#records.set(r.id, r);
    const scopes = this.#scopesOf(r);
    this.#member.set(r.id, scopes);
    for (const s of scopes) {
      const was = s.pending;
      s.add(r);
      this.#listed(s, was);
    }
  }

  /** Lists `s` for the next tick when it has changes now and had none before (`was`). */
  #listed(s: ScopeView, was: boolean): void {
    if (!was && s.pending) this.#dirtyScopes.push(s);
  }

  #remove(r: ElevatorRecord): void {
    this.#records.delete(r.id);
    for (const s of this.#member.get(r.id) ?? []) {
      const was = s.pending;
      s.remove(r);
      this.#listed(s, was);
    }
    this.#member.delete(r.id);
  }

  /** Applies `change` to `r`, moving it between scopes when its group or building changed. */
  #change(r: ElevatorRecord, change: () => boolean): void {
    const before = this.#member.get(r.id) ?? [];
    const { state, group } = r;
    const { building } = r.fields;
    const alarmsChanged = change();
    r.state = stateOf(r);
    r.json = undefined;
    if (r.group === group && r.fields.building === building) {
      for (const s of before) {
        const was = s.pending;
        s.changed(r, state, alarmsChanged);
        this.#listed(s, was);
      }
      return;
    }
    const after = this.#scopesOf(r);
    this.#member.set(r.id, after);
    for (const s of before)
      if (!after.includes(s)) {
        const now = r.state;
        const was = s.pending;
        r.state = state; // counted out under the state it was counted in under
        s.remove(r);
        r.state = now;
        this.#listed(s, was);
      }
    for (const s of after) {
      const was = s.pending;
      if (before.includes(s)) s.changed(r, state, alarmsChanged);
      else s.add(r);
      this.#listed(s, was);
    }
  }

  /** One outbox event (events of edges that are not registered are ignored). */
  apply(item: OutboxItem): void {
    const id = item.event.edgeId;
    const r = typeof id === 'string' ? this.#records.get(id) : undefined;
    if (r === undefined) return;
    const change = changeOf(r, item);
    if (change === undefined) return;
    this.#change(r, change);
  }

  /**
   * States read after start: each one newer than what the model has of its elevator (its last
   * message later than the model's last tile) replaces the tile's fields and open alarms.
   */
  reconcile(states: ReadonlyMap<string, EdgeState | undefined>): void {
    for (const [id, state] of states) {
      const r = this.#records.get(id);
      if (r === undefined || state?.lastSeen == null) continue;
      if (state.lastSeen <= r.lastSeen) continue; // never when the model's is not known (NO_TIME)
      const fresh = recordOf(id, r.group, state);
      this.#change(r, () => {
        const alarms = [...r.alarms].join() !== [...fresh.alarms].join();
        assignFields(r.fields, fresh.fields);
        r.lastSeen = fresh.lastSeen;
        r.alarms = fresh.alarms;
        return alarms;
      });
    }
  }

  /**
   * A new version of every scope that changed, and its delta to its subscribers (written a slice
   * at a time, fan-out.ts); resolves once they are written.
   */
  tick(): Promise<void> {
    this.#dirtyScopes.drain((s) => {
      const frame = s.tick();
      if (frame !== undefined) this.#fanOut.push(s, frame);
    });
    return this.#fanOut.drained();
  }

  #heartbeat(): void {
    for (const s of this.#scopes.values()) this.#fanOut.push(s, HEARTBEAT);
  }

  /**
   * New registrations in, deregistered edges out, group moves applied (from the fleet view);
   * returns the edges it added. Only the edges the view changed since the last sweep; every one
   * after the view's whole reload. At 50,000 edges walking its map and the model's held the
   * gateway ~22 ms.
   */
  sweep(): string[] {
    const { mark, ids } = this.#o.edges.edgeChanges(this.#swept);
    this.#swept = mark;
    if (ids !== undefined && ids.length === 0) return [];
    const groups = this.#o.edges.edgeGroups();
    const added: string[] = [];
    for (const id of ids ?? groups.keys()) {
      const group = groups.get(id);
      const r = this.#records.get(id);
      if (group === undefined) {
        if (r !== undefined) this.#remove(r);
      } else if (r === undefined) {
        this.#add(recordOf(id, group, undefined));
        added.push(id);
      } else if (r.group !== group)
        this.#change(r, () => {
          r.group = group;
          return false;
        });
    }
    if (ids === undefined)
      for (const r of [...this.#records.values()]) if (!groups.has(r.id)) this.#remove(r);
    return added;
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribeGaps?.();
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#gapTimer);
    this.#timers.length = 0;
    this.#fanOut.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
