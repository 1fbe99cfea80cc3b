/**
 * Which edges belong to the fleet: the links refuse (dead-letter, code `UNKNOWN_EDGE`) a message
 * from an edge id that is not provisioned. Over MQTT the broker's per-edge credentials already
 * keep strangers out; over Kafka any producer with access to the topic can name any key, so this
 * is the check that matters there.
 *
 * The fleet is a Redis set (`keyspace.fleet`), written by whoever provisions edges
 * (`provisionEdges`, `deprovisionEdges`; the gateway's device registry), each write moving a
 * version (`keyspace.fleetVersion`) in the same transaction. Each link holds a copy in memory,
 * so the check costs nothing per message, and looks at the version every few seconds: the set
 * itself is read again only when it moved (at 100,000 edges a 1.5 MB SMEMBERS, which holds Redis
 * for every link every 5 s, read for nothing). An edge provisioned a moment ago may be refused
 * for up to one refresh period: its messages are dead-lettered with the reason, not lost silently.
 */
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, toError } from '../../bus/mod.ts';

export interface EdgeRegistry {
  has(edgeId: string): boolean;
}

export interface RedisEdgeRegistryOptions {
  readonly bus: Bus;
  /** How often the copy is reloaded (default 5 s). */
  readonly refreshMs?: number;
  readonly logger?: Logger;
}

export class RedisEdgeRegistry implements EdgeRegistry, AsyncDisposable {
  readonly #o: RedisEdgeRegistryOptions;
  readonly #log: Logger;
  #edges = new Set<string>();
  /** The fleet's version the copy was read at (undefined: read it again). */
  #version: string | undefined;
  /** How many times the set was read (tests). */
  reads = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: RedisEdgeRegistryOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ registry: options.bus.keyspace.fleet });
  }

  get size(): number {
    return this.#edges.size;
  }

  has(edgeId: string): boolean {
    return this.#edges.has(edgeId);
  }

  /** Loads the fleet once (so the first message is judged on it), then keeps it fresh. */
  async start(): Promise<this> {
    await this.refresh();
    this.#timer = setInterval(
      () =>
        void this.refresh().catch((error: unknown) =>
          this.#log.warn({ err: toError(error) }, 'could not refresh the fleet; keeping the last copy'),
        ),
      this.#o.refreshMs ?? 5000,
    );
    this.#timer.unref();
    return this;
  }

  /** Reads the set again when its version moved (or there is none: a fleet written before versions). */
  async refresh(): Promise<void> {
    const { redis, keyspace } = this.#o.bus;
    // The version before the set: a write after this read moves it, so the next refresh reads again.
    const version = (await redis.get(keyspace.fleetVersion)) ?? undefined;
    if (version !== undefined && version === this.#version) return;
    this.#edges = new Set(await redis.smembers(keyspace.fleet));
    this.reads++;
    this.#version = version;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
  }
}

/** Adds edges to the fleet (what provisioning does). */
export async function provisionEdges(bus: Bus, edgeIds: readonly string[]): Promise<void> {
  for (let i = 0; i < edgeIds.length; i += 10_000)
    await fleetChange(bus, 'sadd', edgeIds.slice(i, i + 10_000));
}

/** Takes edges out of the fleet (deregistration): the links refuse them from their next refresh. */
export async function deprovisionEdges(bus: Bus, edgeIds: readonly string[]): Promise<void> {
  for (let i = 0; i < edgeIds.length; i += 10_000)
    await fleetChange(bus, 'srem', edgeIds.slice(i, i + 10_000));
}

/** The set and its version in one transaction (both keys are `{meta}`'s: one slot in a cluster). */
async function fleetChange(bus: Bus, op: 'sadd' | 'srem', ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const { redis, keyspace } = bus;
  const replies = await redis
    .multi()
    [op](keyspace.fleet, ...ids)
    .incr(keyspace.fleetVersion)
    .exec();
  const failed = replies?.find(([error]) => error !== null)?.[0];
  if (replies === null || failed) throw failed ?? new Error('the fleet change was not applied');
}
