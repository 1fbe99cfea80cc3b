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
import { encodeCompact, simulatedPassword, uplinkTopic } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { startBenchCluster } from '../cluster.ts';
import { HUB_PASSWORD, HUB_USER, registeredFleet, startMqttHub } from '../fleet.ts';
import { httpClient, percentiles } from '../http-client.ts';
import type { Target } from '../report.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { sleep } from './common.ts';

const CONNECTIONS = 64;
const TUNNELS_AT_ONCE = 25;
const TARGET_RATE = 10_000;

export async function gatewayScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  await using cluster = await startBenchCluster();
  await cluster.startNode('node-1');
  await using mosquitto = await startMqttHub(cluster);

  // The fleet and the keys, written before the gateway opens its embedded database.
  const fleet = registeredFleet(cluster, o.edges);
  const ids = fleet.ids;
  const gateway = await cluster.startGateway(
    ['--tunnel-ports', '40000-40999', '--tunnel-host', 'tunnels.example.com'],
    fleet.prepare,
  );
  const operatorKey = fleet.key();
  const http = httpClient(gateway.url, o.edges + CONNECTIONS);
  await using _http = { [Symbol.asyncDispose]: async () => http.close() };
  const basic = new Map(
    ids.map((id) => [id, `Basic ${Buffer.from(`${id}:${simulatedPassword(id)}`).toString('base64')}`]),
  );
  const configOf = (id: string, etag?: string, wait?: number) =>
    http.send('GET', `/v1/config/edge/${id}${wait ? `?wait=${wait}` : ''}`, {
      authorization: basic.get(id)!,
      ...(etag ? { 'if-none-match': etag } : {}),
    });

  // Every edge fetches its configuration once (its ETag; the gateway's auth cache warms).
  const etags = new Map<string, string>();
  for (let i = 0; i < ids.length; i += CONNECTIONS) {
    await Promise.all(
      ids.slice(i, i + CONNECTIONS).map(async (id) => {
        const r = await configOf(id);
        if (r.status !== 200) throw new Error(`GET config of ${id}: ${r.status} ${r.body}`);
        etags.set(id, String(r.headers.etag));
      }),
    );
  }

  // 1. Propagation: every edge long-polls; one PUT; until each holds the new version. (First:
  // it also opens a keep-alive connection per edge, which the re-polls below reuse.)
  console.error(`bench gateway: ${o.edges} long-polls, then a global configuration change…`);
  let putAt = 0;
  const arrived: number[] = [];
  const polls = ids.map(async (id) => {
    for (;;) {
      const r = await configOf(id, etags.get(id), 60);
      if (r.status === 200) {
        arrived.push(performance.now() - putAt);
        etags.set(id, String(r.headers.etag));
        return;
      }
      if (r.status !== 304) throw new Error(`long-poll of ${id}: ${r.status} ${r.body}`);
    }
  });
  await sleep(Math.min(10_000, 2000 + o.edges)); // let every poll arrive and wait
  putAt = performance.now();
  const put = await http.send(
    'PUT',
    '/v1/config/edge/global',
    { authorization: `Bearer ${operatorKey}` },
    JSON.stringify({ pollSeconds: 45 }),
  );
  if (put.status !== 200) throw new Error(`PUT global config: ${put.status} ${put.body}`);
  await Promise.all(polls);
  const propagationMs = percentiles(arrived);
  // 2. Re-polls answered 304, as fast as 64 connections go.
  const seconds = Math.max(1, Math.min(o.seconds, 30));
  console.error(`bench gateway: ${o.edges} edges re-polling for ${seconds} s…`);
  const latencies: number[] = [];
  const perSecond: number[] = [];
  let answered = 0;
  let not304 = 0;
  const end = Date.now() + seconds * 1000;
  const ticker = setInterval(() => {
    perSecond.push(answered);
    process.stderr.write(
      `\r  ${perSecond.length}/${seconds} s  ${answered - (perSecond.at(-2) ?? 0)} req/s   `,
    );
  }, 1000);
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, w) => {
      for (let i = w; Date.now() < end; i = (i + CONNECTIONS) % ids.length) {
        const id = ids[i]!;
        const started = performance.now();
        const r = await configOf(id, etags.get(id));
        latencies.push(performance.now() - started);
        answered++;
        if (r.status !== 304) not304++;
      }
    }),
  );
  clearInterval(ticker);
  process.stderr.write('\n');
  const config304PerSec = Math.round(answered / seconds);
  const saturatedLatencyMs = percentiles(latencies);

  // 2b. Latency at the target rate: 10,000 re-polls a second offered on a fixed schedule (an
  // open loop: a slow answer does not slow the offer down, so queueing shows in the latency).
  console.error(`bench gateway: ${TARGET_RATE} re-polls/s offered for ${seconds} s…`);
  const paced: number[] = [];
  const pacedBySecond: number[][] = [];
  let pacedErrors = 0;
  let outstanding = 0;
  const startedAt = performance.now();
  for (let tick = 0, i = 0; tick < seconds * 500; tick++) {
    const due = startedAt + tick * 2;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    for (let k = 0; k < TARGET_RATE / 500; k++, i = (i + 1) % ids.length) {
      const id = ids[i]!;
      outstanding++;
      // Settled before counted down, so the wait below sees every latency recorded.
      void configOf(id, etags.get(id))
        .then(
          (r) => {
            // From when it was due, not when the loop got round to it.
            const ms = performance.now() - due;
            paced.push(ms);
            const second = Math.floor(tick / 500);
            const bucket = pacedBySecond[second] ?? [];
            bucket.push(ms);
            pacedBySecond[second] = bucket;
            if (r.status !== 304) pacedErrors++;
          },
          () => void pacedErrors++,
        )
        .finally(() => void outstanding--);
    }
    if (tick % 500 === 499) process.stderr.write(`\r  ${(tick + 1) / 500}/${seconds} s`);
  }
  while (outstanding > 0) await sleep(10);
  process.stderr.write('\n');
  const configLatencyMs = percentiles(paced);
  // The gateway's own event-loop lag over the run (prom-client's default metrics): how much of
  // the tail is the gateway's and how much the load generator's, which shares the cores.
  const metrics = (await http.send('GET', '/metrics')).body;
  const metric = (name: string) =>
    Number(
      new RegExp(`^devicehub_gateway_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(metrics)?.[1] ??
        NaN,
    ) * 1000;
  const gatewayLoopLagMs = {
    p99: Math.round(metric('p99') * 10) / 10,
    max: Math.round(metric('max') * 10) / 10,
  };

  // 3. Tunnels: POST until the open command reaches the edge over MQTT; the edge answers; close.
  const edgeSide = await mqtt.connectAsync(mosquitto.url, {
    username: HUB_USER,
    password: HUB_PASSWORD,
    protocolVersion: 5,
  });
  await using _edgeSide = { [Symbol.asyncDispose]: () => edgeSide.endAsync() };
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
  const rounds = Math.max(4, Math.floor(seconds / 2));
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
        const r = await http.send(
          'POST',
          `/v1/edges/${edgeId}/tunnels`,
          { authorization: `Bearer ${operatorKey}` },
          JSON.stringify({ services: ['ssh', 'camera', 'console'], ttlSeconds: 600 }),
        );
        if (r.status !== 202) throw new Error(`POST tunnel for ${edgeId}: ${r.status} ${r.body}`);
        const tunnelId = (JSON.parse(r.body) as { id: string }).id;
        const at =
          reachedAt.get(tunnelId) ?? (await new Promise<number>((resolve) => waiting.set(tunnelId, resolve)));
        tunnelMs.push(at - started);
        const closed = await http.send('DELETE', `/v1/edges/${edgeId}/tunnels/${tunnelId}`, {
          authorization: `Bearer ${operatorKey}`,
        });
        if (closed.status !== 202) throw new Error(`DELETE tunnel: ${closed.status} ${closed.body}`);
      }),
    );
    process.stderr.write(`\r  round ${round + 1}/${rounds}`);
  }
  process.stderr.write('\n');
  // The ports all come back once the sink has followed every close.
  await waitFor(async () => (await cluster.redis.hlen(cluster.keyspace.ports)) === 0, {
    timeoutMs: 30_000,
    message: 'every tunnel port back in the pool',
  });
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
  const targets: Target[] = [
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
  const x = perSecond.map((_, i) => i + 1);
  return {
    result,
    targets,
    plot: {
      xLabel: 'second of the re-poll phase',
      x,
      charts: [
        { label: 'config 304/s, flat out', values: perSecond.map((n, i) => n - (perSecond[i - 1] ?? 0)) },
        {
          label: `p99 ms at ${TARGET_RATE}/s offered`,
          values: x.map((_, i) => percentiles(pacedBySecond[i] ?? []).p99),
        },
      ],
    },
  };
}
