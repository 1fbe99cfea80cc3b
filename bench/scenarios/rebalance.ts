/**
 * `rebalance`: a cluster of 2 nodes under the legacy load gets a 3rd node. Measures the share
 * of edges that moved (ideal 1/3), the time from the new node joining until every shard is
 * held by its ring owner, and loss/duplication across the hand-off.
 */
import { HashRing, readLeases } from '../../actors/mod.ts';
import { liveMembers } from '../../bus/mod.ts';
import { edgeId, reconcile, startBenchCluster } from '../cluster.ts';
import type { Target } from '../report.ts';
import { drain, type ScenarioOptions, type ScenarioResult, sleep, startLoad } from './common.ts';

export async function rebalanceScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster();
  const { keyspace } = cluster.bus;
  await cluster.startNode('node-1');
  await cluster.startNode('node-2');
  const { load, monitor } = await startLoad(cluster, 'rebalance', {
    edges: o.edges,
    seconds: o.seconds,
    warmupMs: Math.min(5_000, (o.seconds * 1000) / 3),
  });

  const before = await readLeases(cluster.bus);
  const joining = cluster.startNode('node-3');
  while (!(await liveMembers(cluster.bus)).includes('node-3')) await sleep(5);
  const joinedAt = Date.now();
  const ring = new HashRing(['node-1', 'node-2', 'node-3']);
  let after = before;
  while (!after.every((l) => l.node === ring.ownerOf(l.shard))) {
    if (Date.now() - joinedAt > 30_000) throw new Error('rebalance did not settle within 30 s');
    await sleep(10);
    after = await readLeases(cluster.bus);
  }
  const settleMs = Date.now() - joinedAt;
  await joining;

  const { lastSeq, sent } = await load.done;
  await drain(cluster, { edges: o.edges, sent });
  monitor.stop();
  let moved = 0;
  for (let i = 0; i < o.edges; i++) {
    const shard = keyspace.shardOf(`edge/${edgeId(i)}`);
    if (after[shard]!.node !== before[shard]!.node) moved++;
  }
  const { lost, duplicated } = reconcile(lastSeq, await cluster.edgeStates(o.edges));
  const result = {
    scenario: 'rebalance',
    edges: o.edges,
    nodes: 3,
    seconds: o.seconds,
    movedFraction: Number((moved / o.edges).toFixed(4)),
    idealFraction: Number((1 / 3).toFixed(4)),
    settleMs,
    lost,
    duplicated,
  };
  const targets: Target[] = [
    {
      metric: 'movedFraction',
      value: result.movedFraction,
      target: '1/3 ± 0.05',
      met: Math.abs(result.movedFraction - 1 / 3) <= 0.05,
    },
    { metric: 'settleMs', value: settleMs, target: '< 1000', met: settleMs < 1000 },
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: duplicated, target: '0', met: duplicated === 0 },
  ];
  return { result, targets, plot: monitor.plot() };
}
