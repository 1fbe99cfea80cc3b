/**
 * A hub node's graceful stop: let the turn in flight and the placement round finish, checkpoint
 * every held shard, release the leases and leave the membership — within `stopTimeoutMs`. What
 * it could not hand off by then (e.g. Redis is gone) is logged and returned: those shards move
 * when their leases expire.
 */
import { type Bus, toError } from '../../bus/mod.ts';
import type { Logger } from '../logger.ts';
import { checkpointShards, type TurnOptions } from '../turn/mod.ts';
import type { HeldShards } from './held-shards.ts';
import type { Placement } from './placement.ts';
import type { TurnLoop } from './turn-loop.ts';
import type { Upkeep } from './upkeep.ts';

/** What a graceful stop did: the shards it handed back, and those it could not. */
export interface HubNodeStopped {
  readonly released: number;
  /** Shards whose leases were not released (they move when the leases expire); empty when all were. */
  readonly stillHeld: readonly number[];
}

export interface HandOffParts {
  readonly bus: Bus;
  readonly nodeId: string;
  readonly log: Logger;
  readonly held: HeldShards;
  readonly loop: TurnLoop;
  readonly placement: Placement;
  readonly upkeep: Upkeep;
  readonly turn: TurnOptions;
  readonly stopTimeoutMs: number;
}

/** Hands every shard off (the node's stop signal already aborted); never throws. */
export async function handOff(parts: HandOffParts): Promise<HubNodeStopped> {
  const { bus, nodeId, log, held, loop, placement, upkeep, stopTimeoutMs } = parts;
  upkeep.cancel();
  loop.wake();
  const shards = held.all();
  let step = 'finishing the turn in flight';
  const run = async () => {
    await loop.done;
    await placement.running;
    step = 'checkpointing';
    await checkpointShards(parts.turn, shards);
    step = 'releasing leases';
    await bus.releaseLeases({ node: nodeId, held: shards });
    step = 'leaving';
    await bus.leave(nodeId);
    await upkeep.publishStats();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    run().then(
      () => undefined,
      (error: unknown) => toError(error),
    ),
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
    }),
  ]);
  clearTimeout(timer);
  held.clear();
  if (outcome === undefined) {
    log.info({ released: shards.length }, 'hub node stopped');
    return { released: shards.length, stillHeld: [] };
  }
  // Before the release, every shard is still held; after it (only `leave` failed), none is.
  const released = step === 'leaving';
  const stillHeld = released ? [] : shards.map((o) => o.shard).sort((a, b) => a - b);
  log.warn(
    {
      ...(outcome === 'timeout' ? { timeoutMs: stopTimeoutMs } : { err: outcome }),
      step,
      shardsStillHeld: stillHeld.length,
      shards: stillHeld,
    },
    `hub node stopped without handing off ${stillHeld.length} shard(s) (${outcome === 'timeout' ? `still ${step} after ${stopTimeoutMs} ms` : `failed while ${step}`}); they move to other nodes when the leases expire`,
  );
  return { released: released ? shards.length : 0, stillHeld };
}
