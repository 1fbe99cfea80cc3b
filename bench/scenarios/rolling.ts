/**
 * `rolling`: under the legacy load, every one of 3 hub nodes is restarted in turn (SIGTERM, its
 * shards handed off, started again under the same id), then the cluster is scaled 3 → 5 → 2.
 *
 * - movedFractions: for each membership change, the share of edges whose node changed (the
 *   consistent-hash ideal: 1/3 for a node of 3 leaving or coming back, 2/5 for 3 → 5, 3/5 for
 *   5 → 2).
 * - maxPauseMs: the longest any message waited between its enqueue and its handling, over the
 *   whole run: an actor paused by a hand-off shows here as the wait of its next message.
 * - lost, duplicated: from the per-edge sequence numbers, once everything drained.
 */
import { HashRing, readLeases } from '../../actors/mod.ts';
import { liveMembers } from '../../bus/mod.ts';
import { edgeId, reconcile, startBenchCluster } from '../cluster.ts';
import type { Target } from '../report.ts';
import { drain, type ScenarioOptions, type ScenarioResult, sleep, startLoad } from './common.ts';

type LeaseInfo = Awaited<ReturnType<typeof readLeases>>[number];

export async function rollingScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster();
  const { keyspace } = cluster;
  const initial = ['node-1', 'node-2', 'node-3'];
  for (const id of initial) await cluster.startNode(id);
  // Every step waits for the ring to settle and then a little (8 membership changes); the load
  // runs until they are done and `seconds` more (it is stopped then, the bound is only a guard).
  const startedAt = Date.now();
  const pauseMs = Math.min(2_000, o.seconds * 500);
  const { load, monitor } = await startLoad(cluster, 'rolling', {
    edges: o.edges,
    seconds: 3600,
    warmupMs: Math.min(5_000, o.seconds * 1000),
  });

  // The longest wait of any message: the nodes publish a cumulative max each second.
  const maxWait = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      for (const s of await cluster.stats().catch(() => [])) {
        const key = `${s.node}:${s.pid}`;
        maxWait.set(key, Math.max(maxWait.get(key) ?? 0, s.latencyMs.max));
      }
      await sleep(200);
    }
  })();

  const shardOfEdge = Array.from({ length: o.edges }, (_, i) => keyspace.shardOf(`edge/${edgeId(i)}`));
  const settled = async (members: readonly string[]): Promise<LeaseInfo[]> => {
    const ring = new HashRing([...members]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const live = await liveMembers(cluster.bus);
      const leases = await readLeases(cluster.bus);
      if (
        live.join() === [...members].sort().join() &&
        leases.every((l) => l.node === ring.ownerOf(l.shard) && l.until > Date.now())
      ) {
        return leases;
      }
      if (Date.now() > deadline)
        throw new Error(`the ring did not settle on ${members.join(', ')} within 30 s`);
      await sleep(50);
    }
  };
  const movedFraction = (before: LeaseInfo[], after: LeaseInfo[]) =>
    Number((shardOfEdge.filter((s) => before[s]!.node !== after[s]!.node).length / o.edges).toFixed(4));

  const steps: { step: string; movedFraction: number; ideal: number; settleMs: number }[] = [];
  let members = [...initial];
  let leases = await settled(members);
  const change = async (step: string, ideal: number, next: string[], act: () => Promise<void>) => {
    const at = Date.now();
    await act();
    const after = await settled(next);
    steps.push({ step, movedFraction: movedFraction(leases, after), ideal, settleMs: Date.now() - at });
    process.stderr.write(
      `rolling: ${step}: moved ${steps.at(-1)!.movedFraction} in ${steps.at(-1)!.settleMs} ms\n`,
    );
    leases = after;
    members = next;
    await sleep(pauseMs);
  };

  for (const id of initial) {
    const rest = members.filter((m) => m !== id);
    await change(`${id} stopped`, 1 / 3, rest, () => cluster.nodes.get(id)!.stop());
    await change(`${id} started`, 1 / 3, [...rest, id], async () => {
      await cluster.startNode(id);
    });
  }
  await change('3 → 5 nodes', 2 / 5, [...members, 'node-4', 'node-5'], async () => {
    await Promise.all([cluster.startNode('node-4'), cluster.startNode('node-5')]);
  });
  const leaving = ['node-1', 'node-3', 'node-5'];
  await change(
    '5 → 2 nodes',
    3 / 5,
    members.filter((m) => !leaving.includes(m)),
    async () => {
      await Promise.all(leaving.map((id) => cluster.nodes.get(id)!.stop()));
    },
  );

  await sleep(o.seconds * 1000);
  load.stop();
  const { lastSeq, sent } = await load.done;
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  await drain(cluster, o.edges, sent);
  polling = false;
  await poller;
  monitor.stop();
  const { lost, duplicated } = reconcile(lastSeq, await cluster.edgeStates(o.edges));
  const maxPauseMs = Math.max(0, ...maxWait.values());
  const result = {
    scenario: 'rolling',
    edges: o.edges,
    seconds,
    sent,
    lost,
    duplicated,
    maxPauseMs,
    movedFractions: steps.map((s) => s.movedFraction),
    steps,
  };
  const targets: Target[] = [
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: duplicated, target: '0', met: duplicated === 0 },
    { metric: 'maxPauseMs', value: maxPauseMs, target: '< 2000', met: maxPauseMs < 2000 },
    ...steps.map((s) => ({
      metric: `moved: ${s.step}`,
      value: s.movedFraction,
      target: `${s.ideal.toFixed(2)} ± 0.07`,
      met: Math.abs(s.movedFraction - s.ideal) <= 0.07,
    })),
  ];
  return { result, targets, plot: monitor.plot() };
}
