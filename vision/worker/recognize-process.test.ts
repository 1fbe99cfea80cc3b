/**
 * `devicehub recognize` as processes: a worker `kill -9`ed with jobs in flight (taken, their lock
 * held, no verdict yet) leaves them to another worker process once its lock expires (BullMQ's
 * stalled check), which finishes them — every event gets its verdict in its edge actor's mailbox,
 * none lost (at least once: the actor keeps the first) — and a worker's /metrics.
 */
// Redis Cluster pass: once (one BullMQ queue under one hash tag; what this tests is the processes, the lock and the stalled check).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { type Bus, recognitionQueue } from '../../bus/mod.ts';
import { DEFAULT_RECOGNITION_POLICY, type VisionVerdictPayload } from '../../edge/protocol/mod.ts';
import { type DevicehubProcess, freePort, spawnDevicehub, waitFor } from '../../infra/mod.ts';
import { visionAssetsMissing } from '../../infra/models.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { FsObjectStore } from '../../objects/mod.ts';
import { enqueueJobs, putFrame, testFrames, verdictsIn, visionJob } from './test-jobs.ts';

const missing = visionAssetsMissing();
const t = useRedis();

describe('devicehub recognize', { skip: missing }, () => {
  let dir = '';
  let store: FsObjectStore;
  let bus: Bus;
  let queue: Queue;
  const processes: DevicehubProcess[] = [];

  /** A worker process with test timings: a dead worker's jobs are taken again ~2 s later. */
  function worker(id: string, extra: string[] = []): DevicehubProcess {
    const proc = spawnDevicehub(
      [
        'recognize',
        ...t.cliArgs(bus.keyspace),
        ...['--object-store', pathToFileURL(join(dir, 'objects')).href, '--providers', 'cpu'],
        ...['--max-batch', '2', '--max-wait-ms', '50', '--lock-ms', '2000', '--stalled-ms', '500'],
        ...['--id', id, ...extra],
      ],
      { name: `recognition worker ${id}`, env: { DH_LOG_LEVEL: 'info' } },
    );
    processes.push(proc);
    return proc;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dh-recognize-process-'));
    store = await FsObjectStore.open(join(dir, 'objects'));
    bus = t.bus(t.keyspace());
    queue = new Queue(recognitionQueue('yolov8n-coco'), {
      connection: t.connect('queue'),
      prefix: bus.keyspace.bullPrefix,
    });
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await queue?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a worker killed with jobs in flight: another process finishes them, no verdict lost', async () => {
    const frames = await testFrames();
    // The configuration's policy as the gateways write it: a kind the default lacks, read by the workers at start.
    const policy = {
      ...DEFAULT_RECOGNITION_POLICY,
      kinds: {
        ...DEFAULT_RECOGNITION_POLICY.kinds,
        intruder: { ...DEFAULT_RECOGNITION_POLICY.kinds.trapped! },
      },
    };
    await bus.redis.set(bus.keyspace.recognitionPolicy, JSON.stringify(policy));
    const a = worker('A');
    const b = worker('B', ['--metrics-port', String(await freePort())]);
    await a.ready;
    // B stays out of the queue until A has taken jobs: it is started (the model loaded) but paused by SIGSTOP.
    await b.ready;
    b.child.kill('SIGSTOP');
    // Jobs without the kind's policy in their data (an older gateway's): the workers look it up.
    const jobs = Array.from({ length: 8 }, (_, i) =>
      visionJob(`E-${i}`, `kill-${i}`, i % 2 === 0 ? 'intruder' : 'person_down', {
        deadlineAt: Date.now() + 120_000,
      }),
    );
    await Promise.all(
      jobs.map((j, i) =>
        putFrame(store, j.edgeId, j.eventId, 0, i % 2 === 0 ? frames.person : frames.coffee),
      ),
    );
    await enqueueJobs(queue, jobs);
    const inFlight = await waitFor(
      async () => {
        const active = await queue.getActive();
        return active.length > 0 ? active : undefined;
      },
      { timeoutMs: 20_000, message: 'worker A running jobs' },
    );
    await a.kill('SIGKILL');
    const taken = inFlight.map((j) => j.id as string);
    b.child.kill('SIGCONT');
    const verdicts = new Map<string, VisionVerdictPayload[]>();
    await waitFor(
      async () => {
        for (const j of jobs)
          verdicts.set(
            j.eventId,
            (await verdictsIn(bus, j.edgeId)).filter((v) => v.eventId === j.eventId),
          );
        return [...verdicts.values()].every((list) => list.length > 0);
      },
      { timeoutMs: 40_000, intervalMs: 200, message: 'a verdict for every job' },
    );
    jobs.forEach((j, i) => {
      const first = verdicts.get(j.eventId)![0]!;
      assert.equal(first.verdict, i % 2 === 0 ? 'confirmed' : 'dismissed', `${j.eventId}: ${first.reason}`);
    });
    // A's jobs were taken again: only B is alive to finish them.
    await waitFor(async () => (await queue.getJobCounts('completed')).completed === jobs.length, {
      timeoutMs: 10_000,
      message: 'every job completed',
    });
    for (const id of taken)
      assert.equal(await queue.getJobState(id), 'completed', `${id}, in flight at the kill`);
    const metrics = (await b.ready).metrics as string;
    const text = await (await fetch(metrics)).text();
    const runs = Number(/devicehub_recognize_runs_total\{worker="B"[^}]*\} (\d+)/.exec(text)?.[1]);
    assert.ok(runs >= taken.length, `B ran A's ${taken.length} jobs in flight (B ran ${runs})`);
    assert.match(text, /devicehub_recognize_info\{worker="B",model="yolov8n-coco",[^}]*provider="cpu"/);
  });
});
