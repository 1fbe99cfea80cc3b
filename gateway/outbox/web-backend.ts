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
import { setTimeout as delay } from 'node:timers/promises';
import { type Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import {
  dropLease,
  duplicateRedis,
  fnv1a32,
  holdLease,
  type Keyspace,
  type Redis,
  toError,
} from '../../bus/mod.ts';
import { isFleetEvent, type OutboxItem } from './events.ts';
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
}

export interface WebBackendDeps {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly holder: string;
  readonly logger?: Logger;
  readonly leaseTtlMs?: number;
}

interface Held {
  readonly worker: Worker;
  readonly running: Promise<void>;
}

export class WebBackendOutbox implements AsyncDisposable {
  readonly stats = { queued: 0, delivered: 0, retries: 0, refused: 0 };
  readonly #o: Required<Omit<WebBackendOptions, 'token' | 'types'>> &
    Pick<WebBackendOptions, 'token' | 'types'>;
  readonly #deps: WebBackendDeps;
  readonly #log: Logger;
  readonly #queues: Queue[];
  readonly #held = new Map<number, Held>();
  readonly #connection: Redis;
  readonly #stop = new AbortController();
  #leaseLoop: Promise<void> | undefined;

  constructor(options: WebBackendOptions, deps: WebBackendDeps) {
    this.#o = {
      ...options,
      partitions: options.partitions ?? 16,
      ratePerSecond: options.ratePerSecond ?? 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      backoffMs: options.backoffMs ?? { first: 200, max: 30_000 },
    };
    if (!(Number.isInteger(this.#o.partitions) && this.#o.partitions >= 1 && this.#o.partitions <= 256))
      throw new RangeError(
        `Cannot create web-backend outbox: partitions must be 1..256, got ${this.#o.partitions}`,
      );
    new URL(this.#o.url); // a bad URL fails here, at start, not at the first event
    this.#deps = deps;
    this.#log = (deps.logger ?? silentLogger).child({ component: 'web-backend' });
    // BullMQ workers block on their connection; they must never give up on a command.
    this.#connection = duplicateRedis(deps.redis);
    this.#connection.on('error', (err) => this.#log.debug({ err }, 'web-backend connection error'));
    this.#queues = Array.from(
      { length: this.#o.partitions },
      (_, p) => new Queue(queueName(p), { connection: this.#connection, prefix: deps.keyspace.bullPrefix }),
    );
  }

  /** The partition an edge's events go through. */
  partitionOf(edgeId: string): number {
    return fnv1a32(edgeId) % this.#o.partitions;
  }

  /** The sink handler: queues the batch's fleet events, in order, per partition. */
  readonly enqueue: SinkHandler = async (items) => {
    const byPartition = new Map<number, OutboxItem[]>();
    for (const item of items) {
      const { event } = item;
      if (!isFleetEvent(event) || typeof event.edgeId !== 'string') continue;
      if (this.#o.types !== undefined && !this.#o.types.includes(event.type)) continue;
      const p = this.partitionOf(event.edgeId);
      const list = byPartition.get(p);
      if (list) list.push(item);
      else byPartition.set(p, [item]);
    }
    await Promise.all(
      [...byPartition].map(([p, list]) =>
        this.#queues[p]!.addBulk(
          list.map(({ id, emittedAt, event }) => ({
            name: event.type,
            data: { ...event, eventId: id, emittedAt },
            opts: {
              jobId: id,
              // Kept a while after delivery so a re-queued event (the sink died before its
              // acknowledgement) is recognised; failed ones are kept for people to look at.
              removeOnComplete: { age: 3600, count: 200_000 },
              removeOnFail: { count: 100_000 },
            },
          })),
        ),
      ),
    );
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
    this.#leaseLoop ??= this.#leases();
    return this;
  }

  async #leases(): Promise<void> {
    const { redis, keyspace, holder, leaseTtlMs = 10_000 } = this.#deps;
    while (!this.#stop.signal.aborted) {
      for (let p = 0; p < this.#o.partitions && !this.#stop.signal.aborted; p++) {
        try {
          const holds = await holdLease(redis, keyspace, leaseName(p), holder, leaseTtlMs);
          const held = this.#held.get(p);
          if (holds && held === undefined) this.#held.set(p, await this.#startWorker(p));
          if (!holds && held !== undefined) {
            this.#log.warn({ partition: p }, 'web-backend partition lease lost; its worker stops');
            this.#held.delete(p);
            await held.worker.close(true);
          }
        } catch (error) {
          this.#log.warn({ err: toError(error), partition: p }, 'web-backend partition lease check failed');
        }
      }
      await this.#sleep(leaseTtlMs / 3);
    }
  }

  async #startWorker(p: number): Promise<Held> {
    const queue = this.#queues[p]!;
    // A holder that died left its job active: back to the head of the queue before anything else.
    for (const job of (await queue.getActive()).reverse()) await job.moveToWait();
    const perPartition = Math.max(1, Math.ceil(this.#o.ratePerSecond / this.#o.partitions));
    const worker = new Worker(queueName(p), (job, token) => this.#deliver(p, job, token), {
      connection: this.#connection,
      prefix: this.#deps.keyspace.bullPrefix,
      concurrency: 1,
      autorun: false,
      limiter: { max: perPartition, duration: 1000 },
      removeOnComplete: { age: 3600, count: 200_000 },
    });
    worker.on('failed', (job, error) => {
      if (job !== undefined && error instanceof UnrecoverableError) {
        this.stats.refused++;
        this.#log.error(
          { eventId: job.id, err: error },
          'web backend refused an event for good; kept as failed',
        );
      }
    });
    worker.on('error', (error) =>
      this.#log.warn({ err: toError(error), partition: p }, 'web-backend worker error'),
    );
    this.#log.info({ partition: p }, 'delivering a web-backend partition');
    return { worker, running: worker.run() };
  }

  async #deliver(p: number, job: Job, token: string | undefined): Promise<void> {
    const { url, token: secret, requestTimeoutMs, backoffMs } = this.#o;
    for (let attempt = 1; ; attempt++) {
      if (this.#stop.signal.aborted || !this.#held.has(p)) {
        // Not ours to finish: back to the head of the queue for the next holder.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      let reason: string;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': String(job.id),
            'x-devicehub-event': job.name,
            'x-devicehub-attempt': String(attempt),
            ...(secret === undefined ? {} : { authorization: `Bearer ${secret}` }),
          },
          body: JSON.stringify(job.data),
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.stats.delivered++;
          return;
        }
        reason = `HTTP ${response.status}`;
        if (
          response.status >= 400 &&
          response.status < 500 &&
          response.status !== 408 &&
          response.status !== 429
        )
          throw new UnrecoverableError(`the web backend refused it: ${reason}`);
      } catch (error) {
        if (error instanceof UnrecoverableError) throw error;
        reason = toError(error).message;
      }
      this.stats.retries++;
      const backoff = Math.min(backoffMs.max, backoffMs.first * 2 ** Math.min(attempt - 1, 20));
      if (attempt === 1 || attempt % 10 === 0)
        this.#log.warn(
          { eventId: job.id, attempt, reason, retryInMs: backoff },
          'web backend did not take an event; retrying',
        );
      await this.#sleep(backoff * (0.8 + Math.random() * 0.4));
    }
  }

  /** Waits `ms`, or less when stopping. */
  #sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.#stop.signal }).catch(() => {});
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#leaseLoop;
    const { redis, keyspace, holder } = this.#deps;
    await Promise.all(
      [...this.#held].map(async ([p, { worker, running }]) => {
        await worker.close();
        await running.catch(() => {});
        await dropLease(redis, keyspace, leaseName(p), holder).catch(() => {});
      }),
    );
    this.#held.clear();
    await Promise.all(this.#queues.map((q) => q.close()));
    this.#connection.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * A partition's BullMQ queue. The braces are a Redis Cluster hash tag: BullMQ's scripts touch
 * several keys of one queue at once, so they must share a slot; each partition has its own tag,
 * so the partitions spread over the cluster's masters.
 */
export const queueName = (p: number) => `{webhook-${p}}`;
/** The named lease that makes one worker in the cluster deliver a partition. */
const leaseName = (p: number) => `webhook-${p}`;
