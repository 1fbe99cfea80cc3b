/**
 * For the recognition workers' tests: real photographs as JPEG frames in the object store, jobs
 * queued as the gateway's sink queues them, and the verdicts read back from the edge actors'
 * mailboxes (no hub node needed: what the worker promises is the message in the mailbox).
 */
import { readFile } from 'node:fs/promises';
import type { Queue } from 'bullmq';
import sharp from 'sharp';
import { type Bus, decodeEntry, recognitionJobId } from '../../bus/mod.ts';
import { classOf, priorityOf, type VisionVerdictPayload } from '../../edge/protocol/mod.ts';
import { testPhotos } from '../../infra/models.ts';
import { frameKey, type ObjectStore } from '../../objects/mod.ts';
import { RECOGNIZE_JOB_NAME, type RecognizeJobData } from './recognize-job.ts';

export interface TestFrames {
  readonly person: Buffer;
  readonly motorcycle: Buffer;
  readonly rocket: Buffer;
  readonly coffee: Buffer;
}

/** The test photographs as the agent uploads them: JPEG, quality 90. */
export async function testFrames(): Promise<TestFrames> {
  const p = testPhotos();
  const jpeg = async (path: string) =>
    await sharp(await readFile(path))
      .jpeg({ quality: 90 })
      .toBuffer();
  const [person, motorcycle, rocket, coffee] = await Promise.all(
    [p.person, p.motorcycle, p.none[0]!, p.none[1]!].map(jpeg),
  );
  return { person: person!, motorcycle: motorcycle!, rocket: rocket!, coffee: coffee! };
}

export async function putFrame(
  store: ObjectStore,
  edgeId: string,
  eventId: string,
  index: number,
  bytes: Uint8Array,
): Promise<void> {
  await store.put(
    frameKey(edgeId, eventId, index),
    (async function* () {
      yield bytes;
    })(),
    { contentType: 'image/jpeg' },
  );
}

/** A request as the edge actor makes it, its deadline 30 s away unless overridden. */
export function visionJob(
  edgeId: string,
  eventId: string,
  alarm: string,
  over: Partial<RecognizeJobData> = {},
): RecognizeJobData {
  const now = Date.now();
  return {
    type: 'vision.requested',
    edgeId,
    eventId,
    alarm,
    since: now - 500,
    frames: 1,
    class: classOf(alarm),
    model: 'yolov8n-coco',
    deadlineAt: now + 30_000,
    requestedAt: now,
    ...over,
  };
}

/** Queued as the outbox sink queues it: its id, its class's priority. */
export async function enqueueJobs(queue: Queue, jobs: readonly RecognizeJobData[]): Promise<void> {
  await queue.addBulk(
    jobs.map((data) => ({
      name: RECOGNIZE_JOB_NAME,
      data,
      opts: {
        jobId: recognitionJobId(data.edgeId, data.eventId),
        priority: priorityOf(data.class),
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 3600 },
      },
    })),
  );
}

/** Every `visionVerdict` in `edge/<edgeId>`'s mailbox, in order. */
export async function verdictsIn(bus: Bus, edgeId: string): Promise<VisionVerdictPayload[]> {
  const address = `edge/${edgeId}`;
  const stream = bus.keyspace.shard(bus.keyspace.shardOf(address)).mailbox;
  const entries = (await bus.redis.xrange(stream, '-', '+')) as [string, string[]][];
  return entries
    .map(([id, fields]) => decodeEntry(id, fields))
    .filter((e) => e.address === address && e.method === 'visionVerdict')
    .map((e) => e.payload as VisionVerdictPayload);
}
