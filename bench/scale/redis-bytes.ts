/**
 * Where Redis's bytes go, per edge: `MEMORY USAGE … SAMPLES 0` (every element counted) of every
 * key of the benchmark's prefix, summed by key family (the key with its shard and group numbers
 * and per-edge suffixes folded: `{g*}:s*:mb` is the mailboxes, `{g*}:s*:state` the actors' states),
 * beside `used_memory` and the states' JSON size. Families are told apart by the keys' shapes
 * (bus/keys.ts names them); nothing here writes a key.
 */
import type { Redis as Single } from 'ioredis';
import { execOrThrow, openPipeline, type Redis } from '../../bus/mod.ts';

/**
 * Families left out of `bytesPerEdge`: the outbox holds the actors' effects until the gateway's
 * sink and the downlink relays have read them (then trim.lua drops them); this benchmark runs
 * neither, so there it only grows. Reported beside, per edge.
 */
const UNCONSUMED = new Set(['{g*}:outbox']);

export interface RedisBytes {
  /** MEMORY USAGE of every key of the prefix but the unconsumed outbox, summed, per edge. */
  readonly bytesPerEdge: number;
  /** The outbox's bytes per edge (no consumer in this benchmark). */
  readonly outboxPerEdge: number;
  /** INFO memory's used_memory less its value before the run, per edge. */
  readonly usedMemoryPerEdge: number;
  /** Bytes per edge by key family, largest first: `{ family: [keys, bytesPerEdge] }`. */
  readonly families: Record<string, [number, number]>;
  /** The mean length of an actor's state JSON (the `state` hashes' values). */
  readonly stateJsonBytes: number;
  /** Entries still in the mailboxes (stream lengths). */
  readonly mailboxEntries: number;
}

/** `used_memory` now, for the baseline. */
export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** The key's family: numbers of shards and groups folded, per-edge suffixes dropped. */
export function keyFamily(key: string, prefix: string): string {
  return key
    .slice(prefix.length + 1)
    .replace(/\{g\d+\}/, '{g*}')
    .replace(/:s\d+:/, ':s*:')
    .replace(/:(dl-budget|alert-seen):.*/, ':$1:*')
    .replace(/^bull:([^:]+):.*/, 'bull:$1:*');
}

export async function measureRedisBytes(
  redis: Redis,
  o: { prefix: string; edges: number; usedBefore: number },
): Promise<RedisBytes> {
  const keys: string[] = [];
  let cursor = '0';
  // The benchmark's Redis is one server (a cluster would need a scan per master).
  const single = redis as Single;
  do {
    const [next, batch] = await single.scan(cursor, 'MATCH', `${o.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const sizes: number[] = [];
  for (let k = 0; k < keys.length; k += 500) {
    const p = openPipeline(redis);
    for (const key of keys.slice(k, k + 500)) p.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    sizes.push(...((await execOrThrow(p)) as (number | null)[]).map((n) => n ?? 0));
  }
  const byFamily = new Map<string, [number, number]>();
  let total = 0;
  let outbox = 0;
  keys.forEach((key, i) => {
    const f = keyFamily(key, o.prefix);
    const [count, bytes] = byFamily.get(f) ?? [0, 0];
    byFamily.set(f, [count + 1, bytes + sizes[i]!]);
    if (UNCONSUMED.has(f)) outbox += sizes[i]!;
    else total += sizes[i]!;
  });
  const perEdge = (n: number) => Math.round((n / o.edges) * 10) / 10;
  const families = Object.fromEntries(
    [...byFamily.entries()].sort((a, b) => b[1][1] - a[1][1]).map(([f, [n, b]]) => [f, [n, perEdge(b)]]),
  ) as Record<string, [number, number]>;
  const stateKeys = keys.filter((k) => k.endsWith(':state')).slice(0, 64);
  let jsonBytes = 0;
  let states = 0;
  for (const key of stateKeys) {
    for (const json of Object.values(await single.hgetall(key))) {
      jsonBytes += json.length;
      states++;
    }
  }
  const lengths = keys.filter((k) => k.endsWith(':mb'));
  let mailboxEntries = 0;
  for (let k = 0; k < lengths.length; k += 500) {
    const p = openPipeline(redis);
    for (const key of lengths.slice(k, k + 500)) p.xlen(key);
    mailboxEntries += ((await execOrThrow(p)) as number[]).reduce((a, b) => a + b, 0);
  }
  return {
    bytesPerEdge: perEdge(total),
    outboxPerEdge: perEdge(outbox),
    usedMemoryPerEdge: perEdge((await usedMemory(redis)) - o.usedBefore),
    families,
    stateJsonBytes: states === 0 ? 0 : Math.round(jsonBytes / states),
    mailboxEntries,
  };
}
