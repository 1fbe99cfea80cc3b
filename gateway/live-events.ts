/**
 * The live feed behind `/v1/events`: each gateway tails every outbox stream (XREAD from the
 * newest entry on, no consumer group: every gateway sees every event) and hands the fleet events
 * to its subscribers. Live means live: a subscriber sees what happens while it listens; history
 * is the alarm table and the web backend's queue.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, silentLogger } from '../actors/mod.ts';
import { type Bus, execOrThrow, type Keyspace, openPipeline, type Redis, toError } from '../bus/mod.ts';
import { isFleetEvent, type OutboxItem, toItems } from './outbox/events.ts';

export type FeedListener = (item: OutboxItem) => void;

export class EventFeed implements AsyncDisposable {
  readonly #redis: Redis;
  readonly #keyspace: Keyspace;
  readonly #log: Logger;
  readonly #listeners = new Set<FeedListener>();
  /** Listeners of every outbox event, not only the fleet's (the screens' read model). */
  readonly #all = new Set<FeedListener>();
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

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Resolves once the feed reads from the streams' current ends (events from then on arrive). */
  async start(): Promise<this> {
    const streams = Array.from({ length: this.#keyspace.tagGroups }, (_, g) => this.#keyspace.outbox(g));
    // The current last ids, so nothing between start() and the first blocking read is missed.
    const last = await Promise.all(
      streams.map(async (s) => (await this.#redis.xrevrange(s, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0'),
    );
    this.#loop = this.#run(streams, last);
    return this;
  }

  async #run(streams: string[], last: string[]): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const reply = await this.#read(streams, last);
        if (reply.length === 0 && streams.length > 1) await delay(100, undefined, { signal }).catch(() => {});
        for (const [stream, entries] of reply) {
          const g = streams.indexOf(stream);
          last[g] = entries[entries.length - 1]?.[0] ?? last[g]!;
          if (this.#listeners.size === 0 && this.#all.size === 0) continue;
          for (const item of toItems(g, entries).items) {
            for (const listener of this.#all) listener(item);
            if (!isFleetEvent(item.event)) continue;
            for (const listener of this.#listeners) listener(item);
          }
        }
      } catch (error) {
        if (signal.aborted) break;
        this.#log.warn({ err: toError(error) }, 'event feed read failed; retrying');
        await delay(500, undefined, { signal }).catch(() => {});
      }
    }
  }

  /**
   * New entries of the outbox streams after `last`. One stream: a blocking XREAD. Several (tag
   * groups, each its own Redis Cluster slot): one XREAD per stream, pipelined, not blocking —
   * a read may not name keys of several slots, and blocking reads on one node's connection
   * would wait behind each other; the loop polls every 100 ms instead when idle.
   */
  async #read(streams: string[], last: string[]): Promise<[string, [string, string[]][]][]> {
    type Reply = [string, [string, string[]][]][] | null;
    if (streams.length === 1) {
      return (
        ((await this.#redis.xread(
          'COUNT',
          1000,
          'BLOCK',
          1000,
          'STREAMS',
          streams[0]!,
          last[0]!,
        )) as Reply) ?? []
      );
    }
    const pipeline = openPipeline(this.#redis);
    streams.forEach((stream, g) => {
      pipeline.xread('COUNT', 1000, 'STREAMS', stream, last[g]!);
    });
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
