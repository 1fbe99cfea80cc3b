/**
 * The cluster layout (number of shards and hash-tag groups) is fixed at the first start and
 * stored in Redis; a process configured differently refuses to run rather than read and write
 * keys nobody else uses.
 */
import { LayoutMismatchError } from './errors.ts';
import type { Keyspace } from './keys.ts';
import type { Redis } from './redis.ts';

export async function ensureLayout(redis: Redis, keyspace: Keyspace): Promise<void> {
  await redis.hsetnx(keyspace.layout, 'shards', keyspace.shards);
  await redis.hsetnx(keyspace.layout, 'tagGroups', keyspace.tagGroups);
  const [shards, tagGroups] = await redis.hmget(keyspace.layout, 'shards', 'tagGroups');
  if (Number(shards) !== keyspace.shards || Number(tagGroups) !== keyspace.tagGroups) {
    throw new LayoutMismatchError(
      `Cannot join cluster "${keyspace.prefix}": it was created with shards=${shards} tagGroups=${tagGroups}, ` +
        `this process has shards=${keyspace.shards} tagGroups=${keyspace.tagGroups}`,
    );
  }
}
