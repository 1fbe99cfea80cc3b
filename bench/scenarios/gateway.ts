/**
 * `gateway`: N edges polling their configuration against one gateway process (Redis, a hub node,
 * mosquitto and an MQTT link with its downlink relay, each their own process as well).
 *
 * - config304PerSec: edges re-polling with `If-None-Match` (Basic auth, the answer 304) from 64
 *   keep-alive connections, as fast as they go, for the measured seconds;
 * - configLatencyMs: the same re-polls offered at 10,000 a second on a fixed schedule (open loop),
 *   latency from when each was due — the load generator shares the machine's cores;
 * - propagationMs: every edge long-polls (`?wait=60`); a `PUT` of the global edge configuration;
 *   per edge, from the PUT until its poll returns the new version;
 * - tunnelOpenMs: `POST /v1/edges/{id}/tunnels` until the `tunnel.open` command reaches the edge
 *   on its MQTT downlink topic (the simulated edge answers, and the tunnel is closed again),
 *   25 at a time, repeatedly.
 */
import mqtt from 'mqtt';
import { encodeCompact, uplinkTopic } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { type BenchCluster, startBenchCluster } from '../cluster.ts';
import { HUB_PASSWORD, HUB_USER, registeredFleet, startMqttHub } from '../fleet.ts';
import { httpClient, percentiles } from '../http-client.ts';
import type { Target } from '../report.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import {
  CONNECTIONS,
  configPolls,
  fetchEtags,
  gatewayLoopLag,
  type HttpClient,
  measureFlatOut,
  measurePaced,
  measurePropagation,
  TARGET_RATE,
} from './gateway-polls.ts';

const TUNNELS_AT_ONCE = 25;

export async function gatewayScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster();
  await cluster.startNode('node-1');
  await using mosquitto = await startMqttHub(cluster);

  // The fleet and the keys, written before the gateway opens its embedded database.
  const fleet = registeredFleet(cluster, o.edges);
  const gateway = await cluster.startGateway(
    ['--tunnel-ports', '40000-40999', '--tunnel-host', 'tunnels.example.com'],
    fleet.prepare,
  );
  const operatorKey = fleet.key();
  const http = httpClient(gateway.url, o.edges + CONNECTIONS);
  await using _http = { [Symbol.asyncDispose]: async () => http.close() };
  const polls = configPolls(http, fleet.ids);
  await fetchEtags(polls);

  // 1. Propagation of a global change to long-polling edges.
  const propagationMs = await measurePropagation(polls, http, operatorKey);
  // 2. Re-polls answered 304, as fast as 64 connections go; 2b. at the target rate, offered.
  const seconds = Math.max(1, Math.min(o.seconds, 30));
  const flatOut = await measureFlatOut(polls, seconds);
  const paced = await measurePaced(polls, gateway.url, seconds);
  const gatewayLoopLagMs = await gatewayLoopLag(http);
  // 3. Tunnels: POST until the open command reaches the edge over MQTT; the edge answers; close.
  const tunnelMs = await measureTunnelOpen({
    cluster,
    mqttUrl: mosquitto.url,
    http,
    operatorKey,
    ids: fleet.ids,
    seconds,
  });

  return gatewayReport(o, { propagationMs, flatOut, paced, gatewayLoopLagMs, tunnelMs });
}

/**
 * Rounds of TUNNELS_AT_ONCE tunnels: from each POST until its `tunnel.open` command reaches the
 * edge on its MQTT downlink topic (a simulated edge answers every command); each closed again.
 */
async function measureTunnelOpen(o: {
  cluster: BenchCluster;
  mqttUrl: string;
  http: HttpClient;
  operatorKey: string;
  ids: readonly string[];
  seconds: number;
}): Promise<number[]> {
  const { http, ids } = o;
  const auth = { authorization: `Bearer ${o.operatorKey}` };
  await using edgeSide = await answeringEdges(o.mqttUrl);
  const rounds = Math.max(4, Math.floor(o.seconds / 2));
  console.error(`bench gateway: ${rounds} rounds of ${TUNNELS_AT_ONCE} tunnels opened and closed…`);
  const tunnelMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const edges = Array.from(
      { length: TUNNELS_AT_ONCE },
      (_, k) => ids[(round * TUNNELS_AT_ONCE + k) % ids.length]!,
    );
    await Promise.all(
      edges.map(async (edgeId) => {
        const started = performance.now();
        const r = await http.send('POST', `/v1/edges/${edgeId}/tunnels`, {
          headers: auth,
          body: JSON.stringify({ services: ['ssh', 'camera', 'console'], ttlSeconds: 600 }),
        });
        if (r.status !== 202) throw new Error(`POST tunnel for ${edgeId}: ${r.status} ${r.body}`);
        const tunnelId = (JSON.parse(r.body) as { id: string }).id;
        tunnelMs.push((await edgeSide.reached(tunnelId)) - started);
        const closed = await http.send('DELETE', `/v1/edges/${edgeId}/tunnels/${tunnelId}`, {
          headers: auth,
        });
        if (closed.status !== 202) throw new Error(`DELETE tunnel: ${closed.status} ${closed.body}`);
      }),
    );
    process.stderr.write(`\r  round ${round + 1}/${rounds}`);
  }
  process.stderr.write('\n');
  // The ports all come back once the sink has followed every close.
  await waitFor(async () => (await o.cluster.bus.redis.hlen(o.cluster.bus.keyspace.ports)) === 0, {
    timeoutMs: 30_000,
    message: 'every tunnel port back in the pool',
  });
  return tunnelMs;
}

/** The edges' side of MQTT: answers every command, and tells when a tunnel's open command arrived. */
async function answeringEdges(url: string) {
  const edgeSide = await mqtt.connectAsync(url, {
    username: HUB_USER,
    password: HUB_PASSWORD,
    protocolVersion: 5,
  });
  // Arrival times by tunnel id: the command may reach the edge before the POST's answer is read.
  const reachedAt = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  edgeSide.on('message', (topic, payload) => {
    const command = JSON.parse(payload.toString()) as {
      id: string;
      type: string;
      args: { tunnelId?: string };
    };
    const edgeId = topic.split('/')[2]!;
    if (command.type === 'tunnel.open') {
      const tunnelId = command.args.tunnelId!;
      reachedAt.set(tunnelId, performance.now());
      waiting.get(tunnelId)?.(reachedAt.get(tunnelId)!);
    }
    // The simulated edge answers every command (the link takes results on its result topic).
    const result = encodeCompact({ kind: 'result', seq: 0, ts: Date.now(), id: command.id, ok: true });
    void edgeSide.publishAsync(uplinkTopic(edgeId, 'result'), Buffer.from(result), { qos: 1 });
  });
  await edgeSide.subscribeAsync('dh/v1/+/down', { qos: 1 });
  return {
    /** When the tunnel's open command reached the edge (performance.now()). */
    reached: async (tunnelId: string) =>
      reachedAt.get(tunnelId) ?? (await new Promise<number>((resolve) => waiting.set(tunnelId, resolve))),
    [Symbol.asyncDispose]: () => edgeSide.endAsync(),
  };
}

interface GatewayMeasures {
  propagationMs: ReturnType<typeof percentiles>;
  flatOut: Awaited<ReturnType<typeof measureFlatOut>>;
  paced: Awaited<ReturnType<typeof measurePaced>>;
  gatewayLoopLagMs: { p99: number; max: number };
  tunnelMs: number[];
}

function gatewayReport(o: ScenarioOptions, m: GatewayMeasures): ScenarioResult {
  const { propagationMs, gatewayLoopLagMs, tunnelMs } = m;
  const { config304PerSec, saturatedLatencyMs, not304, perSecond } = m.flatOut;
  const { configLatencyMs, p99BySecond, pacedErrors } = m.paced;
  const tunnelOpenMs = percentiles(tunnelMs);
  const result = {
    edges: o.edges,
    config304PerSec,
    configLatencyMs: { p50: configLatencyMs.p50, p99: configLatencyMs.p99 },
    configLatencyAt: TARGET_RATE,
    saturatedLatencyMs: { p50: saturatedLatencyMs.p50, p99: saturatedLatencyMs.p99 },
    gatewayLoopLagMs,
    not304: not304 + pacedErrors,
    propagationMs: { p50: propagationMs.p50, p99: propagationMs.p99, max: propagationMs.max },
    tunnelOpenMs: { p50: tunnelOpenMs.p50, p99: tunnelOpenMs.p99, max: tunnelOpenMs.max },
    tunnels: tunnelMs.length,
  };
  const x = perSecond.map((_, i) => i + 1);
  return {
    result,
    targets: gatewayTargets(o, { config304PerSec, configLatencyMs, propagationMs, tunnelOpenMs }),
    plot: {
      xLabel: 'second of the re-poll phase',
      x,
      charts: [
        { label: 'config 304/s, flat out', values: perSecond.map((n, i) => n - (perSecond[i - 1] ?? 0)) },
        {
          label: `p99 ms at ${TARGET_RATE}/s offered`,
          values: x.map((_, i) => p99BySecond[i] ?? 0),
        },
      ],
    },
  };
}

type Percentiles = ReturnType<typeof percentiles>;

function gatewayTargets(
  o: ScenarioOptions,
  m: {
    config304PerSec: number;
    configLatencyMs: { p50: number; p99: number };
    propagationMs: Percentiles;
    tunnelOpenMs: Percentiles;
  },
): Target[] {
  const { config304PerSec, configLatencyMs, propagationMs, tunnelOpenMs } = m;
  return [
    {
      metric: `config 304/s (${CONNECTIONS} connections, flat out)`,
      value: config304PerSec,
      target: '≥ 10,000',
      met: config304PerSec >= 10_000,
    },
    {
      metric: `config latency at ${TARGET_RATE}/s p50 (ms)`,
      value: configLatencyMs.p50,
      target: '—',
      met: true,
    },
    {
      metric: `config latency at ${TARGET_RATE}/s p99 (ms)`,
      value: configLatencyMs.p99,
      target: '< 10',
      met: configLatencyMs.p99 < 10,
    },
    { metric: `propagation to ${o.edges} edges p50 (ms)`, value: propagationMs.p50, target: '—', met: true },
    {
      metric: `propagation to ${o.edges} edges p99 (ms)`,
      value: propagationMs.p99,
      target: '< 5,000',
      met: propagationMs.p99 < 5000,
    },
    { metric: 'tunnel open → edge p50 (ms)', value: tunnelOpenMs.p50, target: '—', met: true },
    {
      metric: 'tunnel open → edge p99 (ms)',
      value: tunnelOpenMs.p99,
      target: '< 500',
      met: tunnelOpenMs.p99 < 500,
    },
  ];
}
