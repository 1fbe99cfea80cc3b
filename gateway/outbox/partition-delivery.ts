/**
 * Delivering the web-backend partitions this gateway holds: a named lease `webhook-<p>` per
 * partition (one worker in the whole cluster), one BullMQ worker per held partition taking one
 * job at a time, each job POSTed with its idempotency key and retried in place with capped
 * exponential backoff until the backend takes it (2xx) or refuses it for good (a 4xx other than
 * 408/429). A worker that loses its lease or stops puts its job back at the head of the queue.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type Job, type Processor, type Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Logger } from '../../actors/mod.ts';
import { type Bus, type Redis, toError, webhookLease } from '../../bus/mod.ts';

/** The web-backend options with their defaults filled in. */
export interface DeliveryOptions {
  readonly url: string;
  readonly token?: string;
  readonly partitions: number;
  readonly ratePerSecond: number;
  readonly requestTimeoutMs: number;
  readonly backoffMs: { readonly first: number; readonly max: number };
  /** Applied to each event as it is POSTed (WebBackendOptions.transform). */
  readonly transform?: (event: Record<string, unknown>) => Record<string, unknown>;
}

export interface DeliveryDeps {
  readonly bus: Bus;
  readonly holder: string;
  readonly leaseTtlMs?: number;
  readonly log: Logger;
  /** The connection BullMQ's workers block on. */
  readonly connection: Redis;
  /** The partitions' queues, by partition. */
  readonly queues: readonly Queue[];
  /** Counted here: delivered, retries, refused. */
  readonly stats: { delivered: number; retries: number; refused: number };
}

interface Held {
  readonly worker: Worker;
  readonly running: Promise<void>;
}

export class PartitionDelivery {
  readonly #o: DeliveryOptions;
  readonly #deps: DeliveryDeps;
  readonly #held = new Map<number, Held>();
  readonly #stop = new AbortController();
  #leaseLoop: Promise<void> | undefined;

  constructor(options: DeliveryOptions, deps: DeliveryDeps) {
    this.#o = options;
    this.#deps = deps;
  }

  /** Starts taking partitions and delivering their events. */
  start(): void {
    this.#leaseLoop ??= this.#leases();
  }

  async #leases(): Promise<void> {
    const { bus, holder, leaseTtlMs = 10_000, log } = this.#deps;
    while (!this.#stop.signal.aborted) {
      for (let p = 0; p < this.#o.partitions && !this.#stop.signal.aborted; p++) {
        try {
          const holds = await bus.holdLease({ name: webhookLease(p), holder, ttlMs: leaseTtlMs });
          const held = this.#held.get(p);
          if (holds && held === undefined) this.#held.set(p, await this.#startWorker(p));
          if (!holds && held !== undefined) {
            log.warn({ partition: p }, 'web-backend partition lease lost; its worker stops');
            this.#held.delete(p);
            await held.worker.close(true);
          }
        } catch (error) {
          log.warn({ err: toError(error), partition: p }, 'web-backend partition lease check failed');
        }
      }
      await this.#sleep(leaseTtlMs / 3);
    }
  }

  async #startWorker(p: number): Promise<Held> {
    const queue = this.#deps.queues[p]!;
    // A holder that died left its job active: back to the head of the queue before anything else.
    for (const job of (await queue.getActive()).reverse()) await job.moveToWait();
    const worker = openWorker(this.#o, this.#deps, {
      partition: p,
      process: (job, token) =>
        deliver(this.#o, this.#deps, {
          job,
          token,
          // Not ours to finish once stopping or the lease is lost.
          ours: () => !this.#stop.signal.aborted && this.#held.has(p),
          sleep: (ms) => this.#sleep(ms),
        }),
    });
    this.#deps.log.info({ partition: p }, 'delivering a web-backend partition');
    return { worker, running: worker.run() };
  }

  /** Waits `ms`, or less when stopping. */
  #sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.#stop.signal }).catch(() => {});
  }

  /** Stops the lease loop and the workers (their jobs back to the queue), gives the leases up. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#leaseLoop;
    const { bus, holder } = this.#deps;
    await Promise.all(
      [...this.#held].map(async ([p, { worker, running }]) => {
        await worker.close();
        await running.catch(() => {});
        await bus.dropLease(webhookLease(p), holder).catch(() => false);
      }),
    );
    this.#held.clear();
  }
}

/** A partition's worker: one job at a time, at the partition's share of the rate limit. */
function openWorker(
  o: DeliveryOptions,
  deps: DeliveryDeps,
  w: { readonly partition: number; readonly process: Processor },
): Worker {
  const { partition: p, process } = w;
  const { queues, connection, bus, log, stats } = deps;
  const perPartition = Math.max(1, Math.ceil(o.ratePerSecond / o.partitions));
  const worker = new Worker(queues[p]!.name, process, {
    connection,
    prefix: bus.keyspace.bullPrefix,
    concurrency: 1,
    autorun: false,
    limiter: { max: perPartition, duration: 1000 },
    removeOnComplete: { age: 3600, count: 200_000 },
  });
  worker.on('failed', (job, error) => {
    if (job !== undefined && error instanceof UnrecoverableError) {
      stats.refused++;
      log.error({ eventId: job.id, err: error }, 'web backend refused an event for good; kept as failed');
    }
  });
  worker.on('error', (error) => log.warn({ err: toError(error), partition: p }, 'web-backend worker error'));
  return worker;
}

/**
 * A job until the backend takes it: POSTed, retried in place with capped exponential backoff;
 * given back to the head of the queue when it is no longer ours to finish.
 */
async function deliver(
  o: DeliveryOptions,
  deps: DeliveryDeps,
  at: { job: Job; token: string | undefined; ours: () => boolean; sleep: (ms: number) => Promise<void> },
): Promise<void> {
  const { job } = at;
  const { backoffMs } = o;
  for (let attempt = 1; ; attempt++) {
    if (!at.ours()) {
      // Not ours to finish: back to the head of the queue for the next holder.
      await job.moveToWait(at.token);
      throw new WaitingError();
    }
    const reason = await postEvent(o, job, attempt);
    if (reason === undefined) {
      deps.stats.delivered++;
      return;
    }
    deps.stats.retries++;
    const backoff = Math.min(backoffMs.max, backoffMs.first * 2 ** Math.min(attempt - 1, 20));
    if (attempt === 1 || attempt % 10 === 0)
      deps.log.warn(
        { eventId: job.id, attempt, reason, retryInMs: backoff },
        'web backend did not take an event; retrying',
      );
    await at.sleep(backoff * (0.8 + Math.random() * 0.4));
  }
}

/**
 * One attempt to POST a job to the web backend: undefined when it took it (2xx), the reason to
 * retry otherwise; a refusal for good (a 4xx other than 408/429) throws UnrecoverableError.
 */
async function postEvent(o: DeliveryOptions, job: Job, attempt: number): Promise<string | undefined> {
  try {
    const response = await fetch(o.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': String(job.id),
        'x-devicehub-event': job.name,
        'x-devicehub-attempt': String(attempt),
        ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }),
      },
      body: JSON.stringify(o.transform === undefined ? job.data : o.transform(job.data)),
      signal: AbortSignal.timeout(o.requestTimeoutMs),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return undefined;
    const reason = `HTTP ${response.status}`;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429)
      throw new UnrecoverableError(`the web backend refused it: ${reason}`);
    return reason;
  } catch (error) {
    if (error instanceof UnrecoverableError) throw error;
    return toError(error).message;
  }
}
