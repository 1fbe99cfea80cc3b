/**
 * The Redis floor: the mailbox work of the hub done by a bare ioredis loop, no DeviceHub code in
 * between — pipelined XADDs of ~600 B legacy messages over the same 1024 mailbox streams, then
 * XREADGROUP over `readKeys` streams at a time (one entry each, as a hub turn finds them) and the
 * XACKs of what came back. Client CPU (this process, user + system) per message, each half apart,
 * the median of `rounds` rounds after a warm-up: one round is ~0.2 s of CPU, and a garbage
 * collection or a neighbour's burst in it moved it by up to 40 %.
 */
import { Redis } from 'ioredis';
import { createKeyspace } from '../bus/keys.ts';
import { median } from './quantile.ts';
import { legacyData } from './workload.ts';

export interface RedisFloorOptions {
  /** `redis://host:port` (a single server: XREADGROUP over many keys needs them in one place). */
  readonly url: string;
  /** Messages through each half (default 20,000; warm-up extra). */
  readonly messages?: number;
  /** XADDs per pipeline (default 32: 5 ms of a link's batching at 6,500 msg/s). */
  readonly enqueueBatch?: number;
  /** Streams per XREADGROUP (default 128; the issue asks for ≥ 100). */
  readonly readKeys?: number;
  /** Measured rounds of `messages` each; each half's figure is their median (default 3). */
  readonly rounds?: number;
}

export interface RedisFloor {
  /** Pipelined XADD, client CPU µs per message. */
  readonly enqueueMicrosPerMsg: number;
  /** XREADGROUP over `readKeys` streams + XACK, client CPU µs per message. */
  readonly readAckMicrosPerMsg: number;
  /** Each round's figures, in the order measured. */
  readonly rounds: readonly { readonly enqueueMicrosPerMsg: number; readonly readAckMicrosPerMsg: number }[];
  readonly messages: number;
  readonly payloadBytes: number;
  readonly enqueueBatch: number;
  readonly readKeys: number;
}

const SHARDS = 1024;
const GROUP = 'hub';

export async function measureRedisFloor(o: RedisFloorOptions): Promise<RedisFloor> {
  const { url, messages = 20_000, enqueueBatch = 32, readKeys = 128, rounds: roundCount = 3 } = o;
  if (!url.startsWith('redis://'))
    throw new RangeError(`Cannot measure the Redis floor: a redis:// URL is needed, got ${url}`);
  if (!Number.isInteger(roundCount) || roundCount < 1)
    throw new RangeError(
      `Cannot measure the Redis floor: rounds must be a positive integer, got ${roundCount}`,
    );
  if (readKeys < 1 || readKeys > SHARDS)
    throw new RangeError(`Cannot measure the Redis floor: readKeys must be 1..${SHARDS}, got ${readKeys}`);
  const keyspace = createKeyspace({ prefix: `floor${process.pid}x${Date.now() % 1e6}`, shards: SHARDS });
  const keys = Array.from({ length: SHARDS }, (_, s) => keyspace.shard(s).mailbox);
  const redis = new Redis(url, { enableAutoPipelining: false });
  try {
    const create = redis.pipeline();
    for (const key of keys) create.xgroup('CREATE', key, GROUP, '$', 'MKSTREAM');
    await create.exec();
    const payload = JSON.stringify({
      kind: 'status',
      seq: 1,
      boot: 'b1',
      ts: Date.now(),
      data: legacyData('status', 7, 3),
    });
    const warmup = Math.min(5_000, messages);
    await enqueue(redis, keys, { from: 0, count: warmup, batch: enqueueBatch, payload });
    await readAck(redis, keys, { count: warmup, readKeys });
    const rounds: RedisFloor['rounds'][number][] = [];
    for (let r = 0; r < roundCount; r++) {
      await trim(redis, keys); // each round on streams as short as the first's
      const from = warmup + r * messages;
      const enqueueMicros = await cpu(() =>
        enqueue(redis, keys, { from, count: messages, batch: enqueueBatch, payload }),
      );
      const readMicros = await cpu(() => readAck(redis, keys, { count: messages, readKeys }));
      rounds.push({
        enqueueMicrosPerMsg: round(enqueueMicros / messages),
        readAckMicrosPerMsg: round(readMicros / messages),
      });
    }
    return {
      enqueueMicrosPerMsg: round(median(rounds.map((r) => r.enqueueMicrosPerMsg))),
      readAckMicrosPerMsg: round(median(rounds.map((r) => r.readAckMicrosPerMsg))),
      rounds,
      messages,
      payloadBytes: Buffer.byteLength(payload),
      enqueueBatch,
      readKeys,
    };
  } finally {
    const del = redis.pipeline();
    for (const key of keys) del.del(key);
    await del.exec().catch(() => undefined);
    redis.disconnect();
  }
}

async function enqueue(
  redis: Redis,
  keys: readonly string[],
  o: { from: number; count: number; batch: number; payload: string },
): Promise<void> {
  for (let done = 0; done < o.count; ) {
    const p = redis.pipeline();
    const n = Math.min(o.batch, o.count - done);
    for (let j = 0; j < n; j++) {
      const m = o.from + done + j;
      const edge = `edge/E-${String(m % 5000).padStart(6, '0')}`;
      p.xadd(
        keys[m % keys.length]!,
        '*',
        'a',
        edge,
        'm',
        'telemetry',
        'p',
        o.payload,
        't',
        String(Date.now()),
      );
    }
    await p.exec();
    done += n;
  }
}

/** Reads `count` entries, `readKeys` streams per XREADGROUP (COUNT 1 each), acknowledging each read. */
async function readAck(redis: Redis, keys: readonly string[], o: { count: number; readKeys: number }) {
  let read = 0;
  let start = 0;
  let empty = 0;
  while (read < o.count && empty < keys.length) {
    const block = Array.from({ length: o.readKeys }, (_, i) => keys[(start + i) % keys.length]!);
    start = (start + o.readKeys) % keys.length;
    const reply = (await redis.xreadgroup(
      'GROUP',
      GROUP,
      'floor',
      'COUNT',
      1,
      'STREAMS',
      ...block,
      ...block.map(() => '>'),
    )) as [string, [string, string[]][]][] | null;
    const ack = redis.pipeline();
    let got = 0;
    for (const [key, entries] of reply ?? []) {
      if (entries.length === 0) continue;
      got += entries.length;
      ack.xack(key, GROUP, ...entries.map(([id]) => id));
    }
    if (got > 0) await ack.exec();
    read += got;
    empty = got === 0 ? empty + o.readKeys : 0;
  }
}

/** Empties the streams (their groups stay): what was read is acknowledged. */
async function trim(redis: Redis, keys: readonly string[]): Promise<void> {
  const p = redis.pipeline();
  for (const key of keys) p.xtrim(key, 'MAXLEN', 0);
  await p.exec();
}

async function cpu(work: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const round = (n: number) => Number(n.toFixed(2));
