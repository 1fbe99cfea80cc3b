/**
 * A hub node's placement: every tick it heartbeats into the membership, renews the leases it
 * holds (dropping those it lost), hands off the shards the ring no longer gives it (after the
 * turn in flight commits: checkpoint, release) and takes the leases of the shards it gives it,
 * claiming the pending entries a dead or fenced owner left.
 */
import type { Bus, Granted } from '../../bus/mod.ts';
import type { Logger } from '../logger.ts';
import { HashRing } from '../ring.ts';
import { checkpointShards, type TurnOptions } from '../turn/mod.ts';
import type { HeldShards, Owned } from './held-shards.ts';
import type { TurnLoop } from './turn-loop.ts';

export interface PlacementOptions {
  readonly bus: Bus;
  readonly nodeId: string;
  readonly log: Logger;
  readonly leaseMs: number;
  readonly held: HeldShards;
  readonly loop: TurnLoop;
  readonly turn: TurnOptions;
  /** The node's stop: no hand-off or acquisition once it is aborted. */
  readonly signal: AbortSignal;
  readonly onAcquired?: (granted: readonly Granted[]) => void;
}

export class Placement {
  readonly #o: PlacementOptions;
  #members: readonly string[] = [];
  readonly #desiredShards: (nodes: readonly string[]) => Set<number>;
  #running: Promise<void> | undefined;

  constructor(options: PlacementOptions) {
    this.#o = options;
    this.#desiredShards = desiredShards(options.nodeId, options.bus.keyspace.shards);
  }

  /** The live members at the last heartbeat. */
  get members(): readonly string[] {
    return this.#members;
  }

  /** The round in progress, if any (a stop waits for it). */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  /** One placement round; does nothing while the previous one still runs. */
  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = this.#round().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
  }

  async #round(): Promise<void> {
    const { bus, nodeId, leaseMs, signal } = this.#o;
    const view = await bus.heartbeat(nodeId, leaseMs);
    this.#members = view.nodes;
    await renewHeld(this.#o);
    if (signal.aborted) return;
    const desired = this.#desiredShards(view.nodes);
    await this.#handOff(desired);
    await this.#acquire(desired);
  }

  /** Hands off the held shards the ring no longer gives this node. */
  async #handOff(desired: ReadonlySet<number>): Promise<void> {
    const { bus, nodeId, held, log } = this.#o;
    const toRelease: Owned[] = held.all().filter((o) => !desired.has(o.shard) && !o.releasing);
    if (toRelease.length === 0) return;
    held.release(toRelease);
    await this.#o.loop.inFlight; // the turn in flight may hold entries of these shards: let it commit
    await checkpointShards(this.#o.turn, toRelease);
    await bus.releaseLeases({ node: nodeId, held: toRelease });
    for (const o of toRelease) held.drop(o.shard);
    log.info({ shards: toRelease.length }, 'shards handed off');
  }

  async #acquire(desired: ReadonlySet<number>): Promise<void> {
    const { bus, nodeId, leaseMs, held, log, signal } = this.#o;
    const toAcquire = [...desired].filter((s) => held.get(s) === undefined);
    if (toAcquire.length === 0 || signal.aborted) return;
    const granted = await bus.acquireLeases({ node: nodeId, shards: toAcquire, ttlMs: leaseMs });
    // Entries a dead or fenced owner read but never committed become ours; we read our
    // pending entries first, so the actors' order is kept across the move.
    await Promise.all(granted.map((g) => bus.claimPending(g.shard, nodeId)));
    for (const g of granted) held.take(g.shard, g.epoch);
    this.#o.onAcquired?.(granted);
    const takenOver = granted.filter((g) => g.previous !== '').length;
    if (granted.length > 0) log.info({ shards: granted.length, takenOver }, 'shards acquired');
    this.#o.loop.wake();
  }
}

/** The shards the ring of the given live members gives `nodeId`, recomputed when they change. */
function desiredShards(nodeId: string, shards: number): (nodes: readonly string[]) => Set<number> {
  let ring: { key: string; shards: Set<number> } | undefined;
  return (nodes) => {
    const key = nodes.join(',');
    if (ring?.key !== key) ring = { key, shards: new Set(new HashRing(nodes).shardsOf(nodeId, shards)) };
    return ring.shards;
  };
}

/** Renews the held leases; drops the shards whose lease was lost (unless taken again meanwhile). */
async function renewHeld(o: PlacementOptions): Promise<void> {
  const { bus, nodeId, leaseMs, held, log } = o;
  const before = held.all();
  const lost = await bus.renewLeases({ node: nodeId, held: before, ttlMs: leaseMs });
  for (const shard of lost) {
    const owned = held.get(shard);
    if (owned !== undefined && before.some((h) => h.shard === shard && h.epoch === owned.epoch)) {
      log.warn({ shard, epoch: owned.epoch }, 'lease lost; dropping the shard');
      held.drop(shard);
    }
  }
}
