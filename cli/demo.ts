/**
 * `npm start` / `devicehub demo`: a local cluster on this machine — Redis (spawned from the
 * installed binary, data under ./.devicehub/, unless REDIS_URL is set), two hub nodes, mosquitto
 * with 1,000 simulated edges (each its own connection and password, compact format, 20× real
 * time, an alarm storm every minute) and the hub's MQTT link, the gateway (HTTP API on :8080,
 * embedded PGlite, an admin key in ./.devicehub/admin-key) — and a live table. Without
 * mosquitto the edges write into their mailboxes directly, at the legacy rate.
 * Ctrl-C stops everything cleanly (the nodes hand their shards off first).
 * Each process, and each part running in the demo's own (gateway, MQTT link, downlink relay,
 * simulator, remote-access edge), appends its pino JSON lines to ./.devicehub/logs/<name>.log.
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Histogram, histogramDelta, liveMembers, type NodeStats, readNodeStats } from '../actors/mod.ts';
import { spawnLoadGenerator } from '../bench/mod.ts';
import { connectRedis, createKeyspace, type Keyspace, readDeadLetters } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import {
  DownlinkRelay,
  MqttLink,
  mqttDownlink,
  Simulator,
  simulatedEdgeId,
  simulatedPassword,
} from '../edge/mod.ts';
import type { BrokerAdminOptions } from '../gateway/mod.ts';
import {
  type HubProcess,
  type MosquittoServer,
  ownChildProcesses,
  type RedisServer,
  spawnHubNode,
  startMosquitto,
  startRedisServer,
  stopDescendants,
} from '../infra/mod.ts';
import { startDemoGateway } from './demo-gateway.ts';
import { REMOTE_EDGE, type RemoteEdge, startRemoteEdge } from './demo-remote-edge.ts';
import { logFile, processLogger } from './logger.ts';

export const demoHelp = `devicehub demo [--edges N] [--nodes N]

  --edges N   simulated edges (default 1000)
  --nodes N   hub nodes (default 2)
Uses REDIS_URL when set; otherwise starts redis-server with its data in ./.devicehub/redis.
Logs: ./.devicehub/logs/<process>.log (JSON lines; DH_LOG_LEVEL sets the level).`;

/** Where the demo's processes write their logs (one file each, appended to). */
const LOG_DIR = '.devicehub/logs';
const demoLogger = (name: string) => processLogger(name, {}, { file: logFile(LOG_DIR, name) });

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

  // Finished, failed or interrupted, nothing is left behind: Redis and the hub nodes get process
  // groups of their own (Ctrl-C reaches only the demo, which stops the hub nodes before Redis),
  // and whatever still runs when the demo exits is killed. Interrupted while starting, it stops
  // what has started (SIGTERM, then SIGKILL after 5 s) and exits.
  ownChildProcesses();
  const log = demoLogger('demo');
  log.info({ edges, nodes: nodeCount, logs: resolve(LOG_DIR) }, 'demo starting');
  let up = false;
  const interruptStart = (signal: NodeJS.Signals) => {
    if (up) return;
    process.stdout.write(`\n${signal} while starting: stopping what has started…\n`);
    void stopDescendants(5000).finally(() => process.exit(1));
  };
  process.once('SIGINT', interruptStart);
  process.once('SIGTERM', interruptStart);
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
  redis.on('error', () => {}); // reconnects by itself; the table shows what matters
  await redis.del(keyspace.nodeStats); // counters of an earlier demo run
  const nodes: HubProcess[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    nodes.push(
      spawnHubNode({
        redisUrl,
        nodeId: `hub-${i}`,
        prefix: keyspace.prefix,
        shards: keyspace.shards,
        logLevel: process.env.DH_LOG_LEVEL ?? 'info',
        logFile: logFile(LOG_DIR, `hub-${i}`),
      }),
    );
  }
  await Promise.all(nodes.map((n) => n.ready));
  // Edges through a real broker when mosquitto is installed (it is, after `npm start`'s
  // provisioning); otherwise straight into the mailboxes.
  const source = await startEdgeSource({ redisUrl, keyspace, edges });
  // The HTTP API over the same fleet (embedded PGlite); the demo runs on without it if it fails.
  const gateway = await startDemoGateway({
    redis,
    keyspace,
    edges,
    remote: source.remote,
    broker: source.broker,
    logger: demoLogger('gateway'),
  }).catch((error: unknown) => {
    log.error({ err: error }, 'gateway not started');
    process.stderr.write(`gateway not started: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  });
  const started = Date.now();

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    process.stdout.write('\nstopping: edges, hub nodes (handing shards off), Redis…\n');
    // Ctrl-C reaches the broker and the edges' helpers too (Redis and the hub nodes have process
    // groups of their own), so some may be gone already: each step gets a few seconds, then the
    // demo moves on, and kills at the end whatever did not stop.
    const step = async (name: string, run: () => Promise<unknown>) => {
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
      const outcome = await Promise.race([run().catch(() => 'failed'), timeout]);
      if (outcome === 'timeout' || outcome === 'failed') {
        log.warn({ step: name, outcome }, 'stop step did not finish; going on');
        process.stdout.write(`  ${name}: ${outcome}, going on\n`);
      }
    };
    await step('edges', () => source.stop());
    await step('gateway', async () => gateway?.stop());
    await step('hub nodes', () => Promise.all(nodes.map((n) => n.stop())));
    redis.disconnect();
    await step('Redis', async () => server?.stop());
    // Whatever did not stop in time (a step that timed out) is killed now.
    const killed = await stopDescendants(1000);
    if (killed.length > 0)
      process.stdout.write(
        `  killed what did not stop in time: ${killed.map((p) => p.command.slice(0, 60)).join('; ')}\n`,
      );
    log.info('demo stopped');
    process.stdout.write('stopped.\n');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  up = true;

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
    const lag = Math.max(0, source.sent() - handledTotal);
    const header = [
      `DeviceHub demo — ${edges.toLocaleString('en')} simulated edges, ${members.length} hub node(s), Redis ${redisUrl}`,
      `up ${((Date.now() - started) / 1000).toFixed(0)} s · ${source.describe()} · sent ${source.sent().toLocaleString('en')} · handled ${rate.toFixed(0)} msg/s · mailbox lag ≈ ${lag.toLocaleString('en')} msgs · p99 ${latency.quantile(0.99).toFixed(1)} ms · dead letters ${letters.length}`,
      gateway
        ? `dashboard ${gateway.url}/ui/#key=${gateway.adminKey} · API ${gateway.url}/v1/docs (key in .devicehub/admin-key)${source.remote ? ` · edge ${REMOTE_EDGE} runs a real frpc and sshd: open a remote connection to it from the dashboard` : ''}`
        : 'gateway: not running',
      `logs ${LOG_DIR}/ (demo, gateway, link-mqtt, downlink, simulator, remote-edge, hub-N)`,
      '',
    ];
    process.stdout.write(
      `\x1b[2J\x1b[H${[...header, ...lines, '', 'Ctrl-C stops everything.'].join('\n')}\n`,
    );
  };
  const timer = setInterval(() => void render().catch(() => {}), 1000);
}

interface EdgeSource {
  sent(): number;
  describe(): string;
  /** The remote-access edge, when it started. */
  readonly remote?: RemoteEdge;
  /** The broker's admin, for the gateway to register edges on it (none without mosquitto). */
  readonly broker?: BrokerAdminOptions;
  stop(): Promise<void>;
}

async function startEdgeSource(o: {
  redisUrl: string;
  keyspace: Keyspace;
  edges: number;
}): Promise<EdgeSource> {
  const users: Record<string, string> = {
    [LINK_USER]: randomBytes(12).toString('hex'),
    [REMOTE_EDGE]: randomBytes(12).toString('hex'),
  };
  for (let i = 0; i < o.edges; i++) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
  let broker: MosquittoServer;
  try {
    broker = await startMosquitto({ users });
  } catch {
    const load = spawnLoadGenerator({
      redisUrl: o.redisUrl,
      keyspace: o.keyspace,
      edges: o.edges,
      seconds: 365 * 24 * 3600,
      alarmRate: 0.0005,
    });
    return {
      sent: () => load.sent,
      describe: () =>
        'no mosquitto (`sh infra/provision.sh` as root installs it): edges write to their mailboxes directly',
      stop: async () => load.stop(),
    };
  }
  const redis = connectRedis(o.redisUrl, { name: 'demo-link' });
  redis.on('error', () => {});
  const link = await new MqttLink({
    url: broker.url,
    username: LINK_USER,
    password: users[LINK_USER]!,
    redis,
    keyspace: o.keyspace,
    logger: demoLogger('link-mqtt'),
  }).start();
  const sim = await new Simulator({
    url: broker.url,
    edges: o.edges,
    password: simulatedPassword,
    speed: 20,
  }).start();
  // The simulator logs nothing itself: its counters, once a minute, with each alarm storm.
  const simLog = demoLogger('simulator');
  simLog.info({ edges: o.edges, url: broker.url, speed: 20 }, 'simulator started');
  const storms = setInterval(() => {
    sim.alarmStorm();
    simLog.info({ ...sim.stats }, 'alarm storm');
  }, 60_000);
  // Commands (tunnels) go back to the edges over MQTT.
  const relay = await new DownlinkRelay({
    redis,
    keyspace: o.keyspace,
    sender: await mqttDownlink({ url: broker.url, username: LINK_USER, password: users[LINK_USER]! }),
    logger: demoLogger('downlink'),
  }).start();
  const remote = await startRemoteEdge({
    brokerUrl: broker.url,
    password: users[REMOTE_EDGE]!,
    logFile: logFile(LOG_DIR, 'remote-edge'),
  }).catch((error: unknown) => {
    process.stderr.write(
      `remote-access edge not started (${error instanceof Error ? error.message : String(error)})\n`,
    );
    return undefined;
  });
  return {
    sent: () => link.stats.enqueued,
    describe: () =>
      `mosquitto ${broker.url}: ${sim.stats.connected} edges connected, ${sim.stats.alarmsRaised} storm alarms`,
    remote,
    broker: { url: broker.url, ...broker.admin },
    async stop() {
      clearInterval(storms);
      await remote?.stop();
      await relay.stop();
      await sim.stop();
      await link.stop();
      redis.disconnect();
      await broker.stop();
    },
  };
}
