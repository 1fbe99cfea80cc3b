/**
 * The scale benchmark's JSON (the fields first, then what explains them) and its table
 * of targets: connected = edges, lost 0, duplicated 0, p99 < 100 ms, hub < 1 core, Redis ≤ 2 KB
 * per edge, every malformed message dead-lettered, and after the storm every edge back within
 * 60 s, nothing acknowledged lost, the hub's p99 under 100 ms within 30 s.
 */
import type { Target } from '../report.ts';
import type { HostLimits } from './host.ts';
import type { RedisBytes } from './redis-bytes.ts';
import type { StormResult } from './storm.ts';

export interface ScaleMeasures {
  readonly edges: number;
  readonly tls: boolean;
  readonly brokers: number;
  /** Plaintext listeners per broker shard. */
  readonly listeners: number;
  readonly shardSizes: readonly number[];
  readonly nodes: number;
  readonly seconds: number;
  readonly connected: number;
  readonly connectMs: number | null;
  /**
   * From every edge connected until the window started: the warm-up, then the start-up backlog
   * drained (settle.ts); null: it was not.
   */
  readonly settleMs: number | null;
  /** The least time from every edge connected to the window (the days' first minute, scale.ts). */
  readonly warmUpSeconds: number;
  readonly handled: number;
  readonly latencyMs: { p50: number; p99: number; max: number };
  readonly cpuSeconds: { nodes: number; links: number; brokers: number; simulators: number; redis: number };
  /** Redis's costliest commands over the window (scripts, and their inner commands again). */
  readonly redisCommands: Record<string, { calls: number; usec: number }>;
  readonly redis: RedisBytes;
  readonly nodeRssMb: { before: number; after: number };
  readonly brokerRssMb: number;
  readonly simulatorRssMb: number;
  /** `unheard`: QoS 1 messages the brokers acknowledged with 0x10 (no link subscribed yet), sent again. */
  readonly storm: StormResult & { p99Ms: number; reconnects: number; unheard: number };
  readonly sent: number;
  readonly lost: number;
  /** Delivered again, recognized by sequence number and not applied (bench/cluster.ts reconcile). */
  readonly duplicated: number;
  readonly malformedSent: number;
  readonly deadLettered: number;
  readonly limits: HostLimits;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export function scaleReport(m: ScaleMeasures): { result: Record<string, unknown>; targets: Target[] } {
  const cores = (cpuSeconds: number) => round(cpuSeconds / m.seconds, 3);
  const hubCpuCores = cores(m.cpuSeconds.nodes + m.cpuSeconds.links);
  const actorsPer10k = Math.max(1, m.connected) / 10_000;
  const result = {
    edges: m.edges,
    connected: m.connected,
    msgsPerSec: Math.round(m.handled / m.seconds),
    latencyMs: m.latencyMs,
    lost: m.lost,
    duplicated: m.duplicated,
    hubCpuCores,
    brokerCpuCores: cores(m.cpuSeconds.brokers),
    redisBytesPerEdge: m.redis.bytesPerEdge,
    nodeRssMbPer10kActors: round((m.nodeRssMb.after - m.nodeRssMb.before) / actorsPer10k, 1),
    reconnect: {
      edges: m.storm.edges,
      p99Ms: m.storm.p99Ms,
      lost: m.lost,
      allBackMs: m.storm.allBackMs,
      hubP99BackMs: m.storm.hubP99BackMs,
      hubP99BackAfterAllBackMs:
        m.storm.hubP99BackMs === null || m.storm.allBackMs === null
          ? null
          : m.storm.hubP99BackMs - m.storm.allBackMs,
      restartMs: m.storm.restartMs,
      reconnects: m.storm.reconnects,
      unheard: m.storm.unheard,
      ...(m.storm.tcp === undefined ? {} : { tcp: m.storm.tcp }),
    },
    tls: m.tls,
    brokers: m.brokers,
    listeners: m.listeners,
    shardSizes: m.shardSizes,
    nodes: m.nodes,
    seconds: m.seconds,
    connectMs: m.connectMs,
    settleMs: m.settleMs,
    warmUpSeconds: m.warmUpSeconds,
    sent: m.sent,
    simulatorCpuCores: cores(m.cpuSeconds.simulators),
    redisCpuCores: cores(m.cpuSeconds.redis),
    redisCpuMicrosPerMsg: round((m.cpuSeconds.redis * 1e6) / Math.max(1, m.handled), 1),
    redisCommands: m.redisCommands,
    linkCpuCores: cores(m.cpuSeconds.links),
    nodeCpuCores: cores(m.cpuSeconds.nodes),
    nodeRssMb: round(m.nodeRssMb.after, 1),
    brokerRssMb: round(m.brokerRssMb, 1),
    simulatorRssMb: round(m.simulatorRssMb, 1),
    redis: m.redis,
    malformed: { sent: m.malformedSent, deadLettered: m.deadLettered },
    limits: m.limits,
  };
  const targets: Target[] = [
    { metric: 'connected', value: m.connected, target: `= ${m.edges}`, met: m.connected === m.edges },
    {
      metric: 'window started after the fleet connected (ms: warm-up, backlog drained)',
      value: m.settleMs ?? -1,
      target: '—',
      met: true,
    },
    { metric: 'msgs/s handled', value: result.msgsPerSec, target: '—', met: true },
    { metric: 'latency p50 (ms)', value: m.latencyMs.p50, target: '—', met: true },
    { metric: 'latency p99 (ms)', value: m.latencyMs.p99, target: '< 100', met: m.latencyMs.p99 < 100 },
    { metric: 'lost (acknowledged, whole run)', value: m.lost, target: '0', met: m.lost === 0 },
    {
      metric: 'duplicated (delivered again; recognized, not applied)',
      value: m.duplicated,
      target: '0',
      met: m.duplicated === 0,
    },
    { metric: 'hub CPU cores (links + nodes)', value: hubCpuCores, target: '< 1', met: hubCpuCores < 1 },
    { metric: 'broker CPU cores', value: result.brokerCpuCores, target: '—', met: true },
    { metric: 'simulator CPU cores', value: result.simulatorCpuCores, target: '—', met: true },
    { metric: 'Redis CPU cores', value: result.redisCpuCores, target: '—', met: true },
    { metric: 'Redis CPU µs per message', value: result.redisCpuMicrosPerMsg, target: '—', met: true },
    {
      metric: 'Redis bytes per edge',
      value: m.redis.bytesPerEdge,
      target: '≤ 2048',
      met: m.redis.bytesPerEdge <= 2048,
    },
    { metric: 'node RSS MB per 10k actors', value: result.nodeRssMbPer10kActors, target: '—', met: true },
    {
      metric: 'malformed dead-lettered / sent',
      value: m.deadLettered,
      // QoS 1: one whose PUBACK the broker's restart lost is sent again, and dead-lettered again.
      target: `≥ ${m.malformedSent}`,
      met: m.deadLettered >= m.malformedSent && m.malformedSent > 0,
    },
    {
      metric: 'storm: edges back',
      value: m.storm.edges,
      target: `= ${m.edges}`,
      met: m.storm.edges === m.edges,
    },
    {
      metric: 'storm: all back (ms)',
      value: m.storm.allBackMs ?? -1,
      target: '< 60000',
      met: m.storm.allBackMs !== null && m.storm.allBackMs < 60_000,
    },
    { metric: 'storm: reconnect p99 (ms)', value: m.storm.p99Ms, target: '—', met: true },
    {
      metric: 'QoS 1 refused with 0x10 (no link subscribed yet), sent again',
      value: m.storm.unheard,
      target: '—',
      met: true,
    },
    {
      metric: 'storm: hub p99 < 100 ms again (ms)',
      value: m.storm.hubP99BackMs ?? -1,
      target: '< 30000',
      met: m.storm.hubP99BackMs !== null && m.storm.hubP99BackMs < 30_000,
    },
    {
      metric: 'storm: hub p99 < 100 ms again, from all back (ms)',
      value: result.reconnect.hubP99BackAfterAllBackMs ?? -1,
      target: '—',
      met: true,
    },
    ...(m.storm.tcp === undefined
      ? []
      : [
          {
            metric: 'storm: SYNs a full accept queue refused (host ListenOverflows)',
            value: m.storm.tcp.listenOverflows,
            target: '—',
            met: true,
          },
          {
            metric: 'storm: SYNs sent again (host TCPSynRetrans)',
            value: m.storm.tcp.synRetrans,
            target: '—',
            met: true,
          },
        ]),
  ];
  return { result, targets };
}
