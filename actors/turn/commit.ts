/**
 * The commit step of a turn: what each shard will write (checkpoints, acknowledgements, timers,
 * outbox events), the dead letters gathered so far, and the fenced commit itself — dead letters
 * first, confirmed, then one `commit.lua` call per hash-tag group in one pipeline. A shard whose lease
 * is gone (or has a new epoch) has its commit refused: it is reported as fenced.
 */
import type { DeadLetterInput, MailboxEntry, ShardCommit as ShardWrite } from '../../bus/mod.ts';
import type { ActorSlot } from '../actor-table.ts';
import type { TurnOptions, TurnShard, TurnView } from './view.ts';

/** A timer to set (due time and data, '' for none) or, as `null`, to cancel; keyed by its timer member. */
export type TimerChanges = Map<string, { due: number; data: string } | null>;

export interface ShardCommit {
  readonly shard: number;
  readonly epoch: number;
  /** Entries done with outside any checkpoint (dead-lettered, already persisted). */
  readonly acks: string[];
  /** Actors to checkpoint: state written, their pending entries acknowledged. */
  readonly flush: Set<ActorSlot>;
  readonly timers: TimerChanges;
  readonly outbox: string[];
  /** Published (latest-value) events: the group's live stream, not the outbox (bus/live.ts). */
  readonly published: string[];
}

function emptyCommit(shard: number, epoch: number): ShardCommit {
  return { shard, epoch, acks: [], flush: new Set(), timers: new Map(), outbox: [], published: [] };
}

/** The entry a dead letter is written for, the shard it was read from, why, and the node that refused it. */
export interface LetterOf {
  readonly entry: MailboxEntry;
  readonly shard: number;
  /** Why the entry could not be handled. */
  readonly reason: string;
  /** The hub node that dead-letters it. */
  readonly node: string;
}

/** A mailbox entry's dead letter. */
export function letterOf(letter: LetterOf): DeadLetterInput {
  const { entry, shard, reason, node } = letter;
  return {
    entryId: entry.id,
    shard,
    address: entry.address,
    method: entry.method,
    payload: JSON.stringify(entry.payload),
    reason,
    node,
  };
}

/** A turn in progress: its options, the shards it reads, its clock and what it will commit. */
export interface TurnScope {
  readonly options: TurnOptions;
  readonly view: TurnView;
  readonly now: number;
  readonly commits: TurnCommits;
}

/** What one turn writes, shard by shard, and the shards whose commit was refused. */
export class TurnCommits {
  /** Shards whose commit was refused: the lease is gone. */
  readonly fenced = new Set<number>();
  /** Dead letters written so far. */
  deadLettered = 0;
  readonly #byShard = new Map<number, ShardCommit>();
  readonly #deadLetters: DeadLetterInput[] = [];
  readonly #options: TurnOptions;
  readonly #shards: ReadonlyMap<number, TurnShard>;
  readonly #now: number;

  constructor(options: TurnOptions, shards: ReadonlyMap<number, TurnShard>, now: number) {
    this.#options = options;
    this.#shards = shards;
    this.#now = now;
  }

  /** The shard's pending commit (created on first use, with the epoch the turn holds it at). */
  of(shard: number): ShardCommit {
    let commit = this.#byShard.get(shard);
    if (commit === undefined) {
      commit = emptyCommit(shard, this.#shards.get(shard)!.epoch);
      this.#byShard.set(shard, commit);
    }
    return commit;
  }

  /** Dead-letters an entry: the letter is written with the next commit, which acknowledges it. */
  deadLetter(letter: DeadLetterInput): void {
    this.of(letter.shard).acks.push(letter.entryId);
    this.#deadLetters.push(letter);
  }

  /** Commits one shard at once (with the dead letters gathered so far), then empties its commit. */
  async commitShard(shard: number): Promise<void> {
    const commit = this.of(shard);
    await this.#commit(new Map([[shard, commit]]));
    commit.acks.length = 0;
    commit.flush.clear();
    commit.timers.clear();
    commit.outbox.length = 0;
    commit.published.length = 0;
  }

  /** Commits every shard that was not fenced during the turn. */
  async commitAll(): Promise<void> {
    for (const shard of this.fenced) this.#byShard.delete(shard);
    await this.#commit(this.#byShard);
  }

  /** Commits, with the dead letters gathered so far (each logged once, when written). */
  async #commit(list: Map<number, ShardCommit>): Promise<void> {
    const letters = this.#deadLetters.splice(0);
    const refused = await commitTurn(this.#options, list, { deadLetters: letters, now: this.#now });
    this.deadLettered += letters.length;
    for (const l of letters) {
      this.#options.log.warn(
        { shard: l.shard, address: l.address, entryId: l.entryId, reason: l.reason },
        'dead-lettered',
      );
    }
    for (const shard of refused) this.fenced.add(shard);
  }
}

/**
 * Checkpoints every dirty actor of the given shards (before they are handed off). Returns the
 * shards whose commit was refused.
 */
export async function checkpointShards(
  options: TurnOptions,
  shards: readonly TurnShard[],
): Promise<number[]> {
  const commits = new Map<number, ShardCommit>();
  const byShard = new Map(shards.map((s) => [s.shard, s]));
  for (const slot of options.actors.dirtyOf(new Set(byShard.keys()))) {
    let commit = commits.get(slot.shard);
    if (commit === undefined) {
      commit = emptyCommit(slot.shard, byShard.get(slot.shard)!.epoch);
      commits.set(slot.shard, commit);
    }
    commit.flush.add(slot);
  }
  return commitTurn(options, commits, { deadLetters: [], now: Date.now() });
}

/** Dead letters first (written and confirmed), then one fenced commit per hash-tag group, in one pipeline. */
async function commitTurn(
  options: TurnOptions,
  allCommits: Map<number, ShardCommit>,
  written: { readonly deadLetters: readonly DeadLetterInput[]; readonly now: number },
): Promise<number[]> {
  const { deadLetters, now } = written;
  // A shard with nothing to write is left out: its applied entries wait, pending, for their checkpoint.
  const commits = [...allCommits.values()].filter(
    (c) =>
      c.acks.length > 0 ||
      c.flush.size > 0 ||
      c.timers.size > 0 ||
      c.outbox.length > 0 ||
      c.published.length > 0,
  );
  if (commits.length === 0 && deadLetters.length === 0) return [];
  const { bus, nodeId } = options;
  if (deadLetters.length > 0) {
    // Written, and read back, before the commit that acknowledges their entries: in one pipeline
    // the commit would run even when a letter's XADD failed (another master on a Redis Cluster,
    // a full or broken stream), acknowledging an entry whose letter was never written. A failed
    // letter fails the turn instead and its entry is read again; a commit that fails after the
    // letters were written writes them again on the next try (at least once, never lost).
    const letterPipeline = bus.pipeline();
    const letters = deadLetters.map((letter) => bus.queueDeadLetter(letterPipeline, letter));
    const letterReplies = await bus.exec(letterPipeline);
    for (const letter of letters) letter.read(letterReplies);
  }
  if (commits.length === 0) return [];
  const pipeline = bus.pipeline();
  const flushed: Flushed[] = [];
  const commit = bus.queueCommit(pipeline, { node: nodeId, shards: commits.map((c) => writeOf(c, flushed)) });
  const replies = await bus.exec(pipeline);
  const fenced = new Set(commit.read(replies));
  for (const f of flushed)
    if (!fenced.has(f.slot.shard))
      options.actors.checkpointed({ slot: f.slot, id: f.id, acked: f.acked, now });
  return [...fenced];
}

/** An actor checkpointed by a commit: its last applied entry and how many entries it acknowledges. */
interface Flushed {
  readonly slot: ActorSlot;
  readonly id: string;
  readonly acked: number;
}

/** What a shard's commit writes, for commit.lua; the actors it checkpoints go to `flushed`. */
function writeOf(c: ShardCommit, flushed: Flushed[]): ShardWrite {
  const acks = [...c.acks];
  const states: { address: string; json: string }[] = [];
  for (const slot of c.flush) {
    states.push({ address: slot.address, json: JSON.stringify({ id: slot.lastId, s: slot.state }) });
    for (const id of slot.unacked) acks.push(id);
    flushed.push({ slot, id: slot.lastId, acked: slot.unacked.length });
  }
  const timers: ShardWrite['timers'][number][] = [];
  const cancels: string[] = [];
  for (const [member, timer] of c.timers) {
    if (timer === null) cancels.push(member);
    else timers.push({ member, due: timer.due, data: timer.data });
  }
  return {
    shard: c.shard,
    epoch: c.epoch,
    acks,
    states,
    timers,
    cancels,
    outbox: c.outbox,
    published: c.published,
  };
}
