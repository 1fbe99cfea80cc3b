/**
 * The shards a node holds (lease epoch, read position, whether it is being handed off) and the
 * turn view built from them, rebuilt after any change. Dropping a shard also forgets its
 * actors' in-memory state.
 */
import type { Keyspace } from '../../bus/mod.ts';
import type { ActorTable } from '../actor-table.ts';
import { type TurnView, turnView } from '../turn/mod.ts';

export interface Owned {
  readonly shard: number;
  readonly epoch: number;
  /** `>` for new entries, or the history cursor while replaying pending entries. */
  from: string;
  releasing: boolean;
}

export class HeldShards {
  readonly #owned = new Map<number, Owned>();
  readonly #keyspace: Keyspace;
  readonly #actors: ActorTable;
  /** What the next turn reads; rebuilt after any change of the held shards. */
  #view: TurnView | undefined;

  constructor(keyspace: Keyspace, actors: ActorTable) {
    this.#keyspace = keyspace;
    this.#actors = actors;
  }

  get size(): number {
    return this.#owned.size;
  }

  get(shard: number): Owned | undefined {
    return this.#owned.get(shard);
  }

  all(): Owned[] {
    return [...this.#owned.values()];
  }

  /** Held and not being handed off: what turns read and timers fire for. */
  readable(): Owned[] {
    return this.all().filter((o) => !o.releasing);
  }

  /** What the next turn reads (its shards are these Owned records). */
  view(): TurnView {
    this.#view ??= turnView(this.#keyspace, this.readable());
    return this.#view;
  }

  invalidate(): void {
    this.#view = undefined;
  }

  /** A granted lease: the shard's pending entries are read first, its actors loaded afresh. */
  take(shard: number, epoch: number): void {
    this.#actors.dropShard(shard);
    this.#owned.set(shard, { shard, epoch, from: '0', releasing: false });
    this.#view = undefined;
  }

  /** Turns stop reading these shards: they are being handed off. */
  release(list: readonly Owned[]): void {
    for (const o of list) o.releasing = true;
    this.#view = undefined;
  }

  drop(shard: number): void {
    this.#view = undefined;
    this.#owned.delete(shard);
    this.#actors.dropShard(shard);
  }

  /** A commit of `owned` was fenced: drop it, unless it was taken again (new epoch) meanwhile. */
  dropFenced(owned: Owned): void {
    this.#actors.dropShard(owned.shard);
    if (this.#owned.get(owned.shard) === owned) this.#owned.delete(owned.shard);
    this.#view = undefined;
  }

  /** A turn failed, nothing of it committed: forget what it touched and read the pending entries again. */
  replay(list: readonly Owned[]): void {
    for (const s of list) {
      this.#actors.dropShard(s.shard);
      s.from = '0';
    }
    this.#view = undefined;
  }

  clear(): void {
    this.#owned.clear();
  }
}
