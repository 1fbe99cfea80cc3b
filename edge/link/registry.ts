/**
 * Which edges belong to the fleet: the links refuse (dead-letter, code `UNKNOWN_EDGE`) a message
 * from an edge id that is not provisioned. Over MQTT the broker's per-edge credentials already
 * keep strangers out; over Kafka any producer with access to the topic can name any key, so this
 * is the check that matters there.
 *
 * The fleet is a Redis set (`keyspace.fleet`), written by whoever provisions edges
 * (`provisionEdges`; the gateway's device registry); each link holds a copy in memory, refreshed every few seconds, so the
 * check costs nothing per message. An edge provisioned a moment ago may be refused for up to
 * one refresh period: its messages are dead-lettered with the reason, not lost silently.
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

  async refresh(): Promise<void> {
    const { bus } = this.#o;
    this.#edges = new Set(await bus.redis.smembers(bus.keyspace.fleet));
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
    await bus.redis.sadd(bus.keyspace.fleet, ...edgeIds.slice(i, i + 10_000));
}
