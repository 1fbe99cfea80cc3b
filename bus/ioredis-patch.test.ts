/**
 * patches/ioredis+5.11.1.patch (decision 067) against a real Redis, on each of its masters: a
 * command, a script and a pipeline leave nothing that outlives the young generation (before the
 * patch each kept its reply until the next full GC, ~85 % of the bytes read got promoted), and
 * what the patch touched still behaves as ioredis documents: a script whose cache Redis lost is
 * sent again in full (NOSCRIPT), alone and in a pipeline, and a script's error rejects its call.
 * A pipeline takes the connection's scripts from one shared prototype instead of copying them
 * (~40 property stores a pipeline on the bus), and a command defined later still reaches it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GCProfiler } from 'node:v8';
import type { ChainableCommander, Redis as Single } from 'ioredis';
import { useRedis } from '../infra/test-redis.ts';
import { type GcStatistic, type YoungGeneration, youngGenerationOf } from '../infra/young-generation.ts';

const t = useRedis();

/** A reply shaped like a hub turn's read: entries of five strings, one of them ~560 B. */
const ENTRIES = 40;
const READ_LIKE = `local out = {} for i = 1, ${ENTRIES} do out[i] = {'1796485396564-' .. i, 'edge/E-000001', 'telemetry', string.rep('x', 560), '1796485396561'} end return out`;
const FAILS = `return redis.error_reply('ERR patched reject works')`;

type ScriptCall = () => Promise<unknown>;
interface TestScripts {
  dhTestRead: ScriptCall;
  dhTestFails: ScriptCall;
}

/** Two reads in one pipeline: its replies, errors included. */
async function pipelinedReads(redis: Single): Promise<[Error | null, unknown][]> {
  const pipeline = redis.pipeline() as unknown as {
    dhTestRead(): unknown;
    exec(): ReturnType<ChainableCommander['exec']>;
  };
  pipeline.dhTestRead();
  pipeline.dhTestRead();
  return (await pipeline.exec()) ?? [];
}

function withScripts(master: Single): Single & TestScripts {
  master.defineCommand('dhTestRead', { numberOfKeys: 0, lua: READ_LIKE });
  master.defineCommand('dhTestFails', { numberOfKeys: 0, lua: FAILS });
  return master as Single & TestScripts;
}

function bytesOf(reply: unknown): number {
  let n = 0;
  for (const entry of reply as string[][]) for (const field of entry) n += field.length;
  return n;
}

/** One call of each kind in turn: EVAL, a script, two scripts in a pipeline. Bytes read. */
async function readOnce(redis: Single & TestScripts, kind: number): Promise<number> {
  if (kind === 0) return bytesOf(await redis.eval(READ_LIKE, 0));
  if (kind === 1) return bytesOf(await redis.dhTestRead());
  let bytes = 0;
  for (const [error, reply] of await pipelinedReads(redis)) {
    assert.equal(error, null);
    bytes += bytesOf(reply);
  }
  return bytes;
}

/** Reads until V8 has scavenged `scavenges` times: the bytes read and what the scavenges did. */
async function readUntilScavenged(
  redis: Single & TestScripts,
  scavenges: number,
): Promise<{ read: number; gc: YoungGeneration }> {
  const statistics: GcStatistic[] = [];
  let read = 0;
  for (let i = 0; i < 400; i++) {
    // A profiler per 50 calls: what the collector did so far, looked at without stopping for good.
    const profiler = new GCProfiler();
    profiler.start();
    for (let j = 0; j < 50; j++) read += await readOnce(redis, j % 3);
    statistics.push(...profiler.stop().statistics);
    if (youngGenerationOf(statistics).scavenges >= scavenges) break;
  }
  return { read, gc: youngGenerationOf(statistics) };
}

describe('ioredis, as patched', () => {
  it('keeps no command, script or pipeline reply past the scavenges that find it dead', async () => {
    const [master] = await t.masters();
    const redis = withScripts(master!);
    await redis.dhTestRead();
    // The first scavenges of a fresh process come every few hundred KB, while a call's reply is
    // still in use: they are the warm-up, not counted.
    await readUntilScavenged(redis, 4);
    const { read, gc } = await readUntilScavenged(redis, 8);
    assert.ok(gc.scavenges >= 8, `the young generation was collected (${gc.scavenges} scavenges)`);
    // Unpatched, a command's reply lived on until the next full GC: promoted ≈ 0.8 × read.
    assert.ok(
      gc.promotedBytes < 0.2 * read,
      `promoted ${(gc.promotedBytes / 1e6).toFixed(1)} MB while reading ${(read / 1e6).toFixed(1)} MB`,
    );
  });

  it('sends a script in full again once Redis lost it, alone and in a pipeline; a script error rejects', async () => {
    const [master] = await t.masters();
    const redis = withScripts(master!);
    assert.equal(((await redis.dhTestRead()) as unknown[]).length, ENTRIES);
    assert.equal(((await redis.dhTestRead()) as unknown[]).length, ENTRIES); // by EVALSHA now
    await redis.script('FLUSH');
    assert.equal(((await redis.dhTestRead()) as unknown[]).length, ENTRIES); // NOSCRIPT, then EVAL
    await redis.script('FLUSH');
    const replies = await pipelinedReads(redis);
    assert.deepEqual(
      replies.map(([error, reply]) => [error, (reply as unknown[]).length]),
      [
        [null, ENTRIES],
        [null, ENTRIES],
      ],
    );
    await assert.rejects(redis.dhTestFails(), /patched reject works/);
    await assert.rejects(redis.eval(FAILS, 0), /patched reject works/);
  });

  it("gives every pipeline the connection's scripts without copying them, a script defined later too", async () => {
    const [master] = await t.masters();
    const redis = withScripts(master!);
    const first = redis.pipeline() as unknown as Record<string, unknown>;
    const second = redis.pipeline() as unknown as Record<string, unknown>;
    assert.equal(typeof first.dhTestRead, 'function');
    assert.equal(Object.hasOwn(first, 'dhTestRead'), false, 'inherited, not copied');
    assert.equal(Object.getPrototypeOf(first), Object.getPrototypeOf(second), 'one prototype for both');
    redis.defineCommand('dhTestLater', { numberOfKeys: 0, lua: "return 'later'" });
    const later = redis.pipeline() as unknown as {
      dhTestLater(): unknown;
      dhTestRead(): unknown;
    } & ChainableCommander;
    later.dhTestLater();
    later.dhTestRead();
    const replies = (await later.exec()) ?? [];
    assert.deepEqual(
      replies.map(([error, reply]) => [error, Array.isArray(reply) ? reply.length : reply]),
      [
        [null, 'later'],
        [null, ENTRIES],
      ],
    );
    assert.equal(first.dhTestLater, undefined, 'a pipeline made before keeps what it had');
  });
});
