/**
 * The actors active on one node: their state in memory, loaded on first message (activation),
 * dropped after an idle time (passivation) or when their shard leaves the node.
 *
 * Checkpoints: an actor's state is written to Redis at most every `checkpointMs`, or at once when
 * a message produced effects (timers, outbox events). Until then the entries applied since the
 * last checkpoint stay pending in the consumer group; if the node dies, the next owner replays
 * them onto the checkpoint, so nothing is lost or applied twice. The table keeps the dirty
 * actors in the order they became dirty, so finding the ones due costs nothing per clean actor.
 */
import { type Bus, execOrThrow } from '../bus/mod.ts';
import type { ActorDefinition } from './define.ts';
import type { Logger } from './logger.ts';

/** A commit that checkpointed an actor: up to entry `id`, acknowledging its first `acked` entries, at `now`. */
export interface Checkpoint {
  readonly slot: ActorSlot;
  /** The last entry the checkpoint covers. */
  readonly id: string;
  /** How many of the slot's unacknowledged entries the commit acknowledged. */
  readonly acked: number;
  /** When the commit landed (ms). */
  readonly now: number;
}

export interface ActorSlot {
  readonly address: string;
  readonly id: string;
  readonly definition: ActorDefinition;
  readonly shard: number;
  state: unknown;
  /** Id of the last mailbox entry applied to `state` ('0-0' before the first). */
  lastId: string;
  /** Id of the last entry reflected in the state persisted in Redis. */
  checkpointId: string;
  /** Entries applied since the checkpoint: acknowledged when the next checkpoint commits. */
  unacked: string[];
  /** When the state first changed after the last checkpoint (0: clean). */
  dirtySince: number;
  lastActive: number;
}

export class ActorTable {
  readonly #slots = new Map<string, ActorSlot>();
  readonly #byShard = new Map<number, Set<string>>();
  /** Dirty actors in the order they became dirty, from #dirtyHead on (entries before it are done). */
  #dirty: { slot: ActorSlot; since: number }[] = [];
  #dirtyHead = 0;
  readonly #bus: Bus;
  readonly #log: Logger;

  constructor(bus: Bus, log: Logger) {
    this.#bus = bus;
    this.#log = log;
  }

  get size(): number {
    return this.#slots.size;
  }

  get(address: string): ActorSlot | undefined {
    return this.#slots.get(address);
  }

  /** Activates the given actors (not yet in memory) from their persisted state, in one round trip. */
  async activate(
    wanted: readonly { address: string; shard: number; definition: ActorDefinition }[],
    now: number,
  ): Promise<void> {
    if (wanted.length === 0) return;
    const byShard = new Map<number, (typeof wanted)[number][]>();
    for (const w of wanted) {
      const list = byShard.get(w.shard);
      if (list) list.push(w);
      else byShard.set(w.shard, [w]);
    }
    const pipeline = this.#bus.pipeline();
    const order = [...byShard.entries()];
    for (const [shard, list] of order) {
      pipeline.hmget(this.#bus.keyspace.shard(shard).state, ...list.map((w) => w.address));
    }
    const results = await execOrThrow(pipeline);
    order.forEach(([shard, list], i) => {
      const values = results[i];
      list.forEach((w, j) => {
        const raw = (values as (string | null)[])[j] ?? null;
        const id = w.address.slice(w.address.indexOf('/') + 1);
        let state: unknown = w.definition.initialState(id);
        let lastId = '0-0';
        if (raw !== null) {
          try {
            const parsed = JSON.parse(raw) as { id: string; s: unknown };
            state = parsed.s;
            lastId = parsed.id;
          } catch (cause) {
            this.#log.error(
              { address: w.address, shard, err: cause },
              'persisted actor state is not JSON; starting fresh',
            );
          }
        }
        this.#add({
          address: w.address,
          id,
          definition: w.definition,
          shard,
          state,
          lastId,
          checkpointId: lastId,
          unacked: [],
          dirtySince: 0,
          lastActive: now,
        });
      });
    });
  }

  #add(slot: ActorSlot): void {
    this.#slots.set(slot.address, slot);
    const set = this.#byShard.get(slot.shard);
    if (set) set.add(slot.address);
    else this.#byShard.set(slot.shard, new Set([slot.address]));
  }

  /** Forgets every actor of a shard (it moved away or its lease was lost). */
  dropShard(shard: number): number {
    const set = this.#byShard.get(shard);
    if (set === undefined) return 0;
    for (const address of set) this.#slots.delete(address);
    this.#byShard.delete(shard);
    return set.size;
  }

  /** Passivates actors idle since before `cutoff`; their state is already persisted. */
  /** Records that `slot` applied entry `id` (not yet checkpointed). */
  applied(slot: ActorSlot, id: string, now: number): void {
    slot.lastId = id;
    slot.unacked.push(id);
    if (slot.dirtySince === 0) {
      slot.dirtySince = now;
      this.#dirty.push({ slot, since: now });
    }
  }

  /** Marks a slot checkpointed up to its last applied entry. */
  checkpointed(checkpoint: Checkpoint): void {
    const { slot, id, acked, now } = checkpoint;
    slot.checkpointId = id;
    slot.unacked.splice(0, acked);
    slot.dirtySince = 0;
    if (slot.unacked.length > 0) {
      slot.dirtySince = now;
      this.#dirty.push({ slot, since: now });
    }
  }

  /**
   * Dirty actors whose checkpoint is due (dirty since before `cutoff`), still in this table. Runs
   * every turn: the list is consumed from a head index and compacted only once most of it is
   * done. Copying the rest of it every turn (100,000 dirty actors, 500 due a turn) cost ~1.2 ms a
   * turn and an 800 KB array each time, which only a major GC frees.
   */
  due(cutoff: number): ActorSlot[] {
    const out: ActorSlot[] = [];
    const list = this.#dirty;
    let i = this.#dirtyHead;
    for (; i < list.length; i++) {
      const { slot, since } = list[i]!;
      if (since >= cutoff) break;
      if (slot.dirtySince === since && this.#slots.get(slot.address) === slot) out.push(slot);
    }
    if (i === list.length) {
      this.#dirty = [];
      this.#dirtyHead = 0;
    } else if (i > 1024 && i * 2 > list.length) {
      this.#dirty = list.slice(i);
      this.#dirtyHead = 0;
    } else this.#dirtyHead = i;
    return out;
  }

  /** The dirty actors of some shards (to checkpoint before handing the shards off). */
  dirtyOf(shards: ReadonlySet<number>): ActorSlot[] {
    const out: ActorSlot[] = [];
    for (const shard of shards) {
      for (const address of this.#byShard.get(shard) ?? []) {
        const slot = this.#slots.get(address)!;
        if (slot.dirtySince !== 0) out.push(slot);
      }
    }
    return out;
  }

  passivate(cutoff: number): number {
    let dropped = 0;
    for (const slot of this.#slots.values()) {
      if (slot.lastActive < cutoff && slot.dirtySince === 0) {
        this.#slots.delete(slot.address);
        this.#byShard.get(slot.shard)?.delete(slot.address);
        dropped++;
      }
    }
    return dropped;
  }
}
