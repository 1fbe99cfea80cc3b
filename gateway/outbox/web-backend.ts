/**
 * Fleet events to the web backend through persistent BullMQ queues, replacing the in-memory
 * thread-pool queue that overflowed when the backend slowed down.
 *
 * - The sink queues each fleet event in one of `partitions` queues (`webhook-<p>`, p from a hash
 *   of the edge id) with the outbox item id as job id: queued twice, kept once.
 * - One worker per partition in the whole cluster (a named lease `webhook-<p>`; gateways share
 *   the partitions), one job at a time: events of an edge reach the backend in order.
 * - A job is POSTed with `Idempotency-Key: <event id>` and retried in place with exponential
 *   backoff (capped) until the backend takes it — 2xx — so a later event never overtakes it; the
 *   backlog waits in Redis meanwhile and ingest goes on. A 4xx other than 408/429 is a refusal for
 *   good: the job fails (kept in the queue's failed set, counted, logged) and the next goes.
 * - A worker that loses its lease or stops puts its job back at the head of the queue; a new
 *   holder first returns jobs a dead holder left active, so nothing is skipped or reordered.
 * - The rate limit (events per second, all partitions together) is BullMQ's limiter.
 */
import { Queue } from 'bullmq';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, fnv1a32, type Redis, webhookQueue } from '../../bus/mod.ts';
import { isFleetEvent, type OutboxItem, orderingKey } from './events.ts';
import { type DeliveryOptions, PartitionDelivery } from './partition-delivery.ts';
import type { SinkHandler } from './sink.ts';

export interface WebBackendOptions {
  /** Where events are POSTed (JSON body: the event with `eventId` and `emittedAt`). */
  readonly url: string;
  /** Sent as `Authorization: Bearer <token>` so the backend knows it is us. */
  readonly token?: string;
  /** Queues events are spread over by edge (default 16); fixed for the cluster's lifetime. */
  readonly partitions?: number;
  /** Most events per second to the backend, all partitions together (default 1000). */
  readonly ratePerSecond?: number;
  /** One request's time limit (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Backoff between attempts: first and longest (default 200 ms, 30 s). */
  readonly backoffMs?: { readonly first: number; readonly max: number };
  /** Event types sent (default every fleet event). */
  readonly types?: readonly string[];
  /** Applied to each event as it is POSTed (a `clip.ready` gains its signed links, fresh at each attempt). */
  readonly transform?: (event: Record<string, unknown>) => Record<string, unknown>;
}

export interface WebBackendDeps {
  readonly bus: Bus;
  readonly holder: string;
  readonly logger?: Logger;
  readonly leaseTtlMs?: number;
}

export class WebBackendOutbox implements AsyncDisposable {
  readonly stats = { queued: 0, delivered: 0, retries: 0, refused: 0 };
  readonly #o: DeliveryOptions & Pick<WebBackendOptions, 'types'>;
  readonly #queues: Queue[];
  readonly #connection: Redis;
  readonly #delivery: PartitionDelivery;

  constructor(options: WebBackendOptions, deps: WebBackendDeps) {
    this.#o = withDefaults(options);
    const log = (deps.logger ?? silentLogger).child({ component: 'web-backend' });
    // BullMQ workers block on their connection; they must never give up on a command.
    this.#connection = deps.bus.duplicate().redis;
    this.#connection.on('error', (err) => log.debug({ err }, 'web-backend connection error'));
    this.#queues = Array.from(
      { length: this.#o.partitions },
      (_, p) =>
        new Queue(webhookQueue(p), { connection: this.#connection, prefix: deps.bus.keyspace.bullPrefix }),
    );
    this.#delivery = new PartitionDelivery(this.#o, {
      ...deps,
      log,
      connection: this.#connection,
      queues: this.#queues,
      stats: this.stats,
    });
  }

  /** The partition an edge's (or a rollout's, `rollout/<id>`) events go through. */
  partitionOf(key: string): number {
    return fnv1a32(key) % this.#o.partitions;
  }

  /** The sink handler: queues the batch's fleet events, in order, per partition. */
  readonly enqueue: SinkHandler = async (items) => {
    const byPartition = new Map<number, OutboxItem[]>();
    for (const item of items) {
      const { event } = item;
      const key = isFleetEvent(event) ? orderingKey(event) : undefined;
      if (key === undefined) continue;
      if (this.#o.types !== undefined && !this.#o.types.includes(event.type)) continue;
      const p = this.partitionOf(key);
      const list = byPartition.get(p);
      if (list) list.push(item);
      else byPartition.set(p, [item]);
    }
    await Promise.all([...byPartition].map(([p, list]) => this.#queues[p]!.addBulk(list.map(toJob))));
    for (const list of byPartition.values()) this.stats.queued += list.length;
  };

  /** Events waiting or in delivery, all partitions. */
  async backlog(): Promise<number> {
    const counts = await Promise.all(
      this.#queues.map((q) => q.getJobCountByTypes('wait', 'active', 'delayed')),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Jobs the backend refused for good, all partitions. */
  async refused(): Promise<number> {
    const counts = await Promise.all(this.#queues.map((q) => q.getFailedCount()));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Starts taking partitions and delivering their events. */
  startDelivery(): this {
    this.#delivery.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.#delivery.stop();
    await Promise.all(this.#queues.map((q) => q.close()));
    this.#connection.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The options with their defaults; a bad partition count or URL fails here, at start. */
function withDefaults(options: WebBackendOptions): DeliveryOptions & Pick<WebBackendOptions, 'types'> {
  const o = {
    ...options,
    partitions: options.partitions ?? 16,
    ratePerSecond: options.ratePerSecond ?? 1000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    backoffMs: options.backoffMs ?? { first: 200, max: 30_000 },
  };
  if (!(Number.isInteger(o.partitions) && o.partitions >= 1 && o.partitions <= 256))
    throw new RangeError(`Cannot create web-backend outbox: partitions must be 1..256, got ${o.partitions}`);
  new URL(o.url); // a bad URL fails here, at start, not at the first event
  return o;
}

/** An outbox item as a BullMQ job: its id is the job id (queued twice, kept once). */
const toJob = ({ id, emittedAt, event }: OutboxItem) => ({
  name: event.type,
  data: { ...event, eventId: id, emittedAt },
  opts: {
    jobId: id,
    // Kept a while after delivery so a re-queued event (the sink died before its
    // acknowledgement) is recognised; failed ones are kept for people to look at.
    removeOnComplete: { age: 3600, count: 200_000 },
    removeOnFail: { count: 100_000 },
  },
});
