/**
 * Reading the dead letters: the newest first, page by page (optionally one edge's only), and the
 * counts the links keep per edge and per code. A page scans a bounded number of stream entries,
 * so asking for a quiet edge's letters costs the same as any page: it may come back with fewer
 * than asked and a cursor to go on from.
 */

import type { Bus } from './bus.ts';
import type { DeadLetter } from './dead-letters.ts';

/** Stream entries one page looks at, at most. */
export const DEAD_LETTER_SCAN = 2000;

function toLetter([id, fields]: [string, string[]]): DeadLetter {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  return {
    id,
    entryId: f.get('entry') ?? '',
    shard: Number(f.get('shard')),
    address: f.get('a') ?? '',
    method: f.get('m') ?? '',
    payload: f.get('p') ?? '',
    encoding: f.get('pe') === 'base64' ? 'base64' : 'text',
    bytes: Number(f.get('pl') ?? Buffer.byteLength(f.get('p') ?? '')),
    sha256: f.get('ph') ?? '',
    code: f.get('code') ?? '',
    reason: f.get('reason') ?? '',
    node: f.get('node') ?? '',
    at: Number(f.get('at')),
  };
}

/** The newest dead letters first. */
export async function readDeadLetters(bus: Bus, count = 100): Promise<DeadLetter[]> {
  const rows = (await bus.redis.xrevrange(bus.keyspace.deadLetters, '+', '-', 'COUNT', count)) as [
    string,
    string[],
  ][];
  return rows.map(toLetter);
}

export interface DeadLetterPage {
  readonly letters: DeadLetter[];
  /** Where the next (older) page starts; undefined when the stream has no older entries. */
  readonly next: string | undefined;
}

/**
 * One page of dead letters, newest first: at most `limit`, of `edge` only when given, older than
 * `cursor` (a stream id from an earlier page's `next`) when given.
 */
export async function pageDeadLetters(
  bus: Bus,
  options: { readonly limit: number; readonly edge?: string; readonly cursor?: string },
): Promise<DeadLetterPage> {
  const { limit, edge, cursor } = options;
  // Nothing is older than 0-0 (and Redis refuses an interval that ends before it).
  if (cursor !== undefined && /^0+-0+$/.test(cursor)) return { letters: [], next: undefined };
  const address = edge === undefined ? undefined : `edge/${edge}`;
  const letters: DeadLetter[] = [];
  let end = cursor === undefined ? '+' : `(${cursor}`;
  let scanned = 0;
  while (scanned < DEAD_LETTER_SCAN) {
    const count = address === undefined ? limit - letters.length : Math.min(500, DEAD_LETTER_SCAN - scanned);
    const rows = (await bus.redis.xrevrange(bus.keyspace.deadLetters, end, '-', 'COUNT', count)) as [
      string,
      string[],
    ][];
    for (const row of rows) {
      scanned++;
      end = `(${row[0]}`;
      const letter = toLetter(row);
      if (address === undefined || letter.address === address) letters.push(letter);
      if (letters.length === limit) return { letters, next: row[0] };
    }
    if (rows.length < count) return { letters, next: undefined };
  }
  return { letters, next: end.slice(1) };
}

/** Device messages the links dead-lettered for `edge` (stored or only counted). */
export async function deadLetterCount(bus: Bus, edge: string): Promise<number> {
  return Number((await bus.redis.zscore(bus.keyspace.deadLetterEdges, edge)) ?? 0);
}

/** The `n` edges with the most dead letters, most first (`-`: messages that named no edge of the fleet). */
export async function topDeadLetterEdges(bus: Bus, n: number): Promise<{ edge: string; count: number }[]> {
  const flat = await bus.redis.zrevrange(bus.keyspace.deadLetterEdges, 0, n - 1, 'WITHSCORES');
  const top: { edge: string; count: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) top.push({ edge: flat[i]!, count: Number(flat[i + 1]) });
  return top;
}

/** Device dead letters per code, and `unstored`: counted over an edge's budget, not stored. */
export async function deadLetterTotals(bus: Bus): Promise<Record<string, number>> {
  const raw = await bus.redis.hgetall(bus.keyspace.deadLetterTotals);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/** Edges (and `-`) with at least one device dead letter. */
export async function deadLetterEdgeCount(bus: Bus): Promise<number> {
  return await bus.redis.zcard(bus.keyspace.deadLetterEdges);
}
