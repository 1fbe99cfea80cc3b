/**
 * Waiting for replicas (Redis `WAIT`): what closes the window in which a master acknowledged a
 * write that its replicas did not have yet when it died (docs/decisions/013).
 *
 * `WAIT` counts the replicas that hold every write made so far *on the same connection*. On a
 * Redis Cluster each master has its own connection inside the client, so the wait goes to each
 * master that serves one of `keys`, on the very connection the writes took.
 */
import { ReplicasNotReachedError } from './errors.ts';
import { keySlot } from './hash.ts';
import { isCluster, type Redis } from './redis.ts';

export interface WaitForReplicas {
  /** The keys written: their masters are the ones waited on. */
  readonly keys: Iterable<string>;
  /** How many replicas of each master must hold the writes. */
  readonly replicas: number;
  readonly timeoutMs: number;
}

/**
 * Resolves once `replicas` replicas of every master serving `keys` hold this connection's
 * writes so far; throws ReplicasNotReachedError when fewer did within `timeoutMs`.
 */
export async function waitForReplicas(redis: Redis, options: WaitForReplicas): Promise<void> {
  const { keys, replicas, timeoutMs } = options;
  if (replicas <= 0) return;
  let reached: number[];
  if (!isCluster(redis)) {
    reached = [await redis.wait(replicas, timeoutMs)];
  } else {
    const masters = new Set<string>();
    for (const key of keys) {
      const node = redis.slots[keySlot(key)]?.[0];
      if (node !== undefined) masters.add(node);
    }
    const connections = redis.nodes('master');
    reached = await Promise.all(
      [...masters].map((key) => {
        const node = connections.find((c) => `${c.options.host}:${c.options.port}` === key);
        // A master the client does not know (yet) cannot have taken the writes: count 0.
        return node === undefined ? 0 : node.wait(replicas, timeoutMs);
      }),
    );
  }
  const least = Math.min(...reached);
  if (least < replicas) {
    throw new ReplicasNotReachedError(
      `Only ${least} of ${replicas} Redis replicas acknowledged the write within ${timeoutMs} ms`,
    );
  }
}
