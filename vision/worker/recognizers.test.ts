/**
 * The recognition workers in this process against real servers and the real model: Redis (the
 * model's BullMQ queue, the edge actors' mailboxes), a file:// object store holding real
 * photographs as JPEG frames, YOLOv8n in onnxruntime on the CPU. The verdicts on the photographs,
 * micro-batching, the deadline, frames that are not images, frames uploaded late or never, the
 * policy a job carries, and the worker's /metrics text.
 */
// Redis Cluster pass: once (one BullMQ queue under one hash tag, and mailbox appends; what this tests is the model's verdicts, the batching and the deadlines).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { type Bus, decodeEntry, recognitionJobId, recognitionQueue } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { modelFile, visionAssetsMissing } from '../../infra/models.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { FsObjectStore } from '../../objects/mod.ts';
import { type Detector, openDetector } from '../model/mod.ts';
import { renderRecognizeMetrics } from './metrics.ts';
import { type Recognizers, startRecognizers } from './recognizers.ts';
import { enqueueJobs, putFrame, type TestFrames, testFrames, verdictsIn, visionJob } from './test-jobs.ts';

const missing = visionAssetsMissing();
const t = useRedis();

describe('recognition workers', { skip: missing }, () => {
  let dir = '';
  let store: FsObjectStore;
  let bus: Bus;
  let queue: Queue;
  let detector: Detector;
  let workers: Recognizers;
  let frames: TestFrames;
  let events = 0;

  /** The one verdict for an edge's event, once it is in the mailbox. */
  const verdictOf = (edgeId: string, eventId: string, timeoutMs = 20_000) =>
    waitFor(async () => (await verdictsIn(bus, edgeId)).find((v) => v.eventId === eventId), {
      timeoutMs,
      message: `the verdict on ${edgeId}/${eventId}`,
    });
  const eventId = () => `ev-${++events}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dh-recognize-'));
    store = await FsObjectStore.open(join(dir, 'objects'));
    bus = t.bus(t.keyspace());
    queue = new Queue(recognitionQueue('yolov8n-coco'), {
      connection: t.connect('queue'),
      prefix: bus.keyspace.bullPrefix,
    });
    const file = modelFile();
    [detector, frames] = await Promise.all([
      openDetector({ modelPath: file.path, name: file.name, version: file.version, providers: ['cpu'] }),
      testFrames(),
    ]);
  });
  after(async () => {
    await workers?.close();
    await detector?.close();
    await queue?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('real photographs: person and motorcycle confirmed, rocket and coffee dismissed, in one batch', async () => {
    const jobs = [
      visionJob('E-person', eventId(), 'trapped'),
      visionJob('E-moto', eventId(), 'ebike'),
      visionJob('E-rocket', eventId(), 'ebike'),
      visionJob('E-coffee', eventId(), 'trapped'),
    ];
    const bytes = [frames.person, frames.motorcycle, frames.rocket, frames.coffee];
    await Promise.all(jobs.map((j, i) => putFrame(store, j.edgeId, j.eventId, 0, bytes[i]!)));
    // Queued before the worker starts: it takes the four at once, and a second is long enough to batch them.
    await enqueueJobs(queue, jobs);
    workers = await startRecognizers({
      bus,
      store,
      detector,
      model: 'yolov8n-coco',
      maxBatch: 4,
      maxWaitMs: 1000,
      holder: 'W1',
      timings: { frameRetry: { firstMs: 100, maxMs: 200 } },
    });
    const [person, moto, rocket, coffee] = await Promise.all(jobs.map((j) => verdictOf(j.edgeId, j.eventId)));
    assert.equal(person?.verdict, 'confirmed', person?.reason);
    assert.ok(person?.detections?.some((d) => d.label === 'person' && d.score >= 0.5));
    assert.equal(moto?.verdict, 'confirmed', moto?.reason);
    assert.ok(moto?.detections?.some((d) => d.label === 'motorcycle' && d.score >= 0.5));
    assert.equal(rocket?.verdict, 'dismissed', rocket?.reason);
    assert.equal(coffee?.verdict, 'dismissed', coffee?.reason);
    assert.ok(!coffee?.detections?.some((d) => d.label === 'person'), 'no person on the coffee cup');
    assert.deepEqual(person?.model, { name: 'yolov8n-coco', version: detector.version });
    assert.equal(person?.frame, 0);
    assert.ok((person?.inferMs ?? 0) > 0, 'inference time reported');
    const [x, y, w, h] = person!.detections![0]!.box;
    assert.ok(
      x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 1.0001 && y + h <= 1.0001,
      'a box inside the frame',
    );
    const s = workers.stats;
    assert.equal(s.images, 4);
    const single = s.batchSizes.cumulative()[0]!; // [le 1, batches of one image]
    assert.ok(
      s.batchSizes.count < 4 && single[1] < s.batchSizes.count,
      `a batch of more than one (${s.batches} batches)`,
    );
    // Counted once the mailbox took each: right after it, not before.
    await waitFor(() => s.verdicts.confirmed === 2 && s.verdicts.dismissed === 2, {
      message: `2 confirmed and 2 dismissed counted, got ${JSON.stringify(s.verdicts)}`,
    });
  });

  test('a job taken after its deadline: timeout, without inference', async () => {
    const images = workers.stats.images;
    const now = Date.now();
    const job = visionJob('E-late', eventId(), 'trapped', {
      requestedAt: now - 5000,
      deadlineAt: now - 3000,
    });
    await putFrame(store, job.edgeId, job.eventId, 0, frames.person);
    await enqueueJobs(queue, [job]);
    const v = await verdictOf(job.edgeId, job.eventId);
    assert.equal(v.verdict, 'timeout');
    assert.match(v.reason ?? '', /taken \d+ ms after its deadline/);
    assert.equal(v.detections, undefined);
    assert.equal(workers.stats.images, images, 'no image was run');
  });

  test('frames that are not images: invalid with the reason; a good frame in the same batch is judged', async () => {
    const text = visionJob('E-text', eventId(), 'trapped');
    const tiny = visionJob('E-tiny', eventId(), 'trapped');
    const good = visionJob('E-good', eventId(), 'person_down');
    const onePixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#888' } })
      .jpeg()
      .toBuffer();
    await putFrame(store, text.edgeId, text.eventId, 0, new TextEncoder().encode('this is not a JPEG'));
    await putFrame(store, tiny.edgeId, tiny.eventId, 0, onePixel);
    await putFrame(store, good.edgeId, good.eventId, 0, frames.person);
    await enqueueJobs(queue, [text, tiny, good]);
    const [a, b, c] = await Promise.all([text, tiny, good].map((j) => verdictOf(j.edgeId, j.eventId)));
    assert.equal(a?.verdict, 'invalid');
    assert.match(a?.reason ?? '', /^frame 0: not_an_image: /);
    assert.equal(b?.verdict, 'invalid');
    assert.match(b?.reason ?? '', /^frame 0: too_small: /);
    assert.equal(c?.verdict, 'confirmed', c?.reason);
  });

  test('a frame uploaded late is waited for; one never uploaded is invalid at the deadline', async () => {
    const never = visionJob('E-never', eventId(), 'trapped', { deadlineAt: Date.now() + 1500 });
    const late = visionJob('E-late-frame', eventId(), 'trapped', { frames: 2 });
    await putFrame(store, late.edgeId, late.eventId, 0, frames.coffee);
    await enqueueJobs(queue, [never, late]);
    // The worker looked, found frame 1 missing and delayed the job: now the agent's upload lands.
    await waitFor(
      async () => (await queue.getJobState(recognitionJobId(late.edgeId, late.eventId))) === 'delayed',
      {
        message: 'the job waiting for its second frame',
      },
    );
    await putFrame(store, late.edgeId, late.eventId, 1, frames.person);
    const v = await verdictOf(late.edgeId, late.eventId);
    assert.equal(v.verdict, 'confirmed', v.reason);
    assert.equal(v.frame, 1, 'the person is on the late frame');
    const n = await verdictOf(never.edgeId, never.eventId);
    assert.equal(n.verdict, 'invalid');
    assert.match(n.reason ?? '', /frame not uploaded \(frame 0\) by the deadline/);
    const address = `edge/${never.edgeId}`;
    const stream = bus.keyspace.shard(bus.keyspace.shardOf(address)).mailbox;
    // The shard's mailbox may hold other edges' messages (shards are shared): this edge's verdict.
    const sent = ((await bus.redis.xrange(stream, '-', '+')) as [string, string[]][])
      .map(([id, fields]) => decodeEntry(id, fields))
      .filter((e) => e.address === address && e.method === 'visionVerdict');
    assert.equal(sent.length, 1, 'one verdict for the event never uploaded');
    assert.ok(
      sent[0]!.enqueuedAt >= never.deadlineAt,
      `sent at its deadline, not before (${never.deadlineAt - sent[0]!.enqueuedAt} ms early)`,
    );
    assert.ok(workers.stats.frameWaits >= 2);
  });

  test('the policy a job carries decides; a kind no policy names is invalid', async () => {
    // An e-bike alarm whose job says a person confirms it (the configuration's, put there by the sink).
    const carried = visionJob('E-kind', eventId(), 'ebike', {
      kind: {
        class: 'ebike',
        targets: ['person'],
        confirmScore: 0.5,
        forward: 'confirmed',
        onTimeout: 'forward',
        deadlineMs: 5000,
      },
    });
    const unknown = visionJob('E-unknown', eventId(), 'fire');
    await putFrame(store, carried.edgeId, carried.eventId, 0, frames.person);
    await putFrame(store, unknown.edgeId, unknown.eventId, 0, frames.person);
    await enqueueJobs(queue, [carried, unknown]);
    const [a, b] = await Promise.all([carried, unknown].map((j) => verdictOf(j.edgeId, j.eventId)));
    assert.equal(a?.verdict, 'confirmed', a?.reason);
    assert.match(a?.reason ?? '', /^person /);
    assert.equal(b?.verdict, 'invalid');
    assert.match(b?.reason ?? '', /no recognition policy for the alarm kind fire/);
  });

  test('a job that is not a vision request fails with the reason, and the worker goes on', async () => {
    const bad = visionJob('E-bad', eventId(), 'trapped', { frames: 9 });
    await enqueueJobs(queue, [bad]);
    const id = recognitionJobId(bad.edgeId, bad.eventId);
    await waitFor(async () => (await queue.getJobState(id)) === 'failed', {
      message: 'the malformed job failed',
    });
    assert.match(
      (await queue.getJob(id))?.failedReason ?? '',
      /is malformed: frames must be an integer 1..4/,
    );
    assert.equal(workers.stats.malformed, 1);
    assert.deepEqual(await verdictsIn(bus, bad.edgeId), [], 'no verdict');
  });

  test('metrics: provider, verdicts, images, batch sizes, queue wait and inference time', async () => {
    const text = renderRecognizeMetrics({
      holder: 'W1',
      model: 'yolov8n-coco',
      version: detector.version,
      provider: detector.provider,
      maxBatch: 4,
      jobCounts: await workers.jobCounts(),
      stats: workers.stats,
    });
    assert.match(
      text,
      /devicehub_recognize_info\{worker="W1",model="yolov8n-coco",version="[^"]+",provider="cpu",max_batch="4"\} 1/,
    );
    assert.match(
      text,
      /devicehub_recognize_verdicts_total\{worker="W1",model="yolov8n-coco",verdict="confirmed"\} [1-9]/,
    );
    assert.match(text, /devicehub_recognize_images_total\{[^}]*\} [1-9]/);
    assert.match(text, /devicehub_recognize_batch_size_bucket\{[^}]*le="\+Inf"\} [1-9]/);
    assert.match(text, /devicehub_recognize_queue_wait_seconds_count\{[^}]*\} [1-9]/);
    assert.match(text, /devicehub_recognize_inference_seconds_sum\{[^}]*\} [0-9.]+/);
    assert.match(text, /devicehub_recognize_jobs\{model="yolov8n-coco",state="completed"\} [1-9]/);
    assert.match(text, /devicehub_recognize_malformed_total\{[^}]*\} 1/);
    // This process's own CPU and memory, under the names the servers page charts.
    const cpu = Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1]);
    assert.ok(cpu > 0.1, `CPU ${cpu} s: the model ran in this process`);
    const rss = Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
    assert.ok(rss > 50 * 1024 ** 2 && rss < 16 * 1024 ** 3, `RSS ${rss} bytes: the model is loaded`);
  });
});
