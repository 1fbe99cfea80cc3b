/**
 * For the alarm-history and clip tests: a gateway over a fresh database (PGlite, or a real
 * PostgreSQL) with a filesystem object store and a known clip-link key, an operator key, and
 * seeding helpers — alarm rows in the partitioned history (recorded in a given month) and stored
 * clips whose video is a real MP4 (clips/media renderTestClip) with its poster (extractPoster).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractPoster, probeVideo, renderTestClip } from '../../../clips/media/mod.ts';
import { clipIdOf } from '../../../edge/protocol/mod.ts';
import type { TestRedis } from '../../../infra/test-redis.ts';
import { clipPosterKey, clipVideoKey, FsObjectStore } from '../../../objects/mod.ts';
import { createApiKey } from '../../auth.ts';
import { ensureAlarmPartitions } from '../../db/alarm-partitions.ts';
import type { Database, Db } from '../../db/database.ts';
import { alarms, clips } from '../../db/schema.ts';
import { createGateway, type GatewayOptions } from '../../gateway.ts';

export interface AlarmGatewayOptions {
  readonly database: Database;
  readonly publicUrl?: string;
  /** Where events' links point without publicUrl (the served gateway). */
  readonly eventBaseUrl?: string;
  readonly webBackend?: GatewayOptions['webBackend'];
  readonly ttlSeconds?: number;
}

export async function startAlarmGateway(t: TestRedis, o: AlarmGatewayOptions) {
  const dir = await mkdtemp(join(tmpdir(), 'dh-alarms-'));
  const objects = await FsObjectStore.open(join(dir, 'objects'));
  const secretKey = randomBytes(32);
  const gateway = await createGateway({
    database: o.database,
    bus: t.bus(t.keyspace(), t.connect()),
    objects,
    clipLinks: {
      secretKey,
      ...(o.publicUrl === undefined ? {} : { publicUrl: o.publicUrl }),
      ...(o.eventBaseUrl === undefined ? {} : { eventBaseUrl: o.eventBaseUrl }),
      ...(o.ttlSeconds === undefined ? {} : { ttlSeconds: o.ttlSeconds }),
    },
    ...(o.webBackend === undefined ? {} : { webBackend: o.webBackend, leaseTtlMs: 1000 }),
  });
  const db = o.database.db;
  const { key } = await createApiKey(db, { name: `op-${randomBytes(3).toString('hex')}`, scope: 'operator' });
  const call = (path: string, headers: Record<string, string> = {}) =>
    gateway.app.request(path, { headers: { authorization: `Bearer ${key}`, ...headers } });
  const close = async () => {
    await gateway.stop();
    await objects[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  };
  return { gateway, db, objects, secretKey, key, call, dir, close };
}

export interface SeedAlarm {
  readonly eventId: string;
  readonly edgeId: string;
  readonly alarm: string;
  readonly phase: 'start' | 'end';
  /** ms */
  readonly at: number;
  readonly since?: number;
  /** When the hub recorded it (its partition); default `at`. */
  readonly recordedAt?: number;
}

/** Inserts alarm rows, creating the monthly partitions they fall in. */
export async function seedAlarms(db: Db, rows: readonly SeedAlarm[]): Promise<void> {
  for (const r of rows) await ensureAlarmPartitions(db, new Date(r.recordedAt ?? r.at), 0);
  await db.insert(alarms).values(
    rows.map((r) => ({
      eventId: r.eventId,
      recordedAt: new Date(r.recordedAt ?? r.at),
      edgeId: r.edgeId,
      alarm: r.alarm,
      phase: r.phase,
      at: new Date(r.at),
      since: r.since === undefined ? null : new Date(r.since),
      data: {},
    })),
  );
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export interface SeededClip {
  readonly id: string;
  readonly video: Buffer;
  readonly poster: Buffer;
  readonly durationMs: number;
}

/**
 * A stored clip of (edge, alarm, since): a real MP4 of `seconds` seconds and its poster in the
 * store, its row in `clips` (status stored).
 */
export async function seedStoredClip(
  g: { db: Db; objects: FsObjectStore; dir: string },
  c: { edgeId: string; alarm: string; since: number; seconds: number },
): Promise<SeededClip> {
  const id = clipIdOf(c.edgeId, c.alarm, c.since);
  const start = c.since - 1000;
  const end = start + c.seconds * 1000;
  const path = await renderTestClip({ startMs: start, endMs: end, label: `${c.edgeId} ${c.alarm}` });
  const posterPath = join(g.dir, `${id}.jpg`);
  await extractPoster(path, posterPath);
  const video = await readFile(path);
  const poster = await readFile(posterPath);
  await g.objects.put(clipVideoKey(id), once(video), { contentType: 'video/mp4' });
  await g.objects.put(clipPosterKey(id), once(poster), { contentType: 'image/jpeg' });
  const { durationMs } = await probeVideo(path);
  await g.db.insert(clips).values({
    id,
    edgeId: c.edgeId,
    alarm: c.alarm,
    alarmSince: new Date(c.since),
    alarmEnd: new Date(c.since + 2000),
    cameraSerial: 'ABC123456',
    cameraChannel: 1,
    windowStart: new Date(start),
    windowEnd: new Date(end),
    status: 'stored',
    videoKey: clipVideoKey(id),
    posterKey: clipPosterKey(id),
    bytes: (await stat(path)).size,
    sha256: createHash('sha256').update(video).digest('hex'),
    durationMs,
    requestedAt: new Date(end),
    storedAt: new Date(end + 1000),
    retentionDays: 30,
    expiresAt: new Date(end + 30 * 86_400_000),
  });
  return { id, video, poster, durationMs };
}

/** A clip row that is not stored (queued, failed…), no objects. */
export async function seedClipRow(
  db: Db,
  c: { edgeId: string; alarm: string; since: number; status: 'queued' | 'failed'; reason?: string },
): Promise<string> {
  const id = clipIdOf(c.edgeId, c.alarm, c.since);
  await db.insert(clips).values({
    id,
    edgeId: c.edgeId,
    alarm: c.alarm,
    alarmSince: new Date(c.since),
    windowStart: new Date(c.since - 10_000),
    windowEnd: new Date(c.since + 10_000),
    status: c.status,
    ...(c.reason === undefined ? {} : { code: 'OFFLINE', reason: c.reason }),
    requestedAt: new Date(c.since + 10_000),
    retentionDays: 30,
  });
  return id;
}
