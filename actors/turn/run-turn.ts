/**
 * One turn of a hub node: read what is waiting in the node's shards, apply it to the actors one
 * message at a time per actor in mailbox order, and commit states, acknowledgements, timers and
 * outbox events atomically per hash-tag group, fenced by each shard's lease epoch.
 *
 * Nothing is acknowledged before the state that reflects it is committed; an entry already
 * reflected in an actor's state (its id ≤ the state's last applied id) is skipped, so a
 * redelivery never applies a message twice.
 */
import { applyQueues } from './apply.ts';
import { TurnCommits, type TurnScope } from './commit.ts';
import { type ActorQueue, deliveryCounts, readEntries, sortEntries } from './read.ts';
import type { TurnOptions, TurnResult, TurnView } from './view.ts';

export async function runTurn(options: TurnOptions, view: TurnView, sweep = false): Promise<TurnResult> {
  const { actors } = options;
  // Read.
  const raw = await readEntries(options, view, sweep);
  const now = Date.now();
  const deliveries = await deliveryCounts(options, view, raw);
  const turn: TurnScope = { options, view, now, commits: new TurnCommits(options, view.byShard, now) };
  const { read, queues, careful, cursors } = sortEntries(turn, raw, deliveries);

  // Apply.
  const missing: ActorQueue[] = [];
  for (const queue of queues.values()) if (actors.get(queue.address) === undefined) missing.push(queue);
  await actors.activate(missing, now);
  const { handled, duplicatesSkipped } = await applyQueues(turn, { read, queues, careful, cursors });

  // Commit: what had effects, what was dead-lettered, and the actors due for their checkpoint.
  const { commits } = turn;
  for (const slot of actors.due(now - options.checkpointMs)) {
    if (view.byShard.has(slot.shard)) commits.of(slot.shard).flush.add(slot);
  }
  await commits.commitAll();
  for (const shard of view.shards) {
    if (shard.from !== '>' && !cursors.has(shard.shard)) cursors.set(shard.shard, '>');
  }
  const { deadLettered, fenced } = commits;
  return { read, handled, deadLettered, duplicatesSkipped, cursors, fenced: [...fenced] };
}
