/**
 * `tunnel`: N registered edges, 25 operators each opening a tunnel to one edge after another,
 * reaching it, and closing it — with the real frp, multiplexed (frps's one HTTP CONNECT port).
 * Redis, a hub node, mosquitto, an MQTT link (with its downlink relay) and the gateway are their
 * own processes; this process plays the operators and the edges' agents (the agent's own tunnel
 * executor, one real frpc per open tunnel, answering commands from the MQTT downlink).
 *
 * openToReachableMs: from the POST until a connection through frps reaches the edge's service
 * (an HTTP answer from it); publicPortsUsed: frps's ports plus every remote port taken from the
 * pool at once (multiplexed: none); frpsConnections: frp clients connected to frps — at the peak,
 * and once every tunnel is closed (always-on frp today: one per edge, around the clock).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { TunnelExecutor } from '../../edge/agent/mod.ts';
import { encodeCompact, uplinkTopic } from '../../edge/mod.ts';
import { connectVia } from '../../gateway/mod.ts';
import { frpBinary, startFrps, waitFor } from '../../infra/mod.ts';
import { startBenchCluster } from '../cluster.ts';
import { HUB_PASSWORD, HUB_USER, registeredFleet, startMqttHub } from '../fleet.ts';
import { httpClient, percentiles } from '../http-client.ts';
import type { Target } from '../report.ts';
import { type ScenarioOptions, type ScenarioResult, sleep } from './common.ts';

const OPERATORS = 25;
const TOKEN = 'bench-frp-token';

export async function tunnelScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  // Operators take the edges in turn; with at least 10 edges each, an edge's tunnel is long closed
  // when its turn comes again (a tunnel still open would be answered 200, not opened anew).
  const operators = Math.max(1, Math.min(OPERATORS, Math.floor(o.edges / 10)));
  await using cluster = await startBenchCluster();
  await cluster.startNode('node-1');
  await using mosquitto = await startMqttHub(cluster);
  await using frps = await startFrps({ token: TOKEN, tcpmux: true });
  // The edges' services: one small HTTP server answers for all of them.
  const service = createServer((_req, res) => res.writeHead(200).end('edge service'));
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  await using _service = { [Symbol.asyncDispose]: () => new Promise<void>((r) => service.close(() => r())) };
  const target = `127.0.0.1:${(service.address() as AddressInfo).port}`;

  const fleet = registeredFleet(cluster, o.edges);
  const ids = fleet.ids;
  const gateway = await cluster.startGateway(
    ['--tunnel-server', frps.address, '--tunnel-mux', `${frps.tcpmuxPort}:tunnels.bench`],
    fleet.prepare,
  );
  const operatorKey = fleet.key();
  const http = httpClient(gateway.url, operators * 2);
  await using _http = { [Symbol.asyncDispose]: async () => http.close() };
  const auth = { authorization: `Bearer ${operatorKey}` };

  // The edges' agents: the real tunnel executor (one frpc per open tunnel), commands from MQTT.
  await using executor = new TunnelExecutor({
    edgeId: 'sim',
    frpc: frpBinary('frpc'),
    token: TOKEN,
    services: { ssh: target, camera: target, console: target },
    dir: mkdtempSync(join(tmpdir(), 'dh-bench-frpc-')),
  });
  const agents = await mqtt.connectAsync(mosquitto.url, {
    username: HUB_USER,
    password: HUB_PASSWORD,
    protocolVersion: 5,
  });
  await using _agents = { [Symbol.asyncDispose]: () => agents.endAsync() };
  agents.on('message', (topic, payload) => {
    const edgeId = topic.split('/')[2]!;
    const command = JSON.parse(payload.toString()) as {
      id: string;
      type: string;
      args: Record<string, unknown>;
      deadline: number;
    };
    const run = executor.executors[command.type];
    if (run === undefined) return;
    void run(command.args, AbortSignal.timeout(Math.max(1, command.deadline - Date.now())))
      .then(
        (result) => ({ ok: true, result }),
        (error: Error) => ({ ok: false, error: error.message }),
      )
      .then((outcome) => {
        const message = encodeCompact({ kind: 'result', seq: 0, ts: Date.now(), id: command.id, ...outcome });
        return agents.publishAsync(uplinkTopic(edgeId, 'result'), Buffer.from(message), { qos: 1 });
      });
  });
  await agents.subscribeAsync('dh/v1/+/down', { qos: 1 });

  // Watch frps and the pool while the operators work.
  let peakClients = 0;
  let peakPoolPorts = 0;
  const perSecond: { opened: number; clients: number }[] = [];
  let opened = 0;
  const watch = setInterval(async () => {
    const [info, pool] = await Promise.all([frps.info(), cluster.redis.hlen(cluster.keyspace.ports)]);
    peakClients = Math.max(peakClients, info.clientCounts);
    peakPoolPorts = Math.max(peakPoolPorts, pool);
  }, 250);
  const seconds = o.seconds;
  const ticker = setInterval(async () => {
    perSecond.push({ opened, clients: (await frps.info()).clientCounts });
    process.stderr.write(
      `\r  ${perSecond.length}/${seconds} s  tunnels opened ${opened}  frp clients ${perSecond.at(-1)!.clients}   `,
    );
  }, 1000);

  console.error(
    `bench tunnel: ${operators} operators opening and closing tunnels to ${o.edges} edges for ${seconds} s…`,
  );
  const reachMs: number[] = [];
  const failures: string[] = [];
  let next = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: operators }, async () => {
      while (Date.now() < end) {
        const edgeId = ids[next++ % ids.length]!;
        const started = performance.now();
        const r = await http.send(
          'POST',
          `/v1/edges/${edgeId}/tunnels`,
          auth,
          JSON.stringify({ services: ['ssh'], ttlSeconds: 600 }),
        );
        if (r.status !== 202) {
          failures.push(`POST ${edgeId}: ${r.status} ${r.body}`);
          continue;
        }
        const tunnel = JSON.parse(r.body) as { id: string; services: { host: string }[] };
        const host = tunnel.services[0]!.host;
        // Reachable: frps routes the name to the edge's frpc and the service answers.
        for (;;) {
          const answer = await connectVia(
            { host: '127.0.0.1', port: frps.tcpmuxPort! },
            `${host}:22`,
            2000,
          ).then(
            async (socket) => {
              socket.write('GET / HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n');
              let text = '';
              for await (const chunk of socket) text += String(chunk);
              return text;
            },
            () => '',
          );
          if (answer.includes('edge service')) break;
          if (performance.now() - started > 30_000) {
            failures.push(`${tunnel.id}: not reachable in 30 s`);
            break;
          }
          await sleep(25);
        }
        reachMs.push(performance.now() - started);
        opened++;
        await http.send('DELETE', `/v1/edges/${edgeId}/tunnels/${tunnel.id}`, auth);
      }
    }),
  );
  clearInterval(ticker);
  process.stderr.write('\n');
  // Every tunnel closed: frpc gone, no client left at frps.
  await waitFor(async () => executor.openTunnels.length === 0 && (await frps.info()).clientCounts === 0, {
    timeoutMs: 30_000,
    message: 'every frpc to exit and leave frps',
  }).catch(() => {});
  clearInterval(watch);
  const idle = (await frps.info()).clientCounts;
  const open = percentiles(reachMs);
  const publicPortsUsed = 2 + peakPoolPorts; // frps's bind port and its HTTP CONNECT port

  const result = {
    edges: o.edges,
    concurrentTunnels: operators,
    tunnelsOpened: opened,
    failures: failures.length,
    openToReachableMs: { p50: open.p50, p95: open.p95, max: open.max },
    publicPortsUsed,
    frpsConnectionsIdle: idle,
    frpsConnectionsPeak: peakClients,
  };
  if (failures.length > 0) console.error(failures.slice(0, 5).join('\n'));
  const targets: Target[] = [
    { metric: 'tunnels opened, reached and closed', value: opened, target: '—', met: opened > 0 },
    { metric: 'failures', value: failures.length, target: '0', met: failures.length === 0 },
    { metric: 'open → reachable p50 (ms)', value: open.p50, target: '—', met: true },
    { metric: 'open → reachable p95 (ms)', value: open.p95, target: '< 3,000', met: open.p95 < 3000 },
    { metric: 'open → reachable max (ms)', value: open.max, target: '—', met: true },
    {
      metric: 'public ports used (any number of tunnels)',
      value: publicPortsUsed,
      target: 'constant (2)',
      met: publicPortsUsed === 2,
    },
    { metric: 'frps connections, all closed', value: idle, target: '0', met: idle === 0 },
    {
      metric: `frps connections, peak (${operators} open at most)`,
      value: peakClients,
      target: `≤ ${operators}`,
      met: peakClients <= operators,
    },
  ];
  return {
    result,
    targets,
    plot: {
      xLabel: 'second',
      x: perSecond.map((_, i) => i + 1),
      charts: [
        {
          label: 'tunnels opened and reached per second',
          values: perSecond.map((p, i) => p.opened - (perSecond[i - 1]?.opened ?? 0)),
        },
        { label: 'frp clients connected to frps', values: perSecond.map((p) => p.clients) },
      ],
    },
  };
}
