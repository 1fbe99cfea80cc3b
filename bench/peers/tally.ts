/**
 * Lost, applied twice and out of order, from the edges' states as their system left them: every
 * acknowledged sequence number must be in its edge's delivery record (measure.ts), written in
 * the same atomic write as the state.
 */
import { type Bus, execOrThrow, openPipeline } from '../../bus/mod.ts';
import { type PeerState, runsCount, runsHas } from './measure.ts';
import { type PeerSystem, peerEdgeId, peerKeys } from './state-store.ts';

export interface Tally {
  /** Sequence numbers applied (each once). */
  readonly applied: number;
  /** Acknowledged by the system but in no state. */
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
}

/** What the producer says it had acknowledged: per edge the last number sent, and those that failed. */
export interface Acked {
  readonly lastSeq: readonly number[];
  readonly failed: Readonly<Record<string, readonly number[]>>;
}

/** Every edge's state in `system` (undefined: none written), by edge index. */
export async function readStates(
  bus: Bus,
  system: PeerSystem,
  edges: number,
): Promise<(PeerState | undefined)[]> {
  const pipeline = openPipeline(bus.redis);
  if (system === 'devicehub') {
    for (let s = 0; s < bus.keyspace.shards; s++) pipeline.hgetall(bus.keyspace.shard(s).state);
    const byAddress = new Map<string, PeerState>();
    for (const hash of await execOrThrow(pipeline))
      for (const [address, json] of Object.entries(hash as Record<string, string>))
        byAddress.set(address, (JSON.parse(json) as { s: PeerState }).s);
    return Array.from({ length: edges }, (_, i) => byAddress.get(peerKeys.address(peerEdgeId(i))));
  }
  for (let i = 0; i < edges; i++) pipeline.hget(peerKeys.state(system, peerEdgeId(i)), 's');
  return (await execOrThrow(pipeline)).map((s) =>
    s === null ? undefined : (JSON.parse(s as string) as PeerState),
  );
}

export function tally(states: readonly (PeerState | undefined)[], acked: Acked): Tally {
  let applied = 0;
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  acked.lastSeq.forEach((last, i) => {
    const d = states[i]?.d;
    const failed = new Set(acked.failed[i] ?? []);
    applied += d === undefined ? 0 : runsCount(d.runs);
    duplicated += d?.dup ?? 0;
    outOfOrder += d?.ooo ?? 0;
    for (let seq = 1; seq <= last; seq++)
      if (!failed.has(seq) && (d === undefined || !runsHas(d.runs, seq))) lost++;
  });
  return { applied, lost, duplicated, outOfOrder };
}
