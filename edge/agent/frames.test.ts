/**
 * The agent's vision frames against a real gateway (served over HTTP, PGlite, the filesystem
 * object store): on a vision alarm's start it copies the JPEG elenet left in its source directory
 * into its disk queue, names the event in the alarm at once (the compact alarm's eventId and
 * frames, in its message queue before any upload) and uploads the frame with the edge's own
 * credentials; with the gateway down it keeps the frames — across a restart of the agent — and
 * delivers them once the gateway is back. An alarm of another kind, an alarm end, or no fresh
 * frame in the source: the alarm names none, as a legacy edge's.
 */
// Redis Cluster pass: once (what this tests is the agent's uploads over HTTP; the gateway's Redis use is incidental).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { createApiKey } from '../../gateway/auth.ts';
import { type Database, openDatabase } from '../../gateway/db/database.ts';
import { createGateway, type Gateway, type ServedGateway, serveGateway } from '../../gateway/mod.ts';
import { freePort, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { FsObjectStore, frameKey } from '../../objects/mod.ts';
import { decodeCompact, type HubMessage, legacyFault } from '../protocol/mod.ts';
import { EdgeAgent, type EdgeAgentOptions } from './agent.ts';
import { DiskQueue } from './disk-queue.ts';
import { birth } from './testdata/agent-hub.ts';

const t = useRedis();
const root = mkdtempSync(join(tmpdir(), 'dh-agent-frames-'));

/** The alarms an agent's message queue holds (its broker never reached: everything is still there). */
function queuedAlarms(dataDir: string): Extract<HubMessage, { method: 'alarm' }>['payload'][] {
  const queue = new DiskQueue(dataDir);
  const alarms: Extract<HubMessage, { method: 'alarm' }>['payload'][] = [];
  for (let m = queue.peek(); m !== undefined; queue.shift(), m = queue.peek())
    for (const decoded of decodeCompact(m.payload))
      if (decoded.method === 'alarm') alarms.push(decoded.payload);
  return alarms;
}

const photo = (r: number) =>
  sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g: 120, b: 60 } } })
    .jpeg({ quality: 85 })
    .toBuffer();

async function storedBytes(objects: FsObjectStore, key: string): Promise<Buffer | undefined> {
  if ((await objects.head(key)) === undefined) return undefined;
  return Buffer.from(await new Response((await objects.get(key)).body).arrayBuffer());
}

describe('the agent’s vision frames', { timeout: 90_000 }, () => {
  let database: Database;
  let objects: FsObjectStore;
  let gateway: Gateway;
  let served: ServedGateway | undefined;
  let port: number;
  let secret: string;
  const url = () => `http://127.0.0.1:${port}`;

  before(async () => {
    database = await openDatabase();
    objects = await FsObjectStore.open(join(root, 'objects'));
    gateway = await createGateway({ database, bus: t.bus(t.keyspace(), t.connect()), objects });
    port = await freePort();
    served = await serveGateway(gateway, { port });
    const { key } = await createApiKey(database.db, { name: 'admin', scope: 'admin' });
    const res = await gateway.app.request('/v1/edges', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'E-F1' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    secret = ((await res.json()) as { secret: string }).secret;
  });
  after(async () => {
    await served?.close();
    await gateway?.stop();
    await objects?.[Symbol.asyncDispose]();
    await database?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const agentOptions = (name: string, frames: Partial<NonNullable<EdgeAgentOptions['frames']>> = {}) => {
    const source = join(root, name, 'elenet');
    mkdirSync(source, { recursive: true });
    const options: EdgeAgentOptions = {
      edgeId: 'E-F1',
      password: secret,
      birth,
      dataDir: join(root, name, 'data'),
      configUrl: url(),
      longPollSeconds: 0,
      pollMs: 3_600_000,
      frames: { source, retry: { firstMs: 50, maxMs: 200 }, ...frames },
    };
    return { options, source };
  };

  it('names the event in the alarm at once and uploads its frame with the edge’s own credentials', async () => {
    const { options, source } = agentOptions('one');
    const jpeg = await photo(200);
    writeFileSync(join(source, 'old.jpg'), await photo(10));
    utimesSync(join(source, 'old.jpg'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    writeFileSync(join(source, 'frame-0001.jpg'), jpeg);
    writeFileSync(join(source, 'notes.txt'), 'not a frame');
    {
      await using agent = await new EdgeAgent(options).start();
      agent.alarm({ alarm: 'trapped', phase: 'start', floor: 3 });
      agent.alarm({ alarm: 'overspeed', phase: 'start', floor: 3 });
      agent.alarm({ alarm: 'trapped', phase: 'end', floor: 3 });
      await waitFor(() => agent.stats.frames?.uploaded === 1, { message: 'the frame uploaded' });
      assert.equal(agent.stats.frames?.queued, 0);
    }
    const [start, other, end] = queuedAlarms(options.dataDir);
    const eventId = start?.data?.eventId;
    assert.equal(typeof eventId, 'string');
    assert.equal(start?.data?.frames, 1, 'the newest fresh frame only (maxFrames 1; old.jpg is too old)');
    assert.equal(other?.data?.eventId, undefined, 'overspeed takes no frames');
    assert.equal(end?.data?.eventId, undefined, 'an alarm end names no frames');
    const stored = await storedBytes(objects, frameKey('E-F1', eventId as string, 0));
    assert.ok(stored?.equals(jpeg), 'the gateway holds the frame elenet left');
  });

  it('keeps frames on disk while the gateway is down, across a restart, and delivers them when it is back', async () => {
    const { options, source } = agentOptions('offline', { maxFrames: 2 });
    const [a, b] = await Promise.all([photo(30), photo(90)]);
    writeFileSync(join(source, 'a.jpg'), a);
    utimesSync(join(source, 'a.jpg'), new Date(Date.now() - 2000), new Date(Date.now() - 2000));
    writeFileSync(join(source, 'b.jpg'), b);
    await served?.close();
    served = undefined;
    {
      await using agent = await new EdgeAgent(options).start();
      agent.alarm({ alarm: 'ebike', phase: 'start', floor: 1 });
      await waitFor(() => (agent.stats.frames?.failures ?? 0) >= 2, { message: 'uploads failing' });
      assert.equal(agent.stats.frames?.queued, 2);
      assert.equal(agent.stats.frames?.uploaded, 0);
    }
    const [start] = queuedAlarms(options.dataDir);
    assert.equal(start?.data?.frames, 2, 'the alarm went out at once naming both frames');
    const eventId = start?.data?.eventId as string;
    // A new run of the agent on the same disk, and the gateway back.
    await using agent = await new EdgeAgent(options).start();
    assert.equal(agent.stats.frames?.queued, 2, 'the frames survived the restart');
    served = await serveGateway(gateway, { port });
    await waitFor(() => agent.stats.frames?.uploaded === 2, {
      message: 'both frames delivered',
      timeoutMs: 20_000,
    });
    assert.ok((await storedBytes(objects, frameKey('E-F1', eventId, 0)))?.equals(b), 'index 0: the newest');
    assert.ok((await storedBytes(objects, frameKey('E-F1', eventId, 1)))?.equals(a));
  });

  it('takes frames for an alarm in today’s JSON too, and keeps an event the JSON names itself', async () => {
    const { options, source } = agentOptions('legacy');
    const jpeg = await photo(140);
    writeFileSync(join(source, 'frame.jpg'), jpeg);
    {
      await using agent = await new EdgeAgent(options).start();
      const fault = { edgeId: 'E-F1', ts: Date.now(), floor: 4 } as const;
      agent.legacy(legacyFault({ ...fault, alarm: 'person_down', phase: 'start' }));
      agent.legacy(legacyFault({ ...fault, alarm: 'ebike', phase: 'start', eventId: 'elenet-7', frames: 3 }));
      await waitFor(() => agent.stats.frames?.uploaded === 1, { message: 'the frame uploaded' });
    }
    const [down, ebike] = queuedAlarms(options.dataDir);
    assert.equal(down?.data?.frames, 1);
    assert.ok((await storedBytes(objects, frameKey('E-F1', down?.data?.eventId as string, 0)))?.equals(jpeg));
    assert.deepEqual(
      [ebike?.data?.eventId, ebike?.data?.frames],
      ['elenet-7', 3],
      'named by the JSON: passed on',
    );
  });

  it('sends a vision alarm without frames when elenet left none (a legacy edge’s alarm)', async () => {
    const { options } = agentOptions('none');
    {
      await using agent = await new EdgeAgent(options).start();
      agent.alarm({ alarm: 'trapped', phase: 'start', floor: 2 });
      assert.equal(agent.stats.frames?.queued, 0);
    }
    const [start] = queuedAlarms(options.dataDir);
    assert.equal(start?.alarm, 'trapped');
    assert.equal(start?.data?.eventId, undefined);
    assert.equal(start?.data?.frames, undefined);
  });
});
