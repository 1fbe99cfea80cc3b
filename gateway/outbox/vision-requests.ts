/**
 * The sink handler that turns the edge actors' `vision.requested` events into recognition jobs: a
 * BullMQ job named `recognize` on its model's queue (`recognitionQueue(model)`), job id
 * `recognitionJobId(edge, event)`, priority = its class's (1 trapped … 4 other), data = the
 * request plus its kind's policy (`kind`: targets, confirmScore, …) as the recognition policy has it
 * now. A batch may come twice: a job id already in the queue (waiting, running or finished) adds
 * nothing and sheds nothing.
 *
 * Backpressure: a queue holding `queueBound` waiting jobs takes no more without shedding one — the
 * lowest class goes: the new job when its class is the lowest waiting (or lower), else the newest
 * waiting job of the lowest class is removed to make room. The shed request's edge actor gets the
 * verdict 'shed' (`queue over its bound (N)`), which its kind's onTimeout decides on; counted.
 * The bound is kept by this handler, one sink per tag group: with several tag groups the queue may
 * pass it by the batches in flight at once (docs/decisions/035-verdicts.md).
 */
import { type Job, Queue } from 'bullmq';
import { Counter, type Registry } from 'prom-client';
import { createActorClient, type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, type Redis, recognitionJobId, recognitionQueue } from '../../bus/mod.ts';
import {
  DEFAULT_RECOGNITION_POLICY,
  edgeActor,
  priorityOf,
  type RecognitionKindPolicy,
  type RecognitionPolicy,
  type VisionRequest,
  type VisionVerdictPayload,
  visionRequestProblem,
} from '../../edge/mod.ts';
import type { OutboxEventJson } from './events.ts';
import type { SinkHandler } from './sink.ts';

/** The recognition job's name on `recognitionQueue(model)` (the workers take it). */
export const RECOGNITION_JOB = 'recognize';

/** A recognition job's data: the request, and its kind's policy when the policy names the kind. */
export type RecognitionJobData = VisionRequest & { readonly kind?: RecognitionKindPolicy };

/** How long finished jobs stay (seconds): long enough that a replayed batch finds them. */
const KEEP = { removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } } as const;

export interface VisionRequestsDeps {
  readonly bus: Bus;
  /** The recognition policy in force (the gateway's policy publisher keeps the last it wrote). */
  readonly policy?: () => RecognitionPolicy;
  readonly logger?: Logger;
}

/** What this gateway's sink did with vision requests (counts since start). */
export interface VisionRequestStats {
  requested: number;
  queued: number;
  repeated: number;
  shed: number;
  malformed: number;
}

/** `devicehub_recognition_requests_total{outcome}`: queued, repeated (a replay), shed, malformed. */
export function visionRequestMetrics(registry: Registry, stats: Readonly<VisionRequestStats>): void {
  new Counter({
    name: 'devicehub_recognition_requests_total',
    help: 'Vision requests this gateway’s outbox sink handled: queued, repeated (a replayed batch), shed (queue over its bound), malformed',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const outcome of ['queued', 'repeated', 'shed', 'malformed'] as const)
        this.inc({ outcome }, stats[outcome]);
    },
  });
}

export class VisionRequests implements AsyncDisposable {
  readonly stats: VisionRequestStats = { requested: 0, queued: 0, repeated: 0, shed: 0, malformed: 0 };
  readonly #bus: Bus;
  readonly #policy: () => RecognitionPolicy;
  readonly #log: Logger;
  readonly #connection: Redis;
  readonly #queues = new Map<string, Queue<RecognitionJobData>>();
  readonly #edges;

  constructor(deps: VisionRequestsDeps) {
    this.#bus = deps.bus;
    this.#policy = deps.policy ?? (() => DEFAULT_RECOGNITION_POLICY);
    this.#log = (deps.logger ?? silentLogger).child({ component: 'vision-requests' });
    this.#connection = deps.bus.duplicate().redis;
    this.#connection.on('error', (err) => this.#log.debug({ err }, 'recognition queue connection error'));
    this.#edges = createActorClient(deps.bus, edgeActor);
  }

  /** A model's queue (tests and the operator's tools look into it). */
  queue(model: string): Queue<RecognitionJobData> {
    let queue = this.#queues.get(model);
    if (queue === undefined) {
      queue = new Queue<RecognitionJobData>(recognitionQueue(model), {
        connection: this.#connection,
        prefix: this.#bus.keyspace.bullPrefix,
      });
      this.#queues.set(model, queue);
    }
    return queue;
  }

  /** The sink handler: jobs for the batch's vision requests, per model, in stream order. */
  readonly record: SinkHandler = async (items) => {
    const byModel = new Map<string, VisionRequest[]>();
    for (const { id, event } of items) {
      if (event.type !== 'vision.requested') continue;
      const request = toRequest(event);
      if (typeof request === 'string') {
        this.stats.malformed++;
        this.#log.warn({ outboxId: id, edgeId: event.edgeId, problem: request }, 'vision request refused');
        continue;
      }
      this.stats.requested++;
      const same = byModel.get(request.model);
      if (same === undefined) byModel.set(request.model, [request]);
      else same.push(request);
    }
    for (const [model, requests] of byModel) await this.#enqueue(model, requests);
  };

  async #enqueue(model: string, requests: readonly VisionRequest[]): Promise<void> {
    const policy = this.#policy();
    const bound = policy.queueBound;
    const queue = this.queue(model);
    let waiting = await waitingCount(queue);
    for (const request of requests) {
      const jobId = recognitionJobId(request.edgeId, request.eventId);
      if ((await queue.getJobState(jobId)) !== 'unknown') {
        this.stats.repeated++; // a replayed batch
        continue;
      }
      const priority = priorityOf(request.class);
      if (waiting >= bound) {
        const lowest = await lowestWaiting(queue);
        if (lowest === undefined || (lowest.opts.priority ?? 0) <= priority) {
          await this.#shed(request, bound);
          continue;
        }
        if (await removed(lowest)) await this.#shed(lowest.data, bound);
        else waiting++; // taken by a worker meanwhile: room made all the same, counted as waiting
      } else waiting++;
      const kind = policy.kinds[request.alarm] ?? DEFAULT_RECOGNITION_POLICY.kinds[request.alarm];
      await queue.add(RECOGNITION_JOB, kind === undefined ? request : { ...request, kind }, {
        jobId,
        priority,
        ...KEEP,
      });
      this.stats.queued++;
      this.#log.info({ jobId, edgeId: request.edgeId, alarm: request.alarm, priority }, 'recognition queued');
    }
  }

  /** Tells the request's edge actor that it was shed. */
  async #shed(request: VisionRequest, bound: number): Promise<void> {
    const verdict: VisionVerdictPayload = {
      eventId: request.eventId,
      alarm: request.alarm,
      since: request.since,
      verdict: 'shed',
      reason: `queue over its bound (${bound})`,
    };
    await this.#edges.send(request.edgeId, 'visionVerdict', verdict);
    this.stats.shed++;
    this.#log.warn(
      { edgeId: request.edgeId, eventId: request.eventId, class: request.class, bound },
      'recognition shed',
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
    this.#connection.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Jobs not taken yet (prioritized, and plain waiting ones should any come without a priority). */
async function waitingCount(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('prioritized', 'wait');
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** The newest waiting job of the lowest class: the prioritized set's last (score = priority, then order). */
async function lowestWaiting(queue: Queue<RecognitionJobData>): Promise<Job<RecognitionJobData> | undefined> {
  const [job] = await queue.getJobs(['prioritized'], 0, 0, false);
  return job ?? undefined;
}

/** Removes a waiting job; false when a worker took it meanwhile (locked) or it is gone. */
async function removed(job: Job): Promise<boolean> {
  try {
    await job.remove();
    return true;
  } catch {
    return false;
  }
}

/** The request an event carries, or why it is not one. */
function toRequest(event: OutboxEventJson): VisionRequest | string {
  const { type: _type, ...fields } = event;
  const problem = visionRequestProblem(fields);
  if (problem !== undefined) return problem;
  const r = fields as unknown as VisionRequest;
  return {
    edgeId: r.edgeId,
    eventId: r.eventId,
    alarm: r.alarm,
    since: r.since,
    frames: r.frames,
    class: r.class,
    model: r.model,
    deadlineAt: r.deadlineAt,
    requestedAt: r.requestedAt,
  };
}
