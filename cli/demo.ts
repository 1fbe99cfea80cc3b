/**
 * `npm start` / `devicehub demo`: a local cluster on this machine — Redis (spawned from the
 * installed binary, data under ./.devicehub/, unless REDIS_URL is set), two hub nodes and
 * 1,000 simulated edges at the legacy rate with occasional alarms — and a live table.
 * Ctrl-C stops everything cleanly (the nodes hand their shards off first).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Histogram, histogramDelta, liveMembers, type NodeStats, readNodeStats } from '../actors/mod.ts';
import { spawnLoadGenerator } from '../bench/mod.ts';
import { connectRedis, createKeyspace, readDeadLetters } from '../bus/mod.ts';
import { type HubProcess, type RedisServer, spawnHubNode, startRedisServer } from '../infra/mod.ts';

export const demoHelp = `devicehub demo [--edges N] [--nodes N]

  --edges N   simulated edges (default 1000)
  --nodes N   hub nodes (default 2)
Uses REDIS_URL when set; otherwise starts redis-server with its data in ./.devicehub/redis.`;

export async function demoCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { edges: { type: 'string', default: '1000' }, nodes: { type: 'string', default: '2' } },
  });
  const edges = Number(values.edges);
  const nodeCount = Number(values.nodes);
  if (!Number.isInteger(edges) || edges < 1)
    throw new RangeError(`--edges must be a positive integer, got ${values.edges}`);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 16)
    throw new RangeError(`--nodes must be 1..16, got ${values.nodes}`);

  let server: RedisServer | undefined;
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const dir = resolve('.devicehub/redis');
    mkdirSync(dir, { recursive: true });
    server = await startRedisServer({ dir, fsync: 'everysec' });
    redisUrl = server.url;
  }
  const keyspace = createKeyspace({ prefix: 'demo' });
  const redis = connectRedis(redisUrl, { name: 'demo' });
  await redis.del(keyspace.nodeStats); // counters of an earlier demo run
  const nodes: HubProcess[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    nodes.push(
      spawnHubNode({
        redisUrl,
        nodeId: `hub-${i}`,
        prefix: keyspace.prefix,
        shards: keyspace.shards,
        logLevel: 'warn',
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.ready));
  const load = spawnLoadGenerator({ redisUrl, keyspace, edges, seconds: 365 * 24 * 3600, alarmRate: 0.0005 });
  const started = Date.now();
  const sentAtStart = load.sent;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    process.stdout.write('\nstopping: load generator, hub nodes (handing shards off), Redis…\n');
    load.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    redis.disconnect();
    await server?.stop();
    process.stdout.write('stopped.\n');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  let previous = new Map<string, NodeStats>();
  const render = async () => {
    const [stats, members, letters] = await Promise.all([
      readNodeStats(redis, keyspace),
      liveMembers(redis, keyspace),
      readDeadLetters(redis, keyspace, 1000),
    ]);
    const lines: string[] = [];
    let handledTotal = 0;
    let rate = 0;
    const latency = new Histogram();
    lines.push('node      state   shards  actors   msg/s   p99 ms   handled     rss MB');
    for (const s of stats) {
      const before = previous.get(s.node);
      const perSec =
        before && before.pid === s.pid
          ? ((s.handled - before.handled) * 1000) / Math.max(1, s.at - before.at)
          : 0;
      const window = Histogram.from(
        histogramDelta(s.latencyMs, before?.pid === s.pid ? before.latencyMs : undefined),
      );
      latency.merge(window.toJSON());
      handledTotal += s.handled;
      const live = members.includes(s.node);
      if (live) rate += perSec;
      lines.push(
        `${s.node.padEnd(9)} ${(live ? 'up' : 'down').padEnd(7)} ${String(s.shards).padStart(6)} ${String(s.actors).padStart(7)} ${perSec.toFixed(0).padStart(7)} ${window.quantile(0.99).toFixed(1).padStart(8)} ${String(s.handled).padStart(10)} ${(s.rssBytes / 2 ** 20).toFixed(0).padStart(10)}`,
      );
    }
    previous = new Map(stats.map((s) => [s.node, s]));
    const lag = Math.max(0, load.sent - sentAtStart - handledTotal);
    const header = [
      `DeviceHub demo — ${edges.toLocaleString('en')} simulated edges, ${members.length} hub node(s), Redis ${redisUrl}`,
      `up ${((Date.now() - started) / 1000).toFixed(0)} s · sent ${load.sent.toLocaleString('en')} · handled ${rate.toFixed(0)} msg/s · mailbox lag ≈ ${lag.toLocaleString('en')} msgs · p99 ${latency.quantile(0.99).toFixed(1)} ms · dead letters ${letters.length}`,
      '',
    ];
    process.stdout.write(
      `\x1b[2J\x1b[H${[...header, ...lines, '', 'Ctrl-C stops everything.'].join('\n')}\n`,
    );
  };
  const timer = setInterval(() => void render().catch(() => {}), 1000);
}
