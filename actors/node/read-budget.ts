/**
 * Bounded turns: how many entries a turn reads per shard, so that a turn fits well inside the
 * lease of the shards it holds. A turn's handlers run synchronously; one that reads 100 entries
 * from each of hundreds of backlogged shards can run for seconds, during which the node's lease
 * renewals cannot run, its leases expire, its commit is refused and the same work is read again
 * — by it or by the node that took the shards over, which is just as far behind (seen at 5,000
 * edges on a loaded 2-core machine). So a turn that ran past its budget makes the next one read
 * proportionally fewer entries per shard (at least 1), and a turn that ran under half of it
 * doubles that again, up to the node's `readCount`. Entries left unread stay in the mailbox and
 * their shard stays ready (read-ready.lua): nothing is lost or reordered, only spread over turns.
 */

/** The next turn's entries per shard, after one that read `count` per shard and took `elapsedMs`. */
export function nextReadCount(count: number, elapsedMs: number, budgetMs: number, max: number): number {
  if (elapsedMs > budgetMs) return Math.max(1, Math.floor((count * budgetMs) / elapsedMs));
  if (elapsedMs < budgetMs / 2 && count < max) return Math.min(max, count * 2);
  return count;
}
