/**
 * The live feed behind `/v1/events`: each gateway tails every outbox stream (XREAD from the
 * newest entry on, no consumer group: every gateway sees every event) and hands the fleet events
 * to its subscribers. Live means live: a subscriber sees what happens while it listens; history
 * is the alarm table and the web backend's queue. It tails the live streams of the same tag
 * groups too (bus/live.ts: the latest values actors publish, such as wall-screen tiles), for the
 * listeners of every event; when it finds it missed live entries (it fell behind their trim), it
 * tells its gap listeners, who read those values again from the actors' checkpoints.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, silentLogger } from '../actors/mod.ts';
import {
  type Bus,
  execOrThrow,
  type Keyspace,
  LiveSequence,
  liveEvents,
  liveNumber,
  openPipeline,
  type Redis,
  toError,
} from '../bus/mod.ts';
import { isFleetEvent, type OutboxEventJson, type OutboxItem, toItems } from './outbox/events.ts';

export type FeedListener = (item: OutboxItem) => void;

export class EventFeed implements AsyncDisposable {
  readonly #redis: Redis;
  readonly #keyspace: Keyspace;
  readonly #log: Logger;
  readonly #listeners = new Set<FeedListener>();
  /** Listeners of every outbox event, not only the fleet's (the screens' read model). */
  readonly #all = new Set<FeedListener>();
  readonly #gaps = new Set<() => void>();
  /** Each tag group's live numbers (set at start). */
  #sequences: LiveSequence[] = [];
  /** Live entries that were not what live.lua writes (logged once). */
  unreadableLive = 0;
  /** Gaps found in the live numbers (logged at most every 10 s). */
  liveGaps = 0;
  #gapLoggedAt = 0;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(o: { bus: Bus; logger?: Logger }) {
    const reader = o.bus.duplicate(); // blocking reads get their own connection
    this.#redis = reader.redis;
    this.#keyspace = reader.keyspace;
    this.#log = (o.logger ?? silentLogger).child({ component: 'event-feed' });
    this.#redis.on('error', (err) => this.#log.debug({ err }, 'event feed connection error'));
  }

  /** Calls `listener` with every fleet event from now on; returns the unsubscribe. */
  subscribe(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls `listener` with every outbox event from now on, fleet event or not; returns the unsubscribe. */
  subscribeAll(listener: FeedListener): () => void {
    this.#all.add(listener);
    return () => this.#all.delete(listener);
  }

  /**
   * Calls `listener` when live events were missed (a live stream trimmed past what this feed had
   * read, or started over); returns the unsubscribe.
   */
  subscribeGaps(listener: () => void): () => void {
    this.#gaps.add(listener);
    return () => this.#gaps.delete(listener);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Resolves once the feed reads from the streams' current ends (events from then on arrive). */
  async start(): Promise<this> {
    const groups = Array.from({ length: this.#keyspace.tagGroups }, (_, g) => g);
    // Per group its outbox, then its live stream: one slot, so one XREAD names both.
    const streams = groups.flatMap((g) => [this.#keyspace.outbox(g), this.#keyspace.live(g)]);
    // The current last ids, so nothing between start() and the first blocking read is missed.
    const newest = await Promise.all(
      streams.map(async (s) => (await this.#redis.xrevrange(s, '+', '-', 'COUNT', 1))[0]),
    );
    this.#sequences = groups.map((g) => {
      const last = newest[2 * g + 1];
      return new LiveSequence(last === undefined ? undefined : liveNumber(last[1]));
    });
    this.#loop = this.#run(
      streams,
      newest.map((entry) => entry?.[0] ?? '0-0'),
    );
    return this;
  }

  async #run(streams: string[], last: string[]): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const reply = await this.#read(streams, last);
        if (reply.length === 0 && streams.length > 2) await delay(100, undefined, { signal }).catch(() => {});
        for (const [stream, entries] of reply) {
          const k = streams.indexOf(stream);
          last[k] = entries[entries.length - 1]?.[0] ?? last[k]!;
          const group = k >> 1;
          if (k % 2 === 1) this.#live(group, entries);
          else this.#outbox(group, entries);
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#log.warn({ err: toError(error) }, 'event feed read failed; retrying');
        await delay(500, undefined, { signal }).catch(() => {});
      }
    }
  }

  #outbox(group: number, entries: [string, string[]][]): void {
    if (this.#listeners.size === 0 && this.#all.size === 0) return;
    for (const item of toItems(group, entries).items) {
      for (const listener of this.#all) listener(item);
      if (!isFleetEvent(item.event)) continue;
      for (const listener of this.#listeners) listener(item);
    }
  }

  /**
   * A tag group's live entries: their numbers followed always (a gap is told), their events parsed
   * only for listeners of all — and handed to them.
   */
  #live(group: number, entries: [string, string[]][]): void {
    const sequence = this.#sequences[group]!;
    let gap = false;
    for (const [entryId, fields] of entries) {
      const n = liveNumber(fields);
      if (n === undefined) {
        this.#unreadable(group, entryId);
        continue;
      }
      if (!sequence.see(n)) gap = true;
      if (this.#all.size === 0) continue;
      const events = liveEvents(fields);
      if (events === undefined) {
        this.#unreadable(group, entryId);
        continue;
      }
      const emittedAt = Number(entryId.slice(0, entryId.indexOf('-')));
      events.forEach((event, i) => {
        if (typeof (event as OutboxEventJson | null)?.type !== 'string') return;
        const item: OutboxItem = {
          id: `l${group}-${entryId}-${i}`,
          emittedAt,
          event: event as OutboxEventJson,
        };
        for (const listener of this.#all) listener(item);
      });
    }
    if (gap) {
      this.liveGaps++;
      if (Date.now() - this.#gapLoggedAt >= 10_000) {
        this.#gapLoggedAt = Date.now();
        this.#log.info(
          { group, gaps: this.liveGaps },
          'event feed: live entries were trimmed before they were read; reading the values again',
        );
      }
      for (const listener of this.#gaps) listener();
    }
  }

  #unreadable(group: number, entryId: string): void {
    if (this.unreadableLive++ === 0)
      this.#log.warn({ group, entryId }, 'event feed: a live entry is not what live.lua writes; skipped');
  }

  /**
   * New entries of the outbox and live streams after `last`. One tag group: a blocking XREAD of
   * its two streams. Several (each its own Redis Cluster slot): one XREAD per group, pipelined,
   * not blocking — a read may not name keys of several slots, and blocking reads on one node's
   * connection would wait behind each other; the loop polls every 100 ms instead when idle.
   */
  async #read(streams: string[], last: string[]): Promise<[string, [string, string[]][]][]> {
    type Reply = [string, [string, string[]][]][] | null;
    if (streams.length === 2) {
      return (
        ((await this.#redis.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', ...streams, ...last)) as Reply) ??
        []
      );
    }
    const pipeline = openPipeline(this.#redis);
    for (let k = 0; k < streams.length; k += 2)
      pipeline.xread('COUNT', 1000, 'STREAMS', streams[k]!, streams[k + 1]!, last[k]!, last[k + 1]!);
    return ((await execOrThrow(pipeline)) as Reply[]).flatMap((reply) => reply ?? []);
  }

  /** The loop first (a read lasts at most a second), then the connection: as the outbox sink's stop, and why. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#redis.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
