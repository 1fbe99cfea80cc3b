/**
 * `failover`: one of 3 nodes is kill -9ed under the legacy load. For every edge the dead node
 * held, resumeMs runs from the kill to that edge's next handled message on its new node.
 */
import { Histogram, readLeases } from '../../actors/mod.ts';
import { edgeId, reconcile, startBenchCluster } from '../cluster.ts';
import type { Target } from '../report.ts';
import { drain, type ScenarioOptions, type ScenarioResult, sleep, startLoad } from './common.ts';

export async function failoverScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster({ traceResume: true });
  const { redis, keyspace } = cluster.bus;
  for (let i = 1; i <= 3; i++) await cluster.startNode(`node-${i}`);
  const { load, monitor } = await startLoad(cluster, 'failover', {
    edges: o.edges,
    seconds: o.seconds,
    warmupMs: Math.min(5_000, (o.seconds * 1000) / 3),
  });

  const victim = 'node-2';
  const leases = await readLeases(cluster.bus);
  const affected = [];
  for (let i = 0; i < o.edges; i++) {
    const address = `edge/${edgeId(i)}`;
    if (leases[keyspace.shardOf(address)]!.node === victim) affected.push(address);
  }
  const killedAt = Date.now();
  await cluster.nodes.get(victim)!.kill('SIGKILL');

  let resumed: Record<string, string> = {};
  while (Object.keys(resumed).length < affected.length && Date.now() - killedAt < 30_000) {
    await sleep(100);
    resumed = await redis.hgetall(keyspace.traceResume);
  }
  const resume = new Histogram();
  for (const address of affected) resume.record(Number(resumed[address] ?? Number.NaN) - killedAt);
  const unresumed = affected.filter((a) => resumed[a] === undefined).length;

  const { lastSeq, sent } = await load.done;
  await drain(cluster, { edges: o.edges, sent });
  monitor.stop();
  const { lost, duplicated } = reconcile(lastSeq, await cluster.edgeStates(o.edges));
  const result = {
    scenario: 'failover',
    edges: o.edges,
    nodes: 3,
    seconds: o.seconds,
    affectedEdges: affected.length,
    unresumed,
    resumeMs: { p50: resume.quantile(0.5), p99: resume.quantile(0.99), max: resume.max },
    lost,
    duplicated,
  };
  const targets: Target[] = [
    { metric: 'affected edges', value: affected.length, target: '≈ 1/3 of edges', met: true },
    { metric: 'resumeMs p50', value: result.resumeMs.p50, target: '—', met: true },
    {
      metric: 'resumeMs p99',
      value: result.resumeMs.p99,
      target: '< 3000',
      met: result.resumeMs.p99 < 3000 && unresumed === 0,
    },
    { metric: 'resumeMs max', value: result.resumeMs.max, target: '—', met: true },
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: duplicated, target: '0', met: duplicated === 0 },
  ];
  return { result, targets, plot: monitor.plot() };
}
