/**
 * The read step of a turn: what is waiting in the node's shards (the ready ones, or all of them
 * on a sweep, and the history of shards replaying their pending entries), how often recovered
 * entries were delivered already, and the entries sorted into one queue per actor in stream
 * order. A malformed entry, or one for an actor type this cluster does not know, is
 * dead-lettered here.
 */
import {
  ConnectionDroppedError,
  type MailboxEntry,
  type RawShardEntries,
  rawField,
  tryDecode,
  unlessDropped,
} from '../../bus/mod.ts';
import type { ActorDefinition } from '../define.ts';
import { letterOf, type TurnScope } from './commit.ts';
import type { TurnOptions, TurnView } from './view.ts';

/**
 * An entry delivered this many times came back after nodes died with it pending (once is a
 * normal takeover): it is handled alone, with its attempts counted in Redis, and dead-lettered
 * if a node dies handling it once more.
 */
export const CAREFUL_AFTER_DELIVERIES = 3;

/** One actor's entries of this turn, in stream order. */
export interface ActorQueue {
  readonly address: string;
  readonly shard: number;
  readonly definition: ActorDefinition;
  readonly entries: MailboxEntry[];
}

export interface SortedEntries {
  /** Entries read (handled, skipped as duplicates or dead-lettered). */
  readonly read: number;
  readonly queues: Map<string, ActorQueue>;
  /** Entries that came back after nodes died with them pending, by id: their delivery count. */
  readonly careful: Map<string, number>;
  /** New read position of the shards read from history. */
  readonly cursors: Map<number, string>;
}

/**
 * New entries: only the shards marked ready, unless this turn sweeps them all (which also finds
 * entries written without the ready signal). History: this node's pending entries after a takeover.
 */
export async function readEntries(
  options: TurnOptions,
  view: TurnView,
  sweep: boolean,
): Promise<RawShardEntries[]> {
  const { bus, nodeId: consumer, readCount: count } = options;
  const raw = await unlessDropped(bus.redis, () =>
    Promise.all([
      bus.readShards({ consumer, reads: sweep ? view.shards : view.history, count }),
      sweep ? [] : bus.readReady({ consumer, readable: view.fresh, count }),
    ]),
  );
  // A read whose reply was lost with the connection ran on the server all the same (its entries
  // are pending under our name) and ioredis sent it again, which read the next ones: applying
  // those would make the pending ones look like repeats (lower ids), skipped for good. The turn
  // fails instead, and the shards' pending entries are read again, in order.
  if (raw === undefined) {
    throw new ConnectionDroppedError(
      "Redis connection closed during the turn's read: reading the shards' pending entries again",
    );
  }
  const [raw1, raw2] = raw;
  return raw2.length === 0 ? raw1 : raw1.concat(raw2);
}

/**
 * Delivery counts (by `shard:id`) of the entries recovered from a node that died or was fenced:
 * an entry delivered too often is likely what killed it. Other entries are delivered once.
 */
export async function deliveryCounts(
  options: TurnOptions,
  view: TurnView,
  raw: readonly RawShardEntries[],
): Promise<Map<string, number>> {
  const { bus, nodeId, readCount } = options;
  const recovering = raw.filter((r) => view.byShard.get(r.shard)?.from !== '>');
  const deliveries = new Map<string, number>();
  // After a takeover hundreds of shards may replay at once: ask for their counts together.
  const counts = await Promise.all(
    recovering.map((r) =>
      bus.pendingDeliveries({
        shard: r.shard,
        consumer: nodeId,
        after: view.byShard.get(r.shard)!.from,
        count: readCount,
      }),
    ),
  );
  recovering.forEach((r, i) => {
    for (const [id, n] of counts[i]!) deliveries.set(`${r.shard}:${id}`, n);
  });
  return deliveries;
}

/** Decodes the entries and sorts them into one queue per actor; dead-letters what cannot be. */
export function sortEntries(
  turn: TurnScope,
  raw: readonly RawShardEntries[],
  deliveries: ReadonlyMap<string, number>,
): SortedEntries {
  const { options, view, commits } = turn;
  const { nodeId, definitions } = options;
  const queues = new Map<string, ActorQueue>();
  const cursors = new Map<number, string>();
  const careful = new Map<string, number>();
  let read = 0;
  for (const { shard, entries } of raw) {
    commits.of(shard);
    if (view.byShard.get(shard)!.from !== '>') cursors.set(shard, entries[entries.length - 1]!.id);
    for (const raw of entries) {
      read++;
      const decoded = tryDecode(raw);
      if (!decoded.ok) {
        const { id, fields } = decoded;
        commits.deadLetter({
          entryId: id,
          shard,
          address: rawField(fields, 'a'),
          method: rawField(fields, 'm'),
          payload: rawField(fields, 'p'),
          reason: decoded.reason,
          node: nodeId,
        });
        continue;
      }
      const entry = decoded.entry;
      // Most turns recover nothing: no key string per entry then.
      const delivered = deliveries.size === 0 ? 1 : (deliveries.get(`${shard}:${entry.id}`) ?? 1);
      const type = entry.address.slice(0, entry.address.indexOf('/'));
      const definition = definitions.get(type);
      if (definition === undefined) {
        commits.deadLetter(
          letterOf({
            entry,
            shard,
            reason: `no actor type "${type}" is registered on this cluster`,
            node: nodeId,
          }),
        );
        continue;
      }
      if (delivered >= CAREFUL_AFTER_DELIVERIES) careful.set(entry.id, delivered);
      const queue = queues.get(entry.address);
      if (queue) queue.entries.push(entry);
      else queues.set(entry.address, { address: entry.address, shard, definition, entries: [entry] });
    }
  }
  return { read, queues, careful, cursors };
}
