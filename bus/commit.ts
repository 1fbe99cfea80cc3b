/**
 * A turn's commit (commit.lua): per hash-tag group, for each shard whose lease the node still
 * holds with its epoch, actor checkpoints, acknowledgements, timers, outbox events and published
 * (live) events written atomically; shards whose lease is gone are refused (fenced) and come back.
 */
import type { ChainableCommander } from 'ioredis';
import type { Bus } from './bus.ts';
import { CONSUMER_GROUP, groupByTag } from './keys.ts';
import { LIVE_RETENTION_MS } from './live.ts';
import { type Queued, queueOperation } from './queued.ts';
import { commitReply } from './replies.ts';
import { runScript } from './scripts.ts';

/** A durable timer to set: its member (keys.ts `timerMember`), due time and data. */
export interface TimerWrite {
  readonly member: string;
  /** Due time, ms (Redis clock). */
  readonly due: number;
  /**
   * JSON `{"name","data"}`, the timer message's payload; '' for a timer without data (the
   * payload is then `{"name"}`, from the member: nothing is kept in the timer data hash).
   */
  readonly data: string;
}

/** What one shard writes in a commit. */
export interface ShardCommit {
  readonly shard: number;
  /** The lease epoch the node holds: the fencing token. */
  readonly epoch: number;
  /** Mailbox entries to acknowledge. */
  readonly acks: readonly string[];
  /** Actor checkpoints: the address and its JSON `{"id": lastAppliedId, "s": state}`. */
  readonly states: readonly { readonly address: string; readonly json: string }[];
  readonly timers: readonly TimerWrite[];
  /** Timer members to cancel. */
  readonly cancels: readonly string[];
  /** Outbox events, JSON. */
  readonly outbox: readonly string[];
  /** Published (latest-value) events, JSON: one live entry for the group's commit (live.ts). */
  readonly published: readonly string[];
}

export interface Commit {
  readonly node: string;
  readonly shards: readonly ShardCommit[];
}

/** Queues one commit.lua call per tag group; reads the shards refused (fenced), empty when all committed. */
export function queueCommit(bus: Bus, pipeline: ChainableCommander, input: Commit): Queued<number[]> {
  const { keyspace } = bus;
  const order = [...groupByTag(keyspace, input.shards).entries()];
  return queueOperation(
    pipeline,
    (p) => {
      for (const [group, list] of order) {
        const keys: string[] = [];
        // States and outbox events, already JSON, go as arguments of their own: inside the
        // JSON below each would be escaped again here and unescaped again by the script.
        const documents: string[] = [];
        const payload = list.map((c) => {
          const k = keyspace.shard(c.shard);
          keys.push(k.lease, k.state, k.mailbox);
          for (const { address, json } of c.states) documents.push(address, json);
          for (const event of c.outbox) documents.push(event);
          for (const event of c.published) documents.push(event);
          const timers = c.timers.flatMap((t) => [t.member, String(t.due), t.data]);
          return {
            e: c.epoch,
            n: c.states.length,
            o: c.outbox.length,
            p: c.published.length,
            a: c.acks,
            t: timers,
            c: c.cancels,
          };
        });
        keys.push(
          keyspace.timers(group),
          keyspace.timerData(group),
          keyspace.outbox(group),
          keyspace.live(group),
          keyspace.liveSeq(group),
        );
        runScript(p, 'commit', keys, [
          input.node,
          CONSUMER_GROUP,
          LIVE_RETENTION_MS,
          JSON.stringify(payload),
          ...documents,
        ]);
      }
    },
    (replies) =>
      replies.flatMap((reply, i) =>
        commitReply(
          reply,
          order[i]![1].map((c) => c.shard),
        ),
      ),
  );
}
