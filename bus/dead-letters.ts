/**
 * The dead-letter stream: messages no actor could take, each with the reason, the node that
 * gave up and the original fields. Bounded (approximately) to the newest `MAX_DEAD_LETTERS`.
 */
import type { ChainableCommander } from 'ioredis';
import type { Keyspace } from './keys.ts';
import type { Redis } from './redis.ts';

export const MAX_DEAD_LETTERS = 100_000;

export interface DeadLetter {
  readonly id: string;
  /** Id of the original mailbox entry. */
  readonly entryId: string;
  readonly shard: number;
  readonly address: string;
  readonly method: string;
  readonly payload: string;
  readonly reason: string;
  readonly node: string;
  readonly at: number;
}

export interface DeadLetterInput {
  readonly entryId: string;
  readonly shard: number;
  readonly address?: string;
  readonly method?: string;
  readonly payload?: string;
  readonly reason: string;
  readonly node: string;
}

export function queueDeadLetter(
  pipeline: ChainableCommander,
  keyspace: Keyspace,
  letter: DeadLetterInput,
): void {
  pipeline.xadd(
    keyspace.deadLetters,
    'MAXLEN',
    '~',
    MAX_DEAD_LETTERS,
    '*',
    'entry',
    letter.entryId,
    'shard',
    String(letter.shard),
    'a',
    letter.address ?? '',
    'm',
    letter.method ?? '',
    'p',
    letter.payload ?? '',
    'reason',
    letter.reason,
    'node',
    letter.node,
    'at',
    String(Date.now()),
  );
}

/** The newest dead letters first. */
export async function readDeadLetters(redis: Redis, keyspace: Keyspace, count = 100): Promise<DeadLetter[]> {
  const rows = (await redis.xrevrange(keyspace.deadLetters, '+', '-', 'COUNT', count)) as [
    string,
    string[],
  ][];
  return rows.map(([id, fields]) => {
    const f = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
    return {
      id,
      entryId: f.get('entry') ?? '',
      shard: Number(f.get('shard')),
      address: f.get('a') ?? '',
      method: f.get('m') ?? '',
      payload: f.get('p') ?? '',
      reason: f.get('reason') ?? '',
      node: f.get('node') ?? '',
      at: Number(f.get('at')),
    };
  });
}
