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
import { type BenchCluster, edgeId, reconcile, startBenchCluster } from '../cluster.ts';
import type { Target } from '../report.ts';
import { drain, type ScenarioOptions, type ScenarioResult, sleep, startLoad } from './common.ts';

type LeaseInfo = Awaited<ReturnType<typeof readLeases>>[number];

type Step = { step: string; movedFraction: number; ideal: number; settleMs: number };

export async function rollingScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster();
  for (const id of INITIAL) await cluster.startNode(id);
  // Every step waits for the ring to settle and then a little (8 membership changes); the load
  // runs until they are done and `seconds` more (it is stopped then, the bound is only a guard).
  const startedAt = Date.now();
  const { load, monitor } = await startLoad(cluster, 'rolling', {
    edges: o.edges,
    seconds: 3600,
    warmupMs: Math.min(5_000, o.seconds * 1000),
  });
  const maxWait = watchMaxWait(cluster);
  const steps = await changeMembership(cluster, o);

  await sleep(o.seconds * 1000);
  load.stop();
  const { lastSeq, sent } = await load.done;
  const seconds = Math.round((Date.now() - startedAt) / 1000);
  await drain(cluster, { edges: o.edges, sent });
  const maxPauseMs = await maxWait.stop();
  monitor.stop();
  const { lost, duplicated } = reconcile(lastSeq, await cluster.edgeStates(o.edges));
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

const INITIAL = ['node-1', 'node-2', 'node-3'];

/**
 * The longest wait of any message: the nodes publish a cumulative max each second. `stop` ends
 * the watch and returns the longest over every node process.
 */
function watchMaxWait(cluster: BenchCluster) {
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
  return {
    async stop(): Promise<number> {
      polling = false;
      await poller;
      return Math.max(0, ...maxWait.values());
    },
  };
}

/** Waits until the live members are `members` and every lease is its ring owner's; the leases. */
async function settled(cluster: BenchCluster, members: readonly string[]): Promise<LeaseInfo[]> {
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
}

/** Each node restarted in turn, then 3 → 5 → 2 nodes: what moved at each change, and how fast. */
async function changeMembership(cluster: BenchCluster, o: ScenarioOptions): Promise<Step[]> {
  const pauseMs = Math.min(2_000, o.seconds * 500);
  const shardOfEdge = Array.from({ length: o.edges }, (_, i) =>
    cluster.bus.keyspace.shardOf(`edge/${edgeId(i)}`),
  );
  const movedFraction = (before: LeaseInfo[], after: LeaseInfo[]) =>
    Number((shardOfEdge.filter((s) => before[s]!.node !== after[s]!.node).length / o.edges).toFixed(4));
  const steps: Step[] = [];
  let members = [...INITIAL];
  let leases = await settled(cluster, members);
  const change = async (to: { step: string; ideal: number; next: string[] }, act: () => Promise<void>) => {
    const { step, ideal, next } = to;
    const at = Date.now();
    await act();
    const after = await settled(cluster, next);
    steps.push({ step, movedFraction: movedFraction(leases, after), ideal, settleMs: Date.now() - at });
    process.stderr.write(
      `rolling: ${step}: moved ${steps.at(-1)!.movedFraction} in ${steps.at(-1)!.settleMs} ms\n`,
    );
    leases = after;
    members = next;
    await sleep(pauseMs);
  };

  for (const id of INITIAL) {
    const rest = members.filter((m) => m !== id);
    await change({ step: `${id} stopped`, ideal: 1 / 3, next: rest }, () => cluster.nodes.get(id)!.stop());
    await change({ step: `${id} started`, ideal: 1 / 3, next: [...rest, id] }, async () => {
      await cluster.startNode(id);
    });
  }
  await change({ step: '3 → 5 nodes', ideal: 2 / 5, next: [...members, 'node-4', 'node-5'] }, async () => {
    await Promise.all([cluster.startNode('node-4'), cluster.startNode('node-5')]);
  });
  const leaving = ['node-1', 'node-3', 'node-5'];
  const remaining = members.filter((m) => !leaving.includes(m));
  await change({ step: '5 → 2 nodes', ideal: 3 / 5, next: remaining }, async () => {
    await Promise.all(leaving.map((id) => cluster.nodes.get(id)!.stop()));
  });
  return steps;
}
