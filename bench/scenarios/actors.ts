/**
 * `actors`: N edges at the legacy rate straight into their mailboxes, M hub nodes.
 * Latency from enqueue to handled; CPU is the hub nodes' user+sys time over messages handled;
 * Redis memory per edge is used_memory after the run (states, mailboxes as trimmed, timers,
 * leases) less what it was before the first message, over the edges.
 */
import { reconcile, startBenchCluster } from '../cluster.ts';
import { bracketFloors, floorRatio, measureFloors } from '../floors.ts';
import { windowBetween } from '../monitor.ts';
import { redisCpuBetween, sampleRedisCpu } from '../redis-cpu.ts';
import type { Target } from '../report.ts';
import { measureRedisBytes, usedMemory } from '../scale/redis-bytes.ts';
import {
  drain,
  latencyTargets,
  type ScenarioOptions,
  type ScenarioResult,
  sleep,
  startLoad,
} from './common.ts';

export async function actorsScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster();
  // The floor on a quiet Redis: the same Redis work in a bare ioredis loop (floors.ts), before the
  // load and again after it (bracketFloors).
  const measureFloorsNow = () =>
    measureFloors({ redisUrl: cluster.server.url, redisMessages: o.edges * 1.3 * o.seconds, mqtt: false });
  const floorsBefore = await measureFloorsNow();
  for (let i = 1; i <= o.nodes; i++) await cluster.startNode(`node-${i}`);
  const memoryBefore = await usedMemory(cluster.bus.redis);
  const warmup = Math.min(5, Math.max(1, Math.floor(o.seconds / 5)));
  const { load, monitor } = await startLoad(cluster, 'actors', {
    edges: o.edges,
    seconds: warmup + o.seconds,
    warmupMs: warmup * 1000,
  });
  const before = await cluster.stats();
  const redisBefore = await sampleRedisCpu(cluster.bus.redis);
  await sleep(o.seconds * 1000);
  const redisAfter = await sampleRedisCpu(cluster.bus.redis);
  const after = await cluster.stats();
  const redisCpu = redisCpuBetween(redisBefore, redisAfter);
  const { lastSeq, sent } = await load.done;
  await drain(cluster, { edges: o.edges, sent });
  monitor.stop();
  const floors = bracketFloors(floorsBefore, await measureFloorsNow());
  const w = windowBetween(before, after);
  const memoryAfter = await usedMemory(cluster.bus.redis);
  // Where the bytes are: the outbox only grows here (no gateway reads and trims it).
  const bytes = await measureRedisBytes(cluster.bus.redis, {
    prefix: cluster.bus.keyspace.prefix,
    edges: o.edges,
    usedBefore: memoryBefore,
  });
  const { lost, duplicated } = reconcile(lastSeq, await cluster.edgeStates(o.edges));
  const result = {
    scenario: 'actors',
    edges: o.edges,
    nodes: o.nodes,
    seconds: o.seconds,
    msgs: w.handled,
    msgsPerSec: Math.round(w.handled / w.seconds),
    latencyMs: { p50: w.latency.quantile(0.5), p99: w.latency.quantile(0.99), max: w.latency.max },
    cpuMicrosPerMsg: Number((w.cpuMicros / w.handled).toFixed(2)),
    /** The same Redis work (XADD, XREADGROUP over 128 streams, XACK) in a bare ioredis loop. */
    floorMicrosPerMsg: floors.redisMicrosPerMsg,
    floorRatio: floorRatio(w.cpuMicros / w.handled, floors.redisMicrosPerMsg),
    floors,
    /** Redis's own CPU (INFO cpu) over the window per message handled, the load's enqueues included. */
    redisCpuMicrosPerMsg: Number((redisCpu.cpuMicros / w.handled).toFixed(2)),
    /** INFO commandstats over the window: the commands that took Redis the most time. */
    redisCommands: redisCpu.commands,
    redisUsedMemoryBytes: memoryAfter,
    redisBytesPerEdge: Math.round((memoryAfter - memoryBefore) / o.edges),
    /** MEMORY USAGE of the run's keys per edge, the unconsumed outbox left out (bench/scale/redis-bytes.ts). */
    redisKeyBytesPerEdge: bytes.bytesPerEdge,
    redisOutboxBytesPerEdge: bytes.outboxPerEdge,
    redisStateJsonBytes: bytes.stateJsonBytes,
    redisFamilies: bytes.families,
    lost,
    duplicated,
  };
  const targets: Target[] = [
    {
      metric: 'msgsPerSec',
      value: result.msgsPerSec,
      target: `≈ ${Math.round(o.edges * 1.3)} (1.3/edge)`,
      met: result.msgsPerSec >= o.edges * 1.3 * 0.95,
    },
    ...latencyTargets(result.latencyMs, 50),
    {
      metric: 'cpuMicrosPerMsg',
      value: result.cpuMicrosPerMsg,
      target: '≤ 30',
      met: result.cpuMicrosPerMsg <= 30,
    },
    {
      metric: 'floorMicrosPerMsg (bare ioredis loop, mean of before and after the load)',
      value: result.floorMicrosPerMsg,
      target: '—',
      met: true,
    },
    { metric: '  floor spread before → after (%)', value: floors.spreadPct, target: '—', met: true },
    {
      metric: 'floorRatio',
      value: result.floorRatio ?? -1,
      target: '≤ 3',
      met: result.floorRatio !== null && result.floorRatio <= 3,
    },
    {
      metric: 'Redis CPU µs/msg (INFO cpu, load included)',
      value: result.redisCpuMicrosPerMsg,
      target: '—',
      met: true,
    },
    { metric: 'redisBytesPerEdge (used_memory)', value: result.redisBytesPerEdge, target: '—', met: true },
    {
      metric: 'Redis key bytes per edge, outbox left out',
      value: result.redisKeyBytesPerEdge,
      target: '≤ 2,048',
      met: result.redisKeyBytesPerEdge <= 2048,
    },
    {
      metric: 'outbox bytes per edge (nobody trims it here)',
      value: result.redisOutboxBytesPerEdge,
      target: '—',
      met: true,
    },
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: duplicated, target: '0', met: duplicated === 0 },
  ];
  return { result, targets, plot: monitor.plot() };
}
