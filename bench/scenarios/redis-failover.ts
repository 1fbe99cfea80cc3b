/**
 * `redis-failover`: what a Redis Cluster master failover loses of acknowledged writes, and what
 * waiting for a replica costs. Writers append batches of messages to the mailboxes of `edges`
 * edges as the links do (one enqueue script per tag group), as fast as the cluster takes them;
 * the master serving the most tag groups is killed -9 mid-run, its replica takes over, and the
 * dead node is started again 4 s later (it rejoins as a replica). Every acknowledged message is
 * then looked for in the mailboxes.
 *
 * Run twice, on a fresh cluster each: acknowledging when the master has a batch (Redis's own
 * asynchronous replication), and only once a replica has it too (`WAIT 1`, what
 * `--wait-replicas 1` does in the links).
 */
import {
  type Bus,
  connectRedis,
  createKeyspace,
  type Keyspace,
  openBus,
  waitForReplicas,
} from '../../bus/mod.ts';
import { type RedisCluster, startRedisCluster } from '../../infra/redis-cluster.ts';
import { edgeId } from '../cluster.ts';
import type { Plot, Target } from '../report.ts';
import { type ScenarioOptions, type ScenarioResult, sleep } from './common.ts';

interface Run {
  readonly acknowledged: number;
  readonly lost: number;
  readonly failedBatches: number;
  readonly ackedPerSecond: number;
  readonly batchP99Ms: number;
  /** The longest time no batch was acknowledged (the failover, and with WAIT the wait for a replica). */
  readonly longestStallMs: number;
}

async function once(o: ScenarioOptions, replicas: number, label: string): Promise<Run> {
  await using cluster = await startRedisCluster({
    masters: 3,
    replicas: 1,
    nodeTimeoutMs: 2000,
    fsync: 'everysec',
  });
  const redis = connectRedis(cluster.url, { name: 'bench' });
  const keyspace = createKeyspace({ prefix: 'rf', shards: 1024, tagGroups: 16 });
  const victim = await busiestMaster(cluster, keyspace);

  const started = Date.now();
  const bus = openBus({ redis, keyspace });
  const writers = startWriters({ bus, edges: o.edges, replicas });
  const seconds = Math.max(6, Math.min(o.seconds, 20));
  await sleep((seconds * 1000) / 2);
  process.stderr.write(
    `redis-failover (${label}): ${writers.acknowledged.size.toLocaleString('en')} acknowledged; killing a master…\n`,
  );
  await victim.server.kill();
  // Its supervisor starts it again a few seconds later: it rejoins as the new master's replica.
  await sleep(4000);
  await victim.server.restart();
  await sleep((seconds * 1000) / 2);
  const { acknowledged, batchMs, failedBatches, longestStallMs } = await writers.stop();
  const elapsed = (Date.now() - started) / 1000;
  await cluster.healthy(60_000);

  const lost = await countLost(bus, acknowledged);
  redis.disconnect();
  batchMs.sort((a, b) => a - b);
  const run = {
    acknowledged: acknowledged.size,
    lost,
    failedBatches,
    ackedPerSecond: Math.round(acknowledged.size / elapsed),
    batchP99Ms: batchMs[Math.floor(batchMs.length * 0.99)] ?? 0,
    longestStallMs,
  };
  process.stderr.write(`redis-failover (${label}): ${JSON.stringify(run)}\n`);
  return run;
}

/** The master serving the most tag groups (the one whose failover hurts most). */
async function busiestMaster(cluster: RedisCluster, keyspace: Keyspace) {
  const groupsOf = new Map<string, number>();
  for (let g = 0; g < keyspace.tagGroups; g++) {
    const master = await cluster.masterOf(keyspace.outbox(g));
    groupsOf.set(master.id, (groupsOf.get(master.id) ?? 0) + 1);
  }
  const victimId = [...groupsOf].sort((a, b) => b[1] - a[1])[0]![0];
  return cluster.nodes.find((n) => n.id === victimId)!;
}

/**
 * 8 writers appending batches of 50 messages as the links do, as fast as the cluster takes them,
 * each batch acknowledged once written (and, with `replicas`, once that many replicas hold it).
 */
function startWriters(o: { bus: Bus; edges: number; replicas: number }) {
  const { bus, replicas } = o;
  const { redis, keyspace } = bus;
  const acknowledged = new Set<string>();
  const batchMs: number[] = [];
  let failedBatches = 0;
  let lastAck = Date.now();
  let longestStallMs = 0;
  let stop = false;
  let next = 0;
  const writer = async (w: number) => {
    while (!stop) {
      const batch = Array.from({ length: 50 }, () => {
        const n = next++;
        return { address: `edge/${edgeId(n % o.edges)}`, method: 'telemetry', payload: { n, w } };
      });
      const started = Date.now();
      try {
        await bus.enqueue(batch, started);
        if (replicas > 0) {
          const mailboxes = new Set(batch.map((m) => keyspace.shard(keyspace.shardOf(m.address)).mailbox));
          await waitForReplicas(redis, { keys: mailboxes, replicas, timeoutMs: 1000 });
        }
        for (const m of batch) acknowledged.add(String(m.payload.n));
        const now = Date.now();
        longestStallMs = Math.max(longestStallMs, now - lastAck);
        lastAck = now;
        batchMs.push(Date.now() - started);
      } catch {
        failedBatches++; // not acknowledged: a link would let the broker deliver it again
        await sleep(50);
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  return {
    acknowledged,
    async stop() {
      stop = true;
      await Promise.all(writers);
      return { acknowledged, batchMs, failedBatches, longestStallMs };
    },
  };
}

/** Acknowledged messages found in no mailbox. */
async function countLost(bus: Bus, acknowledged: ReadonlySet<string>): Promise<number> {
  const { redis, keyspace } = bus;
  const found = new Set<string>();
  for (let s = 0; s < keyspace.shards; s++) {
    for (const [, fields] of await redis.xrange(keyspace.shard(s).mailbox, '-', '+')) {
      const p = fields[fields.indexOf('p') + 1];
      if (p !== undefined) found.add(String((JSON.parse(p) as { n: number }).n));
    }
  }
  let lost = 0;
  for (const n of acknowledged) if (!found.has(n)) lost++;
  return lost;
}

export async function redisFailoverScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const asynchronous = await once(o, 0, 'asynchronous replication');
  const waited = await once(o, 1, 'WAIT 1');
  const result = { scenario: 'redis-failover', edges: o.edges, asynchronous, waitForReplica: waited };
  const targets: Target[] = [
    {
      metric: 'lost, acknowledged by the master alone',
      value: asynchronous.lost,
      target: '— (measured)',
      met: true,
    },
    { metric: 'lost, acknowledged after WAIT 1', value: waited.lost, target: '0', met: waited.lost === 0 },
    {
      metric: 'acknowledged msg/s, master alone',
      value: asynchronous.ackedPerSecond,
      target: '—',
      met: true,
    },
    { metric: 'acknowledged msg/s, WAIT 1', value: waited.ackedPerSecond, target: '—', met: true },
    { metric: 'batch p99 ms, master alone', value: asynchronous.batchP99Ms, target: '—', met: true },
    { metric: 'batch p99 ms, WAIT 1', value: waited.batchP99Ms, target: '—', met: true },
    { metric: 'longest stall ms, master alone', value: asynchronous.longestStallMs, target: '—', met: true },
    { metric: 'longest stall ms, WAIT 1', value: waited.longestStallMs, target: '—', met: true },
  ];
  const plot: Plot = {
    xLabel: 'mode (0: master alone, 1: WAIT 1)',
    x: [0, 1],
    charts: [
      { label: 'acknowledged msg/s', values: [asynchronous.ackedPerSecond, waited.ackedPerSecond] },
      { label: 'acknowledged but lost', values: [asynchronous.lost, waited.lost] },
    ],
  };
  return { result, targets, plot };
}
