/**
 * `npm run bench -- scale --edges N [--tls] [--brokers K]`: N edges, each its own MQTT connection,
 * on this machine with everything co-located: K mosquitto shards (default ⌈N / 18,000⌉: a process
 * here holds at most 20,000 files), one simulator process and one hub link per shard, the hub
 * node(s) and Redis. The compact workload (shared/docs/workload.md), 1 % of the edges also sending
 * malformed messages. Measured in a window once every edge is up: throughput, edge → handled
 * latency, CPU of every part, Redis bytes per edge by key family, node memory per 10,000 actors;
 * then the reconnect storm (storm.ts); then every acknowledged message reconciled per edge.
 */
import { simulatedEdgeId } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { reconcile, startBenchCluster } from '../cluster.ts';
import { Monitor, windowBetween } from '../monitor.ts';
import { processCpuMicros } from '../proc-cpu.ts';
import { quantile } from '../quantile.ts';
import { redisCpuBetween, sampleRedisCpu } from '../redis-cpu.ts';
import { drain, type ScenarioOptions, type ScenarioResult, sleep } from '../scenarios/common.ts';
import { hostLimits, rssMb } from './host.ts';
import { measureRedisBytes, usedMemory } from './redis-bytes.ts';
import { scaleReport } from './scale-report.ts';
import { settled } from './settle.ts';
import { startBrokerShards } from './shards.ts';
import { startSimFleet } from './sim-fleet.ts';
import { reconnectStorm } from './storm.ts';

/** Edges per mosquitto shard by default: 20,000 files less the broker's own and a margin. */
export const EDGES_PER_SHARD = 18_000;

export interface ScaleOptions {
  /** Broker shards (default ⌈edges / EDGES_PER_SHARD⌉). */
  readonly brokers?: number;
  /** Connections opened per second at start, all simulator processes together (default 1000). */
  readonly connectRate?: number;
  /** Plaintext listeners per broker shard, the shard's edges spread over them (default 1). */
  readonly listeners?: number;
  /**
   * The window starts no sooner than this after the fleet connected (default 60). A simulated
   * day's first minute sends less than the rest (every car idle at the start: ~0.07 messages a
   * second an edge after the day-start snapshot, ~0.09 from the second minute on; bench/sim-rate.ts),
   * so a window inside it measures a lighter load than the fleet's steady one.
   */
  readonly warmUpSeconds?: number;
}

/** `--brokers K`, `--connect-rate R` and `--listeners L` of the command line, checked. */
export function scaleOptions(values: {
  brokers?: string;
  'connect-rate'?: string;
  listeners?: string;
  'warm-up'?: string;
}): ScaleOptions {
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const brokers = int('brokers', values.brokers);
  const connectRate = int('connect-rate', values['connect-rate']);
  const listeners = int('listeners', values.listeners);
  const warmUp = values['warm-up'] === undefined ? undefined : Number(values['warm-up']);
  if (warmUp !== undefined && !(Number.isFinite(warmUp) && warmUp >= 0))
    throw new RangeError(`--warm-up must be a number of seconds ≥ 0, got ${values['warm-up']}`);
  return {
    ...(warmUp === undefined ? {} : { warmUpSeconds: warmUp }),
    ...(listeners === undefined ? {} : { listeners }),
    ...(brokers === undefined ? {} : { brokers }),
    ...(connectRate === undefined ? {} : { connectRate }),
  };
}

export async function scaleScenario(o: ScenarioOptions, s: ScaleOptions = {}): Promise<ScenarioResult> {
  const limits = hostLimits();
  const brokers = s.brokers ?? Math.ceil(o.edges / EDGES_PER_SHARD);
  const connectRate = s.connectRate ?? 1000;
  const listeners = s.listeners ?? 1;
  if (listeners > 1 && o.tls === true)
    throw new RangeError(
      'scale: --listeners spreads plaintext edges; with --tls each shard has one listener',
    );
  await using cluster = await startBenchCluster();
  const redis = cluster.bus.redis;
  const usedBefore = await usedMemory(redis);
  for (let i = 1; i <= o.nodes; i++) await cluster.startNode(`node-${i}`);
  const nodePids = () => [...cluster.nodes.values()].map((n) => n.child.pid);
  const sumRss = (pids: (number | undefined)[]) => pids.reduce<number>((n, pid) => n + rssMb(pid), 0);
  const nodeRssBefore = sumRss(nodePids());
  await using shards = await startBrokerShards(cluster, {
    edges: o.edges,
    shards: brokers,
    tls: o.tls === true,
    listeners,
  });
  const perShard = Math.max(...shards.sizes);
  if (perShard + 100 > limits.openFilesHard)
    throw new RangeError(
      `scale: ${perShard} edges on one shard need more than the ${limits.openFilesHard} open files a process may hold here; use --brokers ${Math.ceil(o.edges / EDGES_PER_SHARD)} or more`,
    );
  const connectStart = Date.now();
  await using fleet = startSimFleet({
    edges: o.edges,
    urls: shards.edgeUrls,
    ...(shards.caFile === undefined ? {} : { caFile: shards.caFile }),
    connectRate,
    malformedShare: 0.01,
  });
  const monitor = new Monitor(
    `scale ${o.edges}${o.tls ? ' tls' : ''}`,
    () => cluster.stats(),
    () => fleet.now().sent,
  );
  monitor.start(o.seconds);
  let connectMs: number | null = null;
  const warmUpMs = (s.warmUpSeconds ?? 60) * 1000;
  // What this machine carries: the run goes on with whoever connected by the deadline.
  await waitFor(() => fleet.now().connected >= o.edges, {
    timeoutMs: 60_000 + (o.edges / connectRate) * 3000,
    intervalMs: 200,
    message: `${o.edges} edges to connect`,
  }).then(
    () => {
      connectMs = Date.now() - connectStart;
    },
    () => {},
  );
  // The births' backlog (QoS 1, which the link takes one by one per connection) drained first:
  // the hub has handled about all the fleet has sent (within ~2 s of its traffic).
  const handled = async () => (await cluster.stats()).reduce((n, st) => n + st.handled, 0);
  const settleStart = Date.now(); // the days start now, every shard connected
  await waitFor(async () => (await handled()) >= fleet.now().sent - o.edges * 0.1, {
    timeoutMs: 60_000 + o.edges / 2,
    intervalMs: 1000,
  }).catch(() => {});
  // The days' first minute passed (warmUpSeconds), then the window starts once the hub's p99
  // has been under 100 ms for 3 seconds running (the time it took is reported).
  await sleep(Math.max(0, settleStart + warmUpMs - Date.now()));
  const fromSample = monitor.samples.length;
  const steady = await settled(monitor.samples, {
    from: fromSample,
    seconds: 3,
    p99Ms: 100,
    timeoutMs: 60_000 + o.edges,
  });
  const settleMs = steady ? Date.now() - settleStart : null;

  // The measured window.
  const pids = {
    links: shards.links.map((l) => l.child.pid),
    brokers: () => shards.brokers.map((b) => b.pid),
    simulators: fleet.pids,
  };
  const cpu = (list: (number | undefined)[]) => list.reduce<number>((n, pid) => n + processCpuMicros(pid), 0);
  const before = {
    stats: await cluster.stats(),
    links: cpu(pids.links),
    brokers: cpu(pids.brokers()),
    sims: cpu(pids.simulators),
    redis: await sampleRedisCpu(redis),
  };
  const connected = fleet.now().connected;
  await sleep(o.seconds * 1000);
  const after = {
    stats: await cluster.stats(),
    links: cpu(pids.links),
    brokers: cpu(pids.brokers()),
    sims: cpu(pids.simulators),
    redis: await sampleRedisCpu(redis),
  };
  const redisCpu = redisCpuBetween(before.redis, after.redis);
  const w = windowBetween(before.stats, after.stats);
  const nodeRssAfter = sumRss(nodePids());
  const brokerRssMb = sumRss(pids.brokers());
  const simulatorRssMb = sumRss(pids.simulators);
  const redisBytes = await measureRedisBytes(redis, {
    prefix: cluster.bus.keyspace.prefix,
    edges: o.edges,
    usedBefore,
  });

  const storm = await reconnectStorm({
    edges: connected,
    shards,
    fleet,
    monitor,
    deadlineMs: 60_000 + o.edges * 2,
    handled,
  });
  const totals = await fleet.stop();
  const sent = totals.sentPerEdge.reduce((a, b) => a + b, 0);
  await drain(cluster, { edges: o.edges, sent, idOf: simulatedEdgeId });
  const deadLettered = async () =>
    Object.entries(await redis.hgetall(cluster.bus.keyspace.deadLetterTotals))
      .filter(([code]) => code !== 'unstored')
      .reduce((n, [, v]) => n + Number(v), 0);
  await waitFor(async () => (await deadLettered()) >= totals.malformedSent, { timeoutMs: 30_000 }).catch(
    () => {},
  );
  monitor.stop();
  const states = await cluster.edgeStates(o.edges, simulatedEdgeId);
  const { lost, duplicated } = reconcile(totals.sentPerEdge, states);
  // The first edges short of what their broker acknowledged, or with repeats, to look into.
  const lostEdges = totals.sentPerEdge
    .map((sent, i) => ({ edge: simulatedEdgeId(i), sent, seq: states[i]?.seq }))
    .filter((e) => e.sent > (e.seq?.received ?? 0) || (e.seq?.duplicates ?? 0) > 0)
    .slice(0, 10);
  const { result, targets } = scaleReport({
    edges: o.edges,
    tls: o.tls === true,
    brokers,
    listeners,
    shardSizes: shards.sizes,
    nodes: o.nodes,
    seconds: w.seconds || o.seconds,
    connected,
    connectMs,
    settleMs,
    warmUpSeconds: warmUpMs / 1000,
    handled: w.handled,
    latencyMs: { p50: w.latency.quantile(0.5), p99: w.latency.quantile(0.99), max: w.latency.max },
    cpuSeconds: {
      nodes: w.cpuMicros / 1e6,
      links: (after.links - before.links) / 1e6,
      brokers: (after.brokers - before.brokers) / 1e6,
      simulators: (after.sims - before.sims) / 1e6,
      redis: redisCpu.cpuMicros / 1e6,
    },
    redisCommands: redisCpu.commands,
    redis: redisBytes,
    nodeRssMb: { before: nodeRssBefore, after: nodeRssAfter },
    brokerRssMb,
    simulatorRssMb,
    storm: {
      ...storm,
      p99Ms: quantile(totals.reconnectMs, 0.99),
      reconnects: totals.reconnectMs.length,
      unheard: fleet.now().unheard,
    },
    sent,
    lost,
    duplicated,
    malformedSent: totals.malformedSent,
    deadLettered: await deadLettered(),
    limits,
  });
  return { result: { ...result, lostEdges }, targets, plot: monitor.plot() };
}
