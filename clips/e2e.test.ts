/**
 * Alarm clips end to end, each piece its own process or server as in production: Redis, a real
 * PostgreSQL, a file:// object store, the Ezviz stand-in (a camera offline for its first calls, a
 * download cut off), a hub node (`devicehub node`: the edge actors), a gateway (`devicehub
 * gateway`: the configuration API, the outbox sink, the alarm history, the signed clip links, the
 * events to the web backend stand-in) and a clip worker (`devicehub clips`). The clip policy is
 * set through the configuration API; edges name their camera in their birth; alarm start and end
 * messages go to the edge actors as a link enqueues them. Checked: the clip stored once (row,
 * objects, SHA-256 of what the gateway serves, one Ezviz task), the alarm history with the clip
 * and its signed links (Range → 206), `clip.ready` at the web backend with a link that works; a
 * camera Ezviz does not know ends as `clip.failed` with a reason people can read; an invalid clip
 * setting is refused with a 400 naming the field.
 */
// Redis Cluster pass: once (Redis is the mailboxes, the outbox and one BullMQ queue, which the bus's, the actors' and clips/worker's own files run on the cluster; this tests the processes together).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { createActorClient } from '../actors/mod.ts';
import type { Keyspace } from '../bus/mod.ts';
import { type ClipKindPolicy, clipIdOf, edgeActor } from '../edge/mod.ts';
import { createApiKey, openDatabase } from '../gateway/mod.ts';
import {
  type DevicehubProcess,
  type EzvizStandIn,
  freePort,
  type PostgresServer,
  spawnDevicehub,
  startEzvizStandIn,
  startPostgres,
  startWebBackendStandIn,
  type WebBackendStandIn,
  waitFor,
} from '../infra/mod.ts';
import { useRedis } from '../infra/test-redis.ts';
import { clipPosterKey, clipVideoKey, FsObjectStore } from '../objects/mod.ts';

const t = useRedis();

/** Short clips: 2 s before the alarm, 1 s after, quick to render, check and store. */
const TRAPPED: ClipKindPolicy = {
  preRollSeconds: 2,
  postRollSeconds: 1,
  maxSeconds: 30,
  retentionDays: 7,
  deadlineMinutes: 2,
};
const CAMERA = 'E2ECAM001';
const UNKNOWN_CAMERA = 'E2ENOCAM9';
const EDGE = 'e2e-clips-1';
const EDGE_UNKNOWN = 'e2e-clips-2';

interface ClipRowView {
  id: string;
  status: string;
  code: string | null;
  reason: string | null;
  video_key: string | null;
  poster_key: string | null;
  bytes: string | null;
  sha256: string | null;
  duration_ms: number | null;
  camera_serial: string | null;
}

interface ApiClip {
  id: string;
  status: string;
  reason: string | null;
  code: string | null;
  sha256: string | null;
  bytes: number | null;
  links: { video: string; poster: string; expiresAt: number } | null;
}

interface ApiAlarm {
  edgeId: string;
  alarm: string;
  phase: string;
  clip: ApiClip | null;
}

let dir = '';
let pg: PostgresServer;
let sql: postgres.Sql;
let store: FsObjectStore;
let ezviz: EzvizStandIn;
let backend: WebBackendStandIn;
let keyspace: Keyspace;
let gatewayUrl = '';
let operatorKey = '';
const processes: DevicehubProcess[] = [];

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${gatewayUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${operatorKey}`, 'content-type': 'application/json', ...init.headers },
  });

const putDevicehubConfig = (body: unknown) =>
  api('/v1/config/devicehub/global', { method: 'PUT', body: JSON.stringify(body) });

/** Ezviz save calls the stand-in answered so far. */
const saveCalls = () => ezviz.stats.callLog.filter((c) => c.path.endsWith('/video/save')).length;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function clipRow(id: string): Promise<ClipRowView | undefined> {
  const [row] = await sql<ClipRowView[]>`
    select id, status, code, reason, video_key, poster_key, bytes, sha256, duration_ms, camera_serial
      from clips where id = ${id}`;
  return row;
}

/** Waits for a clip row to settle (stored or failed); on a timeout says where it stood and what the processes wrote. */
async function settledRow(id: string): Promise<ClipRowView> {
  try {
    return await waitFor(
      async () => {
        const row = await clipRow(id);
        return row !== undefined && (row.status === 'stored' || row.status === 'failed') ? row : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 100, message: `clip ${id} stored or failed` },
    );
  } catch (error) {
    const tails = processes.map((p) => p.stderrTail()).join('\n---\n');
    throw new Error(`${String(error)}; row: ${JSON.stringify(await clipRow(id))}; stderr:\n${tails}`);
  }
}

/** The web backend's event of `type` for clip `id`, once it came. */
function backendEvent(type: string, id: string) {
  return waitFor(
    () =>
      [...backend.events.values()].find((e) => e.type === type && (e as { clipId?: string }).clipId === id) as
        | Record<string, unknown>
        | undefined,
    { timeoutMs: 15_000, intervalMs: 50, message: `${type} for ${id} at the web backend` },
  );
}

async function alarmsOf(edgeId: string): Promise<ApiAlarm[]> {
  const answer = await api(`/v1/alarms?edge=${edgeId}`);
  assert.equal(answer.status, 200, await answer.clone().text());
  return ((await answer.json()) as { alarms: ApiAlarm[] }).alarms;
}

// Inside the describe: its hooks run before useRedis's `after` stops Redis.
describe('alarm clips across the processes', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dh-clips-e2e-'));
    pg = await startPostgres();
    const databaseUrl = await pg.createDatabase('clips_e2e');
    const database = await openDatabase({ url: databaseUrl });
    try {
      operatorKey = (await createApiKey(database.db, { name: 'e2e', scope: 'operator' })).key;
    } finally {
      await database.close();
    }
    sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
    const objectsDir = join(dir, 'objects');
    store = await FsObjectStore.open(objectsDir);
    const objectStoreUrl = pathToFileURL(objectsDir).href;
    ezviz = await startEzvizStandIn({ taskMs: 300, faults: { unknownSerials: [UNKNOWN_CAMERA] } });
    backend = await startWebBackendStandIn();
    keyspace = t.keyspace();
    const cliArgs = t.cliArgs(keyspace);
    const quiet = { DH_LOG_LEVEL: 'warn' };

    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    const gateway = spawnDevicehub(
      [
        ...['gateway', ...cliArgs, '--port', String(port), '--public-url', gatewayUrl],
        ...['--database-url', databaseUrl, '--object-store', objectStoreUrl],
        ...['--web-backend-url', backend.url, '--clip-url-secret-file', join(dir, 'clip-url.key')],
      ],
      { name: 'gateway', env: quiet, cwd: dir },
    );
    processes.push(gateway);
    const worker = spawnDevicehub(
      [
        ...['clips', ...cliArgs, '--id', 'e2e-clips', '--database-url', databaseUrl],
        ...['--object-store', objectStoreUrl, '--ezviz', ezviz.url, '--ezviz-app-key', ezviz.appKey],
        ...['--budget', '20', '--poll-ms', '100', '--retry-ms', '200', '--tmp-dir', join(dir, 'tmp')],
      ],
      { name: 'clip worker', env: { ...quiet, DH_EZVIZ_APP_SECRET: ezviz.appSecret }, cwd: dir },
    );
    processes.push(worker);
    await gateway.ready;

    // The policy first, so the node reads it at its start (it reads it again only every 5 s).
    const put = await putDevicehubConfig({ clips: { kinds: { trapped: TRAPPED } } });
    assert.equal(put.status, 200, await put.text());
    await waitFor(
      async () => {
        const published = await t.redis.get(keyspace.clipPolicy);
        return published !== null && JSON.parse(published).kinds?.trapped?.preRollSeconds === 2;
      },
      { timeoutMs: 10_000, message: 'the gateway publishes the configured clip policy to Redis' },
    );
    const node = t.hubProcess(keyspace, 'e2e-node-1');
    processes.push(node);
    await Promise.all([node.ready, worker.ready]);
  });

  after(async () => {
    // Gracefully, all at once (SIGTERM: each process lets what it does end), killed if one hangs.
    await Promise.all(
      processes.map((p) =>
        Promise.race([p.stop(), new Promise((r) => setTimeout(r, 10_000)).then(() => p.kill('SIGKILL'))]),
      ),
    );
    await sql?.end();
    await backend?.close();
    await ezviz?.close();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('an invalid clip setting is refused with a 400 naming the field; the policy in use stays', async () => {
    const answer = await putDevicehubConfig({ clips: { kinds: { trapped: { ...TRAPPED, maxSeconds: 0 } } } });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /maxSeconds/);
    const published = JSON.parse((await t.redis.get(keyspace.clipPolicy)) ?? '{}');
    assert.deepEqual(published.kinds?.trapped, TRAPPED);
  });

  test('an alarm becomes one stored clip: row, objects, history with signed links, Range, clip.ready', async () => {
    const client = createActorClient(t.bus(keyspace), edgeActor);
    await client.send(EDGE, 'telemetry', { kind: 'birth', data: { camera: { serial: CAMERA, channel: 1 } } });
    // Ezviz on a bad day: the camera offline (until the worker has asked twice), the first download cut off.
    ezviz.faults.offline(CAMERA);
    ezviz.faults.cutNextDownloads(1);
    const since = Date.now() - 3000;
    const end = Date.now();
    const id = clipIdOf(EDGE, 'trapped', since);
    await client.send(EDGE, 'alarm', { alarm: 'trapped', phase: 'start', ts: since });
    await client.send(EDGE, 'alarm', { alarm: 'trapped', phase: 'end', ts: end });
    await waitFor(() => saveCalls() >= 2, {
      timeoutMs: 20_000,
      intervalMs: 50,
      message: 'the worker asks Ezviz again after the camera was offline',
    });
    assert.equal(ezviz.stats.tasks, 0, 'no task while the camera is offline');
    ezviz.faults.online(CAMERA);

    const row = await settledRow(id);
    assert.equal(row.status, 'stored', `${row.code}: ${row.reason}`);
    assert.equal(row.camera_serial, CAMERA);
    assert.equal(row.video_key, clipVideoKey(id));
    assert.equal(row.poster_key, clipPosterKey(id));
    // 2 s before + 3 s of alarm + 1 s after, as ffprobe measured it (the stand-in renders the window).
    assert.ok(Math.abs((row.duration_ms ?? 0) - 6000) <= 1000, `duration ${row.duration_ms} ms`);
    const video = Buffer.from(await new Response((await store.get(clipVideoKey(id))).body).arrayBuffer());
    assert.equal(video.length, Number(row.bytes));
    assert.equal(sha256(video), row.sha256);
    assert.equal(video.subarray(4, 8).toString('latin1'), 'ftyp', 'an MP4');
    const poster = Buffer.from(await new Response((await store.get(clipPosterKey(id))).body).arrayBuffer());
    assert.deepEqual([...poster.subarray(0, 2)], [0xff, 0xd8], 'a JPEG poster');

    // Ezviz: the offline answers were retried, the cut download fetched again, one task for the fileId.
    assert.equal(ezviz.stats.tasksByFileId.get(id), 1);
    assert.equal(ezviz.stats.duplicateSaves, 0);
    assert.equal(ezviz.stats.downloadsCut, 1);
    assert.ok(!ezviz.stats.fetchedTwice().has(id), 'the whole file was downloaded once');

    // The alarm history: its start and its end, the end (which knows the start) with the stored
    // clip and its signed links.
    const listed = await waitFor(
      async () => {
        const alarms = await alarmsOf(EDGE);
        const ended = alarms.find((a) => a.phase === 'end');
        return alarms.length === 2 && ended?.clip?.status === 'stored' ? alarms : undefined;
      },
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        message: 'the alarm start and end in GET /v1/alarms, the clip stored',
      },
    );
    assert.deepEqual(listed.map((a) => a.phase).sort(), ['end', 'start']);
    const clip = listed.find((a) => a.phase === 'end')!.clip!;
    assert.equal(clip.id, id);
    // The start row is at the edge's clock (its ts), so it finds the same clip.
    assert.equal(listed.find((a) => a.phase === 'start')!.clip?.id, id);
    assert.equal(clip.sha256, row.sha256);
    assert.ok(clip.links, 'signed links while stored');
    const ranged = await fetch(clip.links.video, { headers: { range: 'bytes=0-1023' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-type'), 'video/mp4');
    assert.equal(ranged.headers.get('content-range'), `bytes 0-1023/${video.length}`);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), video.subarray(0, 1024));
    const whole = await fetch(clip.links.video);
    assert.equal(whole.status, 200);
    assert.equal(sha256(new Uint8Array(await whole.arrayBuffer())), row.sha256, 'served = stored');
    const forged = await fetch(clip.links.video.replace(/sig=[^&]+/, 'sig=AAAA'));
    assert.equal(forged.status >= 400 && forged.status < 500, true, `a forged link: ${forged.status}`);

    // The web backend: clip.ready with the clip's facts and links that work.
    const ready = await backendEvent('clip.ready', id);
    assert.equal(ready.edgeId, EDGE);
    assert.equal(ready.since, since);
    assert.equal(ready.sha256, row.sha256);
    assert.equal(typeof ready.url, 'string');
    const fromBackend = await fetch(ready.url as string);
    assert.equal(fromBackend.status, 200);
    assert.equal(fromBackend.headers.get('content-type'), 'video/mp4');
    assert.equal(sha256(new Uint8Array(await fromBackend.arrayBuffer())), row.sha256);
    const posterLink = await fetch(ready.posterUrl as string);
    assert.equal(posterLink.status, 200);
    assert.deepEqual(Buffer.from(await posterLink.arrayBuffer()), poster);
  });

  test('a camera Ezviz does not know: clip.failed with a readable reason, in the history too', async () => {
    const client = createActorClient(t.bus(keyspace), edgeActor);
    await client.send(EDGE_UNKNOWN, 'telemetry', {
      kind: 'birth',
      data: { camera: { serial: UNKNOWN_CAMERA, channel: 1 } },
    });
    const since = Date.now() - 2000;
    const id = clipIdOf(EDGE_UNKNOWN, 'trapped', since);
    await client.send(EDGE_UNKNOWN, 'alarm', { alarm: 'trapped', phase: 'start', ts: since });
    await client.send(EDGE_UNKNOWN, 'alarm', { alarm: 'trapped', phase: 'end', ts: Date.now() });

    const row = await settledRow(id);
    assert.equal(row.status, 'failed');
    assert.ok(row.reason && row.reason.length >= 10, `a reason people can read: ${row.reason}`);
    assert.match(row.reason, new RegExp(UNKNOWN_CAMERA), 'the reason names the camera');
    assert.equal(row.video_key, null);
    assert.equal(ezviz.stats.tasksByFileId.get(id), undefined, 'no Ezviz task');

    const failed = await backendEvent('clip.failed', id);
    assert.equal(failed.edgeId, EDGE_UNKNOWN);
    assert.equal(failed.reason, row.reason);
    assert.equal(typeof failed.code, 'string');
    assert.equal(failed.url, undefined, 'no link to a clip that does not exist');

    const ended = await waitFor(
      async () => {
        const listed = await alarmsOf(EDGE_UNKNOWN);
        return listed.find((a) => a.phase === 'end' && a.clip?.status === 'failed');
      },
      { timeoutMs: 10_000, intervalMs: 100, message: 'the failed clip in GET /v1/alarms' },
    );
    assert.equal(ended.clip!.id, id);
    assert.equal(ended.clip!.reason, row.reason);
    assert.equal(ended.clip!.code, row.code);
    assert.equal(ended.clip!.links, null);
  });
});
