/**
 * `devicehub clips` as processes: a worker `kill -9`ed between "saved" (Ezviz has the task, the
 * row says 'waiting') and "stored" leaves a job another worker process finishes — with exactly
 * one Ezviz task for its fileId, one stored clip and one `clip.ready` — and a worker's /metrics.
 */
// Redis Cluster pass: once (one BullMQ queue under one hash tag; what this tests is the processes, the lock and the stalled check).
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import type { HubNode } from '../../actors/mod.ts';
import { clipQueue, type Keyspace } from '../../bus/mod.ts';
import { planClip } from '../../edge/protocol/mod.ts';
import { type Database, openDatabase } from '../../gateway/db/database.ts';
import { clips } from '../../gateway/db/schema.ts';
import {
  type DevicehubProcess,
  type EzvizStandIn,
  freePort,
  type PostgresServer,
  spawnDevicehub,
  startEzvizStandIn,
  startPostgres,
  waitFor,
} from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { clipVideoKey } from '../../objects/mod.ts';

const t = useRedis();

describe('devicehub clips', () => {
  let postgres: PostgresServer;
  let database: Database;
  let databaseUrl = '';
  let ezviz: EzvizStandIn;
  let keyspace: Keyspace;
  let hub: HubNode;
  let queue: Queue;
  let dir = '';
  const processes: DevicehubProcess[] = [];

  /** A worker process with test timings: a dead worker's job is taken again ~2 s later. */
  function worker(id: string, extra: string[] = []): DevicehubProcess {
    const proc = spawnDevicehub(
      [
        'clips',
        ...t.cliArgs(keyspace),
        ...['--database-url', databaseUrl, '--object-store', pathToFileURL(join(dir, 'objects')).href],
        ...['--ezviz', ezviz.url, '--ezviz-app-key', ezviz.appKey, '--budget', '50', '--id', id],
        ...['--lock-ms', '1500', '--stalled-ms', '500', '--poll-ms', '200', '--retry-ms', '200'],
        ...['--tmp-dir', join(dir, `tmp-${id}`), ...extra],
      ],
      { name: `clip worker ${id}`, env: { DH_EZVIZ_APP_SECRET: ezviz.appSecret, DH_LOG_LEVEL: 'info' } },
    );
    processes.push(proc);
    return proc;
  }

  before(async () => {
    postgres = await startPostgres();
    databaseUrl = await postgres.createDatabase(`clips_process_${process.pid}`);
    database = await openDatabase({ url: databaseUrl });
    dir = await mkdtemp(join(tmpdir(), 'dh-clips-process-'));
    // Each Ezviz answer takes 700 ms: a worker is inside a call (its job active) long enough to die there.
    ezviz = await startEzvizStandIn({ latencyMs: 700, dir: join(dir, 'ezviz') });
    keyspace = t.keyspace();
    hub = await t.hub(keyspace);
    queue = new Queue(clipQueue(), { connection: t.connect('queue'), prefix: keyspace.bullPrefix });
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await queue?.close();
    await hub?.stop();
    await ezviz?.close();
    await database?.close();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a worker killed between saved and stored: another finishes it, one Ezviz task, one clip', async () => {
    const a = worker('A');
    await a.ready;
    const since = Date.now() - 10_000;
    const policy = {
      preRollSeconds: 1,
      postRollSeconds: 1,
      maxSeconds: 4,
      retentionDays: 7,
      deadlineMinutes: 2,
    };
    const camera = { serial: 'K1LLED001', channel: 1 };
    const r = planClip(policy, {
      edgeId: 'E-kill',
      alarm: 'trapped',
      since,
      end: since + 3000,
      camera,
      now: Date.now(),
    });
    await queue.add('clip', r, {
      jobId: r.clipId,
      removeOnComplete: { age: 86400 },
      removeOnFail: { age: 86400 },
    });
    // B starts while A works: it takes nothing A holds.
    const b = worker('B', ['--metrics-port', String(await freePort())]);
    const rowOf = async () => (await database.db.select().from(clips).where(eq(clips.id, r.clipId)))[0];
    await waitFor(async () => (await rowOf())?.status === 'waiting', {
      timeoutMs: 20_000,
      message: 'worker A saved the recording (row waiting)',
    });
    await a.kill('SIGKILL');
    assert.equal(ezviz.stats.tasksByFileId.get(r.clipId), 1, 'A had Ezviz save it');
    // Killed between saved and stored: the job is not finished — most often active under A's lock
    // (inside an Ezviz call), which only its expiry frees; on a loaded machine A may have parked it
    // delayed between polls, or the stalled check may already have put it back.
    const state = await queue.getJobState(r.clipId);
    assert.ok(['active', 'delayed', 'waiting'].includes(state), `A's job unfinished, got ${state}`);
    await b.ready;
    const row = await waitFor(
      async () => {
        const now = await rowOf();
        return now?.status === 'stored' || now?.status === 'failed' ? now : undefined;
      },
      { timeoutMs: 30_000, message: 'the clip stored by worker B' },
    );
    assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    assert.equal(row.worker, 'B');
    assert.equal(ezviz.stats.tasksByFileId.get(r.clipId), 1, 'exactly one Ezviz task for the fileId');
    assert.equal(ezviz.stats.duplicateSaves, 0, 'B resumed from the saved task id, it did not save again');
    assert.equal((await stat(join(dir, 'objects', clipVideoKey(r.clipId)))).size, row.bytes);
    const group = keyspace.groupOf(keyspace.shardOf('edge/E-kill'));
    const ready = await waitFor(
      async () => {
        const entries = (await t.redis.xrange(keyspace.outbox(group), '-', '+')) as [string, string[]][];
        const found = entries.filter(([, f]) =>
          f.some((v) => v.includes('"clip.ready"') && v.includes(r.clipId)),
        );
        return found.length > 0 ? found : undefined;
      },
      { message: 'clip.ready in the outbox' },
    );
    assert.equal(ready.length, 1, 'one clip.ready');
    const metrics = (await b.ready).metrics as string;
    const text = await (await fetch(metrics)).text();
    assert.match(text, /devicehub_clips_stored_total\{worker="B"\} 1/);
  });
});
