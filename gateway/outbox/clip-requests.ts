/**
 * The sink handler that turns the edge actors' `clip.requested` events into clip jobs: the clip's
 * row in `clips` ('queued'; on conflict nothing) first, then the BullMQ job on `clipQueue()` with
 * the clip id as job id, which the clip workers (`devicehub clips`) take. A batch may come twice
 * (the sink's lease moved, the gateway died before acknowledging): the row is there and the job id
 * is taken, so nothing is added twice. A row already past 'queued' (the clip was fetched, or
 * failed) gets no job again, even once its finished job has been removed from the queue; a
 * 'queued' row does, as a gateway may have died between the row and the job.
 */
import { Queue } from 'bullmq';
import { and, eq, inArray } from 'drizzle-orm';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, clipQueue, type Redis } from '../../bus/mod.ts';
import { type ClipRequest, clipRequestProblem } from '../../edge/protocol/mod.ts';
import { queuedClipRow } from '../db/clip-rows.ts';
import type { Db } from '../db/database.ts';
import { clips } from '../db/schema.ts';
import type { OutboxEventJson } from './events.ts';
import type { SinkHandler } from './sink.ts';

/** The clip job's name on `clipQueue()`. */
const CLIP_JOB = 'clip';

/** How long finished clip jobs stay in the queue (seconds): done a week, failed a month. */
const KEEP = { removeOnComplete: { age: 7 * 86_400 }, removeOnFail: { age: 30 * 86_400 } } as const;

export interface ClipRequestsDeps {
  readonly db: Db;
  readonly bus: Bus;
  readonly logger?: Logger;
}

export class ClipRequests implements AsyncDisposable {
  readonly stats = { requested: 0, queued: 0, malformed: 0 };
  readonly #db: Db;
  readonly #log: Logger;
  readonly #connection: Redis;
  readonly #queue: Queue;

  constructor(deps: ClipRequestsDeps) {
    this.#db = deps.db;
    this.#log = (deps.logger ?? silentLogger).child({ component: 'clip-requests' });
    this.#connection = deps.bus.duplicate().redis;
    this.#connection.on('error', (err) => this.#log.debug({ err }, 'clip queue connection error'));
    this.#queue = new Queue(clipQueue(), {
      connection: this.#connection,
      prefix: deps.bus.keyspace.bullPrefix,
    });
  }

  /** The queue the jobs go to (tests and the operator's tools look into it). */
  get queue(): Queue {
    return this.#queue;
  }

  /** The sink handler: rows, then jobs for the batch's clip requests. */
  readonly record: SinkHandler = async (items) => {
    const requests = new Map<string, ClipRequest>();
    for (const { id, event } of items) {
      if (event.type !== 'clip.requested') continue;
      const request = toRequest(event);
      if (typeof request === 'string') {
        this.stats.malformed++;
        this.#log.warn({ eventId: id, edgeId: event.edgeId, problem: request }, 'clip request refused');
        continue;
      }
      requests.set(request.clipId, request);
    }
    if (requests.size === 0) return;
    this.stats.requested += requests.size;
    const inserted = await this.#db
      .insert(clips)
      .values([...requests.values()].map(queuedClipRow))
      .onConflictDoNothing()
      .returning({ id: clips.id });
    const fresh = new Set(inserted.map((r) => r.id));
    const others = [...requests.keys()].filter((id) => !fresh.has(id));
    const waiting =
      others.length === 0
        ? []
        : await this.#db
            .select({ id: clips.id })
            .from(clips)
            .where(and(inArray(clips.id, others), eq(clips.status, 'queued')));
    const queue = [...fresh, ...waiting.map((r) => r.id)].map((id) => requests.get(id)!);
    if (queue.length === 0) return;
    await this.#queue.addBulk(
      // A job waits (delayed, in Redis) until its window has ended: Ezviz cannot save a recording
      // that is still being made, and post-roll is part of the clip.
      queue.map((data) => ({
        name: CLIP_JOB,
        data,
        opts: { jobId: data.clipId, delay: Math.max(0, data.window.end - Date.now()), ...KEEP },
      })),
    );
    this.stats.queued += queue.length;
    for (const r of queue)
      this.#log.info({ clipId: r.clipId, edgeId: r.edgeId, alarm: r.alarm }, 'clip queued');
  };

  async stop(): Promise<void> {
    await this.#queue.close();
    this.#connection.disconnect();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** The request an event carries, or why it is not one. */
function toRequest(event: OutboxEventJson): ClipRequest | string {
  const { type: _type, ...fields } = event;
  const problem = clipRequestProblem(fields);
  if (problem !== undefined) return problem;
  const r = fields as unknown as ClipRequest;
  return {
    clipId: r.clipId,
    edgeId: r.edgeId,
    alarm: r.alarm,
    since: r.since,
    end: r.end,
    window: { start: r.window.start, end: r.window.end },
    ...(r.camera === undefined ? {} : { camera: { serial: r.camera.serial, channel: r.camera.channel } }),
    retentionDays: r.retentionDays,
    deadlineAt: r.deadlineAt,
    requestedAt: r.requestedAt,
  };
}
