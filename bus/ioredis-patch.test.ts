/**
 * patches/ioredis+5.11.1.patch (decision 067) against a real Redis, on each of its masters: a
 * command, a script and a pipeline leave nothing that outlives the young generation (before the
 * patch each kept its reply until the next full GC, ~85 % of the bytes read got promoted), and
 * what the patch touched still behaves as ioredis documents: a script whose cache Redis lost is
 * sent again in full (NOSCRIPT), alone and in a pipeline, and a script's error rejects its call.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GCProfiler } from 'node:v8';
import type { ChainableCommander, Redis as Single } from 'ioredis';
import { useRedis } from '../infra/test-redis.ts';

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

const OLD = (name: string) => !name.startsWith('new_');
function oldUsed(spaces: readonly { spaceName: string; spaceUsedSize: number }[]): number {
  return spaces.filter((s) => OLD(s.spaceName)).reduce((sum, s) => sum + s.spaceUsedSize, 0);
}

describe('ioredis, as patched', () => {
  it('keeps no command, script or pipeline reply past the scavenges that find it dead', async () => {
    const [master] = await t.masters();
    const redis = withScripts(master!);
    await redis.dhTestRead();
    let profiler = new GCProfiler();
    profiler.start();
    // The first scavenges of a fresh process come every few hundred KB, while a call's reply is
    // still in use: they are the warm-up, not counted.
    const WARM_UP = 4;
    let read = 0;
    let scavenges = 0;
    let promoted = 0;
    for (let i = 0; i < 20_000 && scavenges < WARM_UP + 8; i++) {
      const kind = i % 3;
      const counted = scavenges >= WARM_UP;
      let bytes = 0;
      if (kind === 0) bytes += bytesOf(await redis.eval(READ_LIKE, 0));
      else if (kind === 1) bytes += bytesOf(await redis.dhTestRead());
      else {
        for (const [error, reply] of await pipelinedReads(redis)) {
          assert.equal(error, null);
          bytes += bytesOf(reply);
        }
      }
      if (counted) read += bytes;
      if (i % 50 === 49) {
        // Look at what the collector did so far without stopping it for good.
        const { statistics } = profiler.stop();
        for (const s of statistics) {
          if (s.gcType !== 'Scavenge') continue;
          if (scavenges++ < WARM_UP) continue;
          promoted += Math.max(
            0,
            oldUsed(s.afterGC.heapSpaceStatistics) - oldUsed(s.beforeGC.heapSpaceStatistics),
          );
        }
        profiler = new GCProfiler();
        profiler.start();
      }
    }
    profiler.stop();
    assert.ok(scavenges >= WARM_UP + 8, `the young generation was collected (${scavenges} scavenges)`);
    // Unpatched, a command's reply lived on until the next full GC: promoted ≈ 0.8 × read.
    assert.ok(
      promoted < 0.2 * read,
      `promoted ${(promoted / 1e6).toFixed(1)} MB while reading ${(read / 1e6).toFixed(1)} MB`,
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
});
