/**
 * The clip workers end to end, in this process, against real servers: Redis (the clip queue, the
 * Ezviz budget, a hub node running the edge actor), PostgreSQL (the clips rows), a file:// object
 * store and the Ezviz stand-in serving real MP4s — the happy path to `clip.ready`, and each fault:
 * an offline camera, a late file, the deadline, a cut download, an expired URL, a file that is not
 * a video (the next job still goes), no camera, a task Ezviz already had.
 */
// Redis Cluster pass: once (the queue is one BullMQ queue under one hash tag; what this tests is the job's steps against Ezviz, PostgreSQL and the store).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import { type HubNode, silentLogger } from '../../actors/mod.ts';
import { type Bus, clipQueue, type Keyspace } from '../../bus/mod.ts';
import { type ClipKindPolicy, type ClipRequest, planClip } from '../../edge/protocol/mod.ts';
import { putConfig } from '../../gateway/config-store.ts';
import { type Database, openDatabase } from '../../gateway/db/database.ts';
import { clips } from '../../gateway/db/schema.ts';
import {
  type EzvizStandIn,
  type PostgresServer,
  startEzvizStandIn,
  startPostgres,
  waitFor,
} from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { clipMetaKey, clipPosterKey, clipVideoKey, FsObjectStore } from '../../objects/mod.ts';
import { openEzvizClient } from '../ezviz/mod.ts';
import { type ClipWorkers, startClipWorkers } from './mod.ts';

const t = useRedis();
let postgres: PostgresServer;
let database: Database;
let store: FsObjectStore;
let ezviz: EzvizStandIn;
let keyspace: Keyspace;
let bus: Bus;
let hub: HubNode;
let queue: Queue;
let workers: ClipWorkers;
let dir = '';

/** Short clips: 1 s before, up to 4 s of alarm, 1 s after. */
const POLICY: ClipKindPolicy = {
  preRollSeconds: 1,
  postRollSeconds: 1,
  maxSeconds: 4,
  retentionDays: 7,
  deadlineMinutes: 1,
};
const CAMERA = { serial: 'C12345678', channel: 1 };
let alarms = 0;

/** A request as the edge actor makes it (a distinct alarm each call), with overrides. */
function request(edgeId: string, over: Partial<ClipRequest> = {}): ClipRequest {
  const since = Date.now() - 10_000 - ++alarms; // distinct alarms, their deadline a minute away
  return {
    ...planClip(POLICY, {
      edgeId,
      alarm: 'trapped',
      since,
      end: since + 3000,
      camera: CAMERA,
      now: Date.now(),
    }),
    ...over,
  };
}

/** Queued as the outbox sink queues it. */
async function enqueue(r: ClipRequest): Promise<void> {
  await queue.add('clip', r, {
    jobId: r.clipId,
    removeOnComplete: { age: 7 * 86400 },
    removeOnFail: { age: 30 * 86400 },
  });
}

async function rowOf(clipId: string) {
  const [row] = await database.db.select().from(clips).where(eq(clips.id, clipId));
  return row;
}

/** Waits for the row to reach a final status; the row. */
async function finished(clipId: string, timeoutMs = 15_000) {
  return await waitFor(
    async () => {
      const row = await rowOf(clipId);
      return row !== undefined && (row.status === 'stored' || row.status === 'failed') ? row : undefined;
    },
    { timeoutMs, message: `clip ${clipId} stored or failed` },
  );
}

/** The edge's outbox events of `type` (clip.ready / clip.failed) for a clip. */
async function outboxEvent(edgeId: string, type: string, clipId: string) {
  return await waitFor(
    async () => {
      const group = keyspace.groupOf(keyspace.shardOf(`edge/${edgeId}`));
      const entries = (await t.redis.xrange(keyspace.outbox(group), '-', '+')) as [string, string[]][];
      for (const [, fields] of entries) {
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const text = fields[i + 1]!;
          if (!text.includes(clipId)) continue;
          const event = JSON.parse(text) as Record<string, unknown>;
          if (event.type === type && event.clipId === clipId) return event;
        }
      }
      return undefined;
    },
    { timeoutMs: 10_000, message: `${type} of ${clipId} in the outbox` },
  );
}

describe('clip workers', () => {
  // Inside the describe: these run before the file's Redis stops.
  before(async () => {
    postgres = await startPostgres();
    database = await openDatabase({ url: await postgres.createDatabase(`clip_workers_${process.pid}`) });
    dir = await mkdtemp(join(tmpdir(), 'dh-clip-workers-'));
    store = await FsObjectStore.open(join(dir, 'objects'));
    ezviz = await startEzvizStandIn({ taskMs: 300, dir: join(dir, 'ezviz') });
    keyspace = t.keyspace();
    bus = t.bus(keyspace);
    hub = await t.hub(keyspace);
    queue = new Queue(clipQueue(), { connection: t.connect('queue'), prefix: keyspace.bullPrefix });
    workers = await startClipWorkers({
      bus,
      db: database.db,
      store,
      ezviz: openEzvizClient({
        baseUrl: ezviz.url,
        appKey: ezviz.appKey,
        appSecret: ezviz.appSecret,
        redis: t.redis,
        keyspace,
        budget: { perSecond: 50, burst: 50 },
        logger: silentLogger,
      }),
      holder: 'test-worker',
      concurrency: 3,
      tmpDir: join(dir, 'tmp'),
      timings: {
        lockMs: 3000,
        stalledIntervalMs: 1000,
        poll: { firstMs: 100, maxMs: 400 },
        retry: { firstMs: 100, maxMs: 400 },
      },
    });
  });
  after(async () => {
    await workers?.close();
    await queue?.close();
    await hub?.stop();
    await ezviz?.close();
    await database?.close();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('store the clip, its poster and meta.json, record the row and tell the edge actor (clip.ready)', async () => {
    const r = request('E-happy');
    await enqueue(r);
    const row = await finished(r.clipId);
    assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    const video = await readFile(join(dir, 'objects', clipVideoKey(r.clipId)));
    assert.equal(row.bytes, video.length);
    assert.equal(
      row.sha256,
      createHash('sha256').update(video).digest('hex'),
      'the row has the stored bytes’ SHA-256',
    );
    assert.equal(row.videoKey, clipVideoKey(r.clipId));
    assert.equal(row.posterKey, clipPosterKey(r.clipId));
    assert.ok(
      row.durationMs !== null && row.durationMs >= r.window.end - r.window.start - 1000,
      'covers the window',
    );
    assert.ok(row.storedAt !== null && row.expiresAt !== null);
    assert.equal(
      row.expiresAt.getTime() - row.storedAt.getTime(),
      7 * 86_400_000,
      'expires after the retention',
    );
    assert.equal(row.ezvizTaskId !== null, true);
    assert.equal(row.cameraSerial, CAMERA.serial);
    const poster = await readFile(join(dir, 'objects', clipPosterKey(r.clipId)));
    assert.deepEqual([...poster.subarray(0, 2)], [0xff, 0xd8], 'the poster is a JPEG');
    const meta = JSON.parse(await readFile(join(dir, 'objects', clipMetaKey(r.clipId)), 'utf8'));
    assert.deepEqual(
      {
        edgeId: meta.edgeId,
        alarm: meta.alarm,
        camera: meta.camera,
        window: meta.window,
        sha256: meta.sha256,
        bytes: meta.bytes,
      },
      {
        edgeId: 'E-happy',
        alarm: 'trapped',
        camera: CAMERA,
        window: r.window,
        sha256: row.sha256,
        bytes: row.bytes,
      },
    );
    const ready = await outboxEvent('E-happy', 'clip.ready', r.clipId);
    assert.equal(ready.sha256, row.sha256);
    assert.equal(ready.bytes, row.bytes);
    assert.equal(ezviz.stats.tasksByFileId.get(r.clipId), 1);
    assert.ok(workers.stats.alarmEndToStoredMs.count >= 1);
  });

  test('a replayed job only sends the result again: no second Ezviz task, no second download', async () => {
    const r = request('E-replay');
    await enqueue(r);
    await finished(r.clipId);
    await waitFor(async () => (await queue.getJobState(r.clipId)) === 'completed', {
      message: 'the job completed',
    });
    const downloads = ezviz.stats.downloads;
    const resent = workers.stats.resent;
    await (await queue.getJob(r.clipId))!.remove();
    await enqueue(r);
    await waitFor(() => workers.stats.resent > resent, { message: 'the result sent again' });
    assert.equal(ezviz.stats.tasksByFileId.get(r.clipId), 1);
    assert.equal(ezviz.stats.downloads, downloads);
    assert.equal((await rowOf(r.clipId))!.status, 'stored');
  });

  test('a task Ezviz already has (a worker died after saving) is found, not saved twice', async () => {
    const r = request('E-dup');
    const client = openEzvizClient({
      baseUrl: ezviz.url,
      appKey: ezviz.appKey,
      appSecret: ezviz.appSecret,
      redis: t.redis,
      keyspace,
      budget: { perSecond: 50, burst: 50 },
      logger: silentLogger,
    });
    const { taskId } = await client.saveRecording({
      fileId: r.clipId,
      deviceSerial: CAMERA.serial,
      channelNo: CAMERA.channel,
      startMs: r.window.start,
      endMs: r.window.end,
    });
    await enqueue(r);
    const row = await finished(r.clipId);
    assert.equal(row.status, 'stored');
    assert.equal(row.ezvizTaskId, taskId);
    assert.equal(ezviz.stats.tasksByFileId.get(r.clipId), 1);
  });

  test('an offline camera is retried until it is back, then stored', async () => {
    const serial = 'OFFLINE01';
    ezviz.faults.offline(serial);
    const r = request('E-offline', { camera: { serial, channel: 1 } });
    const retries = workers.stats.retries.CAMERA_OFFLINE ?? 0;
    await enqueue(r);
    await waitFor(() => (workers.stats.retries.CAMERA_OFFLINE ?? 0) >= retries + 2, {
      message: 'two retries of the offline camera',
    });
    ezviz.faults.online(serial);
    const row = await finished(r.clipId);
    assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    assert.equal(ezviz.stats.tasksByFileId.get(r.clipId), 1);
  });

  test('a camera offline past the deadline fails with a reason the operator can read', async () => {
    const serial = 'OFFLINE02';
    ezviz.faults.offline(serial);
    const r = request('E-deadline', { camera: { serial, channel: 1 }, deadlineAt: Date.now() + 1500 });
    await enqueue(r);
    const row = await finished(r.clipId);
    assert.equal(row.status, 'failed');
    assert.equal(row.code, 'CAMERA_OFFLINE');
    assert.match(row.reason ?? '', /offline.*gave up at the deadline/s);
    const failed = await outboxEvent('E-deadline', 'clip.failed', r.clipId);
    assert.equal(failed.code, 'CAMERA_OFFLINE');
  });

  test('a file that appears late is polled for, then stored', async () => {
    ezviz.faults.lateFilesMs = 1500;
    const r = request('E-late');
    const polls = workers.stats.polls;
    try {
      await enqueue(r);
      const row = await finished(r.clipId);
      assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    } finally {
      ezviz.faults.lateFilesMs = 0;
    }
    assert.ok(workers.stats.polls >= polls + 2, 'the task was polled while the file was not there');
  });

  test('a cut download is tried again; an expired URL is asked again', async () => {
    const cut = workers.stats.downloadRetries.cut;
    ezviz.faults.cutNextDownloads(1);
    const a = request('E-cut');
    await enqueue(a);
    assert.equal((await finished(a.clipId)).status, 'stored');
    assert.equal(workers.stats.downloadRetries.cut, cut + 1);

    // URLs that expire at once: the worker asks for a new one rather than try one it knows is stale.
    const expired = workers.stats.downloadRetries.expired;
    ezviz.faults.urlTtlMs = 1;
    const b = request('E-expired');
    try {
      await enqueue(b);
      await waitFor(() => workers.stats.downloadRetries.expired > expired, { message: 'a URL asked again' });
      ezviz.faults.urlTtlMs = undefined;
      const row = await finished(b.clipId);
      assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    } finally {
      ezviz.faults.urlTtlMs = undefined;
    }
  });

  test('a file that is not a video fails NOT_VIDEO at once, and the next job still goes', async () => {
    ezviz.faults.notVideo = true;
    const bad = request('E-bad');
    await enqueue(bad);
    const row = await finished(bad.clipId).finally(() => {
      ezviz.faults.notVideo = false;
    });
    assert.equal(row.status, 'failed');
    assert.equal(row.code, 'NOT_VIDEO');
    await waitFor(async () => (await queue.getJobState(bad.clipId)) === 'failed', {
      message: 'the job in BullMQ’s failed set',
    });
    assert.match((await queue.getJob(bad.clipId))?.failedReason ?? '', /^NOT_VIDEO: /);
    assert.equal(workers.stats.failed.NOT_VIDEO, 1);
    const good = request('E-after-bad');
    await enqueue(good);
    assert.equal((await finished(good.clipId)).status, 'stored');
  });

  test('an unknown camera and a malformed Ezviz answer fail at once, each with its code', async () => {
    ezviz.faults.unknownSerials.add('UNKNOWN01');
    const unknown = request('E-unknown', { camera: { serial: 'UNKNOWN01', channel: 1 } });
    await enqueue(unknown);
    const row = await finished(unknown.clipId);
    assert.deepEqual([row.status, row.code], ['failed', 'NO_DEVICE']);
    assert.match(row.reason ?? '', /does not know this camera/);
    assert.equal((await outboxEvent('E-unknown', 'clip.failed', unknown.clipId)).code, 'NO_DEVICE');

    const malformed = request('E-malformed');
    ezviz.faults.malformedNext(1);
    await enqueue(malformed);
    const bad = await finished(malformed.clipId);
    assert.deepEqual([bad.status, bad.code], ['failed', 'MALFORMED']);
    assert.equal(workers.stats.retries.MALFORMED, undefined, 'not retried');
  });

  test('the edge configuration’s camera wins over the birth’s; neither: NO_CAMERA', async () => {
    const none = request('E-nocam', { camera: undefined });
    const { camera: _, ...withoutCamera } = none;
    await enqueue(withoutCamera as ClipRequest);
    const failed = await finished(none.clipId);
    assert.equal(failed.code, 'NO_CAMERA');
    assert.equal(failed.status, 'failed');

    await putConfig(database.db, {
      kind: 'edge',
      scope: 'module:E-conf',
      body: { camera: { serial: 'CONF00001', channel: 2 } },
      actor: 'test',
    });
    const configured = request('E-conf'); // its birth named CAMERA; the operator's configuration wins
    assert.notEqual(configured.camera?.serial, 'CONF00001');
    await enqueue(configured);
    const row = await finished(configured.clipId);
    assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    assert.deepEqual([row.cameraSerial, row.cameraChannel], ['CONF00001', 2]);
  });
});
