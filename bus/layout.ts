/**
 * The cluster layout (number of shards and hash-tag groups) is fixed at the first start and
 * stored in Redis; a process configured differently refuses to run rather than read and write
 * keys nobody else uses.
 */
import type { Bus } from './bus.ts';
import { LayoutMismatchError } from './errors.ts';

/** Stores the layout at the first start; throws LayoutMismatchError when the stored one differs. */
export async function ensureLayout(bus: Bus): Promise<void> {
  const { redis, keyspace } = bus;
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
