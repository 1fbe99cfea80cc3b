/**
 * The actors active on one node: their state in memory, loaded on first message (activation),
 * dropped after an idle time (passivation) or when their shard leaves the node.
 */
import type { Keyspace, Redis } from '../bus/mod.ts';
import type { ActorDefinition } from './define.ts';
import type { Logger } from './logger.ts';

export interface ActorSlot {
  readonly address: string;
  readonly id: string;
  readonly definition: ActorDefinition;
  readonly shard: number;
  state: unknown;
  /** Id of the last mailbox entry applied to `state` ('0-0' before the first). */
  lastId: string;
  lastActive: number;
}

export class ActorTable {
  readonly #slots = new Map<string, ActorSlot>();
  readonly #byShard = new Map<number, Set<string>>();
  readonly #keyspace: Keyspace;
  readonly #log: Logger;

  constructor(keyspace: Keyspace, log: Logger) {
    this.#keyspace = keyspace;
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
    redis: Redis,
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
    const pipeline = redis.pipeline();
    const order = [...byShard.entries()];
    for (const [shard, list] of order) {
      pipeline.hmget(this.#keyspace.shard(shard).state, ...list.map((w) => w.address));
    }
    const results = (await pipeline.exec()) ?? [];
    order.forEach(([shard, list], i) => {
      const [error, values] = results[i]!;
      if (error) throw error;
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
  passivate(cutoff: number): number {
    let dropped = 0;
    for (const slot of this.#slots.values()) {
      if (slot.lastActive < cutoff) {
        this.#slots.delete(slot.address);
        this.#byShard.get(slot.shard)?.delete(slot.address);
        dropped++;
      }
    }
    return dropped;
  }
}
