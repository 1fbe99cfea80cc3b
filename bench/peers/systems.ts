/**
 * The worker processes of each system in the peers bench, behind one shape: start worker k,
 * kill -9 it, its pid for /proc, and every instance's counters for the sampler. DeviceHub's are
 * real `devicehub node` processes running the peer actor; BullMQ's and Kafka's are
 * bullmq-worker.ts and kafka-worker.ts.
 */
import { Queue } from 'bullmq';
import { Kafka, logLevel } from 'kafkajs';
import { readNodeStats } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { type HubProcess, spawnHubNode } from '../../infra/mod.ts';
import { PEER_ACTORS_MODULE } from './peer-actor.ts';
import { type PeerProcess, spawnPeerProcess, type WorkerLine } from './peer-process.ts';
import type { WorkerSnapshot } from './sampler.ts';
import { type PeerSystem, peerKeys } from './state-store.ts';

export interface SystemWorkers extends AsyncDisposable {
  /** Starts worker `k` (0-based) and waits until it takes work. */
  start(k: number): Promise<void>;
  /** The live workers' pids. */
  pids(): (number | undefined)[];
  /** kill -9 of worker `k`; returns once it is gone. */
  kill9(k: number): Promise<void>;
  snapshots(): Promise<WorkerSnapshot[]>;
  /**
   * What is still queued (`stillQueued`: BullMQ's waiting, active and delayed jobs; the consumer
   * group's lag) and given up on (BullMQ's failed jobs); none for DeviceHub.
   */
  queueCounts(): Promise<{ readonly stillQueued: number; readonly [count: string]: number } | undefined>;
}

export interface SystemSetup {
  readonly redisUrl: string;
  /** The peers' DeviceHub keyspace on the bench's connection (DeviceHub's stats are read there). */
  readonly bus: Bus;
  /** Kafka's `host:port` (kafka-consumer only). */
  readonly broker?: string;
  /** Jobs each BullMQ worker runs at once. */
  readonly concurrency: number;
  /** The Kafka consumers' session timeout (default 10 s): how long a killed one holds its partitions. */
  readonly kafkaSessionMs?: number;
}

export function systemWorkers(system: PeerSystem, o: SystemSetup): SystemWorkers {
  return system === 'devicehub' ? hubWorkers(o) : processWorkers(system, o);
}

function hubWorkers(o: SystemSetup): SystemWorkers {
  const nodes: (HubProcess | undefined)[] = [];
  const all: HubProcess[] = [];
  return {
    async start(k) {
      const node = spawnHubNode({
        redisUrl: o.redisUrl,
        nodeId: `peer-node-${k + 1}`,
        prefix: o.bus.keyspace.prefix,
        shards: o.bus.keyspace.shards,
        actorsModule: PEER_ACTORS_MODULE,
        logLevel: 'warn',
      });
      nodes[k] = node;
      all.push(node);
      await node.ready;
    },
    pids: () => nodes.map((n) => n?.child.pid),
    async kill9(k) {
      await nodes[k]?.kill('SIGKILL');
      nodes[k] = undefined;
    },
    async snapshots() {
      const stats = await readNodeStats(o.bus, { departed: true });
      return stats.map((s) => ({ id: `${s.node}:${s.pid}`, handled: s.handled, latencyMs: s.latencyMs }));
    },
    queueCounts: async () => undefined,
    async [Symbol.asyncDispose]() {
      await Promise.all(all.map((n) => Promise.race([n.stop(), sleep(5000).then(() => n.kill('SIGKILL'))])));
    },
  };
}

function processWorkers(system: 'bullmq' | 'kafka-consumer', o: SystemSetup): SystemWorkers {
  const workers: (PeerProcess | undefined)[] = [];
  const all: PeerProcess[] = [];
  return {
    async start(k) {
      const worker =
        system === 'bullmq'
          ? spawnPeerProcess('./bullmq-worker.ts', [
              '--redis',
              o.redisUrl,
              '--concurrency',
              String(o.concurrency),
            ])
          : spawnPeerProcess('./kafka-worker.ts', [
              ...['--redis', o.redisUrl, '--brokers', o.broker!],
              ...(o.kafkaSessionMs === undefined ? [] : ['--session-ms', String(o.kafkaSessionMs)]),
            ]);
      workers[k] = worker;
      all.push(worker);
      await worker.line('ready');
    },
    pids: () => workers.map((w) => w?.pid),
    async kill9(k) {
      await workers[k]?.kill('SIGKILL');
      workers[k] = undefined;
    },
    async snapshots() {
      const out: WorkerSnapshot[] = [];
      for (const w of all) {
        const last = w.lines.findLast((l) => 'handled' in l) as WorkerLine | undefined;
        if (last !== undefined)
          out.push({ id: String(w.pid), handled: last.handled, latencyMs: last.latencyMs });
      }
      return out;
    },
    async queueCounts() {
      if (system === 'kafka-consumer') return { stillQueued: await consumerLag(o.broker!) };
      const queue = new Queue(peerKeys.queue, { connection: o.bus.redis, prefix: peerKeys.bullPrefix });
      try {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'failed');
        return { stillQueued: (counts.wait ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0), ...counts };
      } finally {
        await queue.close();
      }
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(
        all.map((w) => Promise.race([w.kill('SIGTERM'), sleep(5000).then(() => w.kill('SIGKILL'))])),
      );
    },
  };
}

/** Messages of the peers' topic past the group's committed offsets. */
async function consumerLag(broker: string): Promise<number> {
  const admin = new Kafka({ clientId: 'peers-lag', brokers: [broker], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const high = await admin.fetchTopicOffsets(peerKeys.topic);
    const [committed] = await admin.fetchOffsets({ groupId: peerKeys.group, topics: [peerKeys.topic] });
    const at = new Map(committed?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]));
    return high.reduce((lag, p) => lag + Number(p.high) - (at.get(p.partition) ?? 0), 0);
  } finally {
    await admin.disconnect();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
