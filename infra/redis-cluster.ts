/**
 * Runs a real Redis Cluster on loopback: `masters` redis-servers with `--cluster-enabled yes`,
 * each with `replicas` replicas, joined as `redis-cli --cluster create` would. For the suite's cluster
 * pass, the failover tests and `npm run cluster -- --redis cluster`.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { canBind, freePort } from './free-port.ts';
import { type RedisServer, startRedisServer } from './redis-server.ts';
import { waitFor } from './wait-for.ts';

export interface RedisClusterOptions {
  /** Master nodes (default 3, the fewest Redis Cluster accepts). */
  readonly masters?: number;
  /** Replicas per master (default 1): what takes over when a master dies. */
  readonly replicas?: number;
  /** `cluster-node-timeout`: how long a master may be unreachable before a failover (default 1000 ms). */
  readonly nodeTimeoutMs?: number;
  /** AOF fsync of every node (default `always`, as the single-instance default). */
  readonly fsync?: 'always' | 'everysec';
}

export interface ClusterNode {
  readonly server: RedisServer;
  /** The cluster node id (40 hex characters). */
  readonly id: string;
}

export interface RedisCluster extends AsyncDisposable {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` — what `connectRedis` and `--redis` take. */
  readonly url: string;
  readonly nodes: readonly ClusterNode[];
  /** The node serving `key`'s slot as master now. */
  masterOf(key: string): Promise<ClusterNode>;
  /** Waits until every slot is served by a reachable master, the cluster reports `ok` and every live replica is in sync. */
  healthy(timeoutMs?: number): Promise<void>;
  /** SIGKILL every node (nothing unwritten is saved). */
  kill(): Promise<void>;
  /** Starts every node again on its port and data (after `kill`), then waits until healthy. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  if (masters < 3)
    throw new RangeError(`Cannot start a Redis Cluster: it needs 3 masters or more, got ${masters}`);
  const servers: RedisServer[] = [];
  try {
    await startClusterServers(servers, masters * (1 + replicas), options);
    await createCluster(servers, masters);
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }

  const nodes: ClusterNode[] = [];
  for (const server of servers) nodes.push({ server, id: await ask(server.port, (r) => r.cluster('MYID')) });
  const healthy = (timeoutMs = 30_000) => clusterHealthy(nodes, timeoutMs);
  await healthy();

  const cluster: RedisCluster = {
    url: `redis+cluster://${servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`,
    nodes,
    masterOf: (key) => masterOf(nodes, key),
    healthy,
    async kill() {
      await Promise.all(servers.map((s) => s.kill()));
    },
    async restart() {
      await Promise.all(servers.map((s) => s.restart()));
      await healthy();
    },
    async stop() {
      await Promise.all(servers.map((s) => s.stop()));
    },
    [Symbol.asyncDispose]() {
      return cluster.stop();
    },
  };
  return cluster;
}

/**
 * `count` cluster-enabled redis-servers on free ports, started at once (each suite file of the
 * cluster pass starts six), pushed onto `servers` once all have started or failed.
 */
async function startClusterServers(servers: RedisServer[], count: number, options: RedisClusterOptions) {
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const root = mkdtempSync(join(tmpdir(), 'devicehub-redis-cluster-'));
  const used = new Set<number>();
  // A port free when picked, not picked for another node, whose cluster bus (port + 10000) is
  // free too (CI once found it taken).
  const pickPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!used.has(port) && port + 10_000 <= 65_535 && (await canBind(port + 10_000))) {
        used.add(port);
        return port;
      }
    }
  };
  // A node whose port or bus port was taken between the pick and its start (a client's ephemeral
  // port on loopback, the other suite stream's) tries other ports, three times in all.
  const startNode = async (i: number): Promise<RedisServer> => {
    for (let attempt = 1; ; attempt++) {
      const dir = join(root, attempt === 1 ? `n${i}` : `n${i}-${attempt}`);
      try {
        return await startRedisServer({
          port: await pickPort(),
          dir,
          fsync: options.fsync ?? 'always',
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            // A replica whose master died a while ago still takes over (tests kill nodes freely).
            '--cluster-replica-validity-factor',
            '0',
            // Replicas sync at once instead of waiting 5 s for more replicas to share one transfer.
            '--repl-diskless-sync-delay',
            '0',
          ],
        });
      } catch (error) {
        if (attempt >= 3 || !portTaken(dir)) throw error;
      }
    }
  };
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startNode(i)));
  for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Whether the redis-server logging into `dir` stopped because a port of its was in use. */
function portTaken(dir: string): boolean {
  try {
    return /Address already in use/i.test(readFileSync(join(dir, 'redis.log'), 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Joins `servers` into one cluster, as `redis-cli --cluster create` does but without its
 * one-second sleeps (1-2 s a cluster, and the cluster pass starts one per file): a config epoch
 * each, the first `masters` servers take the slots in equal ranges, each meets every other, and
 * once every node knows every other, each of the rest replicates a master in turn.
 */
async function createCluster(servers: readonly RedisServer[], masters: number): Promise<void> {
  const ids = await Promise.all(servers.map((s) => ask(s.port, (r) => r.cluster('MYID'))));
  await Promise.all(
    servers.map((s, i) =>
      ask(s.port, async (r) => {
        await r.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
        if (i < masters) {
          const from = Math.floor((i * 16384) / masters);
          const to = Math.floor(((i + 1) * 16384) / masters) - 1;
          await r.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
        }
      }),
    ),
  );
  // Each meets every other itself: no waiting for gossip to spread who is there.
  const meetOthers = (from: RedisServer) =>
    ask(from.port, async (r) => {
      for (const s of servers) if (s !== from) await r.call('CLUSTER', 'MEET', '127.0.0.1', String(s.port));
    });
  await Promise.all(servers.map(meetOthers));
  let lastMeet = Date.now();
  await waitFor(
    async () => {
      for (const s of servers) {
        const table = String(await ask(s.port, (r) => r.call('CLUSTER', 'NODES')));
        if (table.trim().split('\n').length !== servers.length || /handshake|noaddr/.test(table)) {
          // A handshake can be lost on a busy machine (a CI run timed out on one): every 2 s
          // without a full table, that node meets the others again.
          if (Date.now() - lastMeet > 2000) {
            lastMeet = Date.now();
            await meetOthers(s);
          }
          return false;
        }
      }
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 25, message: 'every Redis Cluster node to know every other' },
  );
  await Promise.all(
    servers
      .slice(masters)
      .map((s, k) => ask(s.port, (r) => r.call('CLUSTER', 'REPLICATE', ids[k % masters]!))),
  );
}

/** Waits until every live node says the cluster is ok with every slot, and every live replica is in sync. */
async function clusterHealthy(nodes: readonly ClusterNode[], timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      for (const node of nodes) {
        const info = await ask(node.server.port, (r) => r.cluster('INFO')).catch(() => undefined);
        if (info === undefined) continue; // a dead node: the others must say ok
        if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
        // A replica counts once it holds its master's data (a failover before that loses it all).
        const replication = await ask(node.server.port, (r) => r.info('replication')).catch(() => '');
        if (/role:slave/.test(replication) && !/master_link_status:up/.test(replication)) return false;
      }
      return true;
    },
    { timeoutMs, intervalMs: 100, message: 'the Redis Cluster to report every slot ok' },
  );
}

/** The node serving `key`'s slot as master now, as the first reachable node sees it. */
async function masterOf(nodes: readonly ClusterNode[], key: string): Promise<ClusterNode> {
  for (const node of nodes) {
    const found = await ask(node.server.port, async (r) => {
      const slot = Number(await r.cluster('KEYSLOT', key));
      const ranges = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number, string]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      return range?.[2][2];
    }).catch(() => undefined);
    const master = nodes.find((n) => n.id === found);
    if (master) return master;
  }
  throw new Error(`No reachable Redis Cluster node knows the master of "${key}"`);
}

/** One command against one node, on a short-lived plain connection. */
async function ask<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}
