/**
 * What a turn works with: the node's options for it, the shards it reads (prepared once per
 * ownership change) and what it reports back.
 */
import { type Bus, type Keyspace, shardMask } from '../../bus/mod.ts';
import type { ActorTable } from '../actor-table.ts';
import type { ActorDefinition } from '../define.ts';
import type { Histogram } from '../histogram.ts';
import type { Logger } from '../logger.ts';

export interface TurnShard {
  readonly shard: number;
  readonly epoch: number;
  /** `>` for new entries; otherwise a history cursor: this node's pending entries after it. */
  readonly from: string;
}

/** A message an actor handled (dead-lettered ones are not). */
export interface HandledMessage {
  readonly address: string;
  readonly shard: number;
  readonly entryId: string;
  /** The turn's clock when it was handled (ms since the epoch). */
  readonly handledAt: number;
}

export interface TurnOptions {
  readonly bus: Bus;
  readonly nodeId: string;
  readonly definitions: ReadonlyMap<string, ActorDefinition>;
  readonly actors: ActorTable;
  readonly log: Logger;
  readonly latencyMs: Histogram;
  readonly readCount: number;
  readonly maxAttempts: number;
  /** Longest time an actor's applied messages wait for their checkpoint. */
  readonly checkpointMs: number;
  /** Called after each handled message, inside the turn: keep it cheap (an injected observer). */
  readonly onHandled?: (message: HandledMessage) => void;
}

/** What a turn reads: the node's readable shards, prepared once per ownership change. */
export interface TurnView {
  readonly shards: readonly TurnShard[];
  readonly byShard: ReadonlyMap<number, TurnShard>;
  /** Shards replaying their pending entries. */
  readonly history: readonly TurnShard[];
  /** Shards reading new entries, as a mask for read-ready.lua, and their tag groups. */
  readonly fresh: { readonly mask: string; readonly groups: readonly number[] };
}

export function turnView(keyspace: Keyspace, shards: readonly TurnShard[]): TurnView {
  const fresh = new Set(shards.filter((s) => s.from === '>').map((s) => s.shard));
  return {
    shards,
    byShard: new Map(shards.map((s) => [s.shard, s])),
    history: shards.filter((s) => s.from !== '>'),
    fresh: {
      mask: shardMask(keyspace, fresh),
      groups: [...new Set([...fresh].map((s) => keyspace.groupOf(s)))],
    },
  };
}

export interface TurnResult {
  /** Entries read (handled, skipped as duplicates or dead-lettered). */
  readonly read: number;
  readonly handled: number;
  readonly deadLettered: number;
  readonly duplicatesSkipped: number;
  /** New read position of shards read from history (`>` once the history is exhausted). */
  readonly cursors: Map<number, string>;
  /** Shards whose commit was refused: the lease is gone, drop them. */
  readonly fenced: number[];
}
