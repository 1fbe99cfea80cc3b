/**
 * `devicehub node`: runs one hub node until SIGTERM/SIGINT, then hands its shards off.
 */

import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type ActorDefinition, nodeStatsToPrometheus, startHubNode } from '../actors/mod.ts';
import { connectRedis, openBus } from '../bus/mod.ts';
import { createEdgeActor, openPolicySource, rolloutActor } from '../edge/mod.ts';
import { clusterConfig, clusterFlags, intFlag } from './config.ts';
import { logShippingMetrics } from './log-shipping.ts';
import { processLogger } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';

export const nodeHelp = `devicehub node [options]     run a hub node (stops gracefully on SIGTERM/SIGINT:
                               hands its shards off within the lease time, else says which it still held)

  --redis URL          Redis URL (env REDIS_URL; required)
  --id ID              node id (env DH_NODE_ID; default node-<random>)
  --prefix P           key namespace (env DH_PREFIX; default dh)
  --shards N           shards in the cluster (env DH_SHARDS; default 1024; fixed for the cluster)
  --tag-groups N       Redis Cluster hash-tag groups (env DH_TAG_GROUPS; default 1)
  --lease-ms MS        lease / failure-detection time (env DH_LEASE_MS; default 1500)
  --tick-ms MS         heartbeat and placement period (env DH_TICK_MS; default 250)
  --turn-ms MS         shortest time between turns: batching vs latency (env DH_TURN_MS; default 20)
  --checkpoint-ms MS   longest wait before an actor's state is written (env DH_CHECKPOINT_MS; default 5000)
  --actors-module P    extra actor definitions: a module exporting \`actors\` (an array)
  --trace-resume       record each actor's first message after a takeover (benchmarks)
  --metrics-port N     serve Prometheus /metrics on this port (env DH_METRICS_PORT; default: none)
  --metrics-host H     ... on this address (env DH_METRICS_HOST; default 127.0.0.1)`;

export async function nodeCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...clusterFlags,
      id: { type: 'string' },
      'lease-ms': { type: 'string' },
      'tick-ms': { type: 'string' },
      'turn-ms': { type: 'string' },
      'checkpoint-ms': { type: 'string' },
      'actors-module': { type: 'string' },
      'trace-resume': { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
  });
  const config = clusterConfig(values);
  if (!config.redisUrl)
    throw new RangeError('Missing --redis / REDIS_URL: the hub node needs a Redis to work from');
  const log = processLogger('node');
  const redis = connectRedis(config.redisUrl, { name: `node:${values.id ?? 'anon'}` });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  // The alarm-clip and recognition policies the gateways write from the devicehub configuration, read every 5 s.
  const policies = await openPolicySource({ redis, keyspace: config.keyspace, logger: log });
  const edgeActor = createEdgeActor({ clipPolicy: policies.clips, recognitionPolicy: policies.recognition });
  const actors: ActorDefinition[] = [edgeActor as ActorDefinition, rolloutActor as ActorDefinition];
  if (values['actors-module']) {
    const mod = (await import(pathToFileURL(resolve(values['actors-module'])).href)) as {
      actors?: ActorDefinition[];
    };
    if (!Array.isArray(mod.actors))
      throw new TypeError(`--actors-module ${values['actors-module']} must export an array "actors"`);
    actors.push(...mod.actors);
  }
  const leaseMs = intFlag(values, { name: 'lease-ms', env: 'DH_LEASE_MS', fallback: 1500 });
  const bus = openBus({ redis, keyspace: config.keyspace });
  const node = await startHubNode({
    bus,
    actors,
    nodeId: values.id ?? process.env.DH_NODE_ID,
    logger: log,
    leaseMs,
    tickMs: intFlag(values, { name: 'tick-ms', env: 'DH_TICK_MS', fallback: 250 }),
    turnIntervalMs: intFlag(values, { name: 'turn-ms', env: 'DH_TURN_MS', fallback: 20 }),
    checkpointMs: intFlag(values, { name: 'checkpoint-ms', env: 'DH_CHECKPOINT_MS', fallback: 5000 }),
    // The failover benchmark's probe, injected: the node itself has no tracing branch.
    hooks: values['trace-resume'] === true ? (await import('../bench/mod.ts')).resumeTracer(bus) : undefined,
  });
  const metricsPort = intFlag(values, { name: 'metrics-port', env: 'DH_METRICS_PORT', fallback: 0 });
  const metrics =
    metricsPort > 0
      ? createServer((req, res) => {
          if (req.url !== '/metrics') return void res.writeHead(404).end();
          res
            .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
            .end(nodeStatsToPrometheus(node.stats()) + logShippingMetrics());
        }).listen(metricsPort, values['metrics-host'] ?? process.env.DH_METRICS_HOST ?? '127.0.0.1')
      : undefined;
  // The node bounds its own hand-off (the lease time) and says what it could not hand off; the
  // process deadline behind it only catches a step that never returns.
  stopOnSignals({
    log,
    timeoutMs: leaseMs + 5000,
    steps: [
      { name: 'closing /metrics', run: async () => void metrics?.close() },
      { name: 'handing shards off', run: async () => (await node.stopWithReport()).stillHeld.length === 0 },
      { name: 'closing the policies', run: () => policies.close() },
      { name: 'closing Redis', run: async () => void redis.disconnect() },
    ],
  });
  // A parent that spawned us with an IPC channel (tests, demo, benchmarks) learns we are up —
  // after the stop is wired, as it may signal at once.
  process.send?.({ ready: true, nodeId: node.id, shards: node.ownedShards.length });
}
