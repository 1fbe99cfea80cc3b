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
import { connectVia } from '../../gateway/mod.ts';
import { type FrpsServer, startFrps, waitFor } from '../../infra/mod.ts';
import { type BenchCluster, startBenchCluster } from '../cluster.ts';
import { registeredFleet, startMqttHub } from '../fleet.ts';
import { httpClient, percentiles } from '../http-client.ts';
import type { Target } from '../report.ts';
import { type ScenarioOptions, type ScenarioResult, sleep } from './common.ts';
import type { HttpClient } from './gateway-polls.ts';
import { startEdgeAgents, startEdgeService } from './tunnel-edges.ts';

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
  await using service = await startEdgeService();

  const fleet = registeredFleet(cluster, o.edges);
  const gateway = await cluster.startGateway(
    ['--tunnel-server', frps.address, '--tunnel-mux', `${frps.tcpmuxPort}:tunnels.bench`],
    fleet.prepare,
  );
  const http = httpClient(gateway.url, operators * 2);
  await using _http = { [Symbol.asyncDispose]: async () => http.close() };
  await using agents = await startEdgeAgents(mosquitto.url, service.target, TOKEN);

  // Watch frps and the pool while the operators work.
  const watch = watchFrps(cluster, frps, o.seconds);
  console.error(
    `bench tunnel: ${operators} operators opening and closing tunnels to ${o.edges} edges for ${o.seconds} s…`,
  );
  const run = await runOperators({
    operators,
    ids: fleet.ids,
    http,
    operatorKey: fleet.key(),
    frps,
    o,
    watch,
  });
  watch.stopTicker();
  process.stderr.write('\n');
  // Every tunnel closed: frpc gone, no client left at frps.
  await waitFor(
    async () => agents.executor.openTunnels.length === 0 && (await frps.info()).clientCounts === 0,
    {
      timeoutMs: 30_000,
      message: 'every frpc to exit and leave frps',
    },
  ).catch(() => {});
  watch.stop();
  const idle = (await frps.info()).clientCounts;
  return tunnelReport(o, { operators, ...run, idle, ...watch.peaks(), perSecond: watch.perSecond });
}

type FrpsWatch = ReturnType<typeof watchFrps>;

/** Peaks of frps's clients and of the pool's ports (every 250 ms), and a progress line a second. */
function watchFrps(cluster: BenchCluster, frps: FrpsServer, seconds: number) {
  let peakClients = 0;
  let peakPoolPorts = 0;
  let opened = 0;
  const perSecond: { opened: number; clients: number }[] = [];
  const watch = setInterval(async () => {
    const [info, pool] = await Promise.all([frps.info(), cluster.bus.redis.hlen(cluster.bus.keyspace.ports)]);
    peakClients = Math.max(peakClients, info.clientCounts);
    peakPoolPorts = Math.max(peakPoolPorts, pool);
  }, 250);
  const ticker = setInterval(async () => {
    perSecond.push({ opened, clients: (await frps.info()).clientCounts });
    process.stderr.write(
      `\r  ${perSecond.length}/${seconds} s  tunnels opened ${opened}  frp clients ${perSecond.at(-1)!.clients}   `,
    );
  }, 1000);
  return {
    perSecond,
    countOpened: () => void opened++,
    stopTicker: () => clearInterval(ticker),
    stop: () => clearInterval(watch),
    peaks: () => ({ peakClients, peakPoolPorts }),
  };
}

/** The operators, each opening a tunnel to one edge after another, reaching it and closing it. */
async function runOperators(r: {
  operators: number;
  ids: readonly string[];
  http: HttpClient;
  operatorKey: string;
  frps: FrpsServer;
  o: ScenarioOptions;
  watch: FrpsWatch;
}) {
  const { ids, http } = r;
  const auth = { authorization: `Bearer ${r.operatorKey}` };
  const reachMs: number[] = [];
  const failures: string[] = [];
  let opened = 0;
  let next = 0;
  const end = Date.now() + r.o.seconds * 1000;
  await Promise.all(
    Array.from({ length: r.operators }, async () => {
      while (Date.now() < end) {
        const edgeId = ids[next++ % ids.length]!;
        const started = performance.now();
        const answer = await http.send('POST', `/v1/edges/${edgeId}/tunnels`, {
          headers: auth,
          body: JSON.stringify({ services: ['ssh'], ttlSeconds: 600 }),
        });
        if (answer.status !== 202) {
          failures.push(`POST ${edgeId}: ${answer.status} ${answer.body}`);
          continue;
        }
        const tunnel = JSON.parse(answer.body) as {
          id: string;
          secret: string;
          services: { host: string }[];
        };
        await untilReachable(r.frps, tunnel, { started, failures });
        reachMs.push(performance.now() - started);
        opened++;
        r.watch.countOpened();
        await http.send('DELETE', `/v1/edges/${edgeId}/tunnels/${tunnel.id}`, { headers: auth });
      }
    }),
  );
  return { reachMs, failures, opened };
}

/** Reachable: frps routes the name to the edge's frpc and the service answers (30 s at most). */
async function untilReachable(
  frps: FrpsServer,
  tunnel: { id: string; secret: string; services: { host: string }[] },
  clock: { started: number; failures: string[] },
): Promise<void> {
  const { started, failures } = clock;
  const host = tunnel.services[0]!.host;
  for (;;) {
    const answer = await connectVia({ host: '127.0.0.1', port: frps.tcpmuxPort! }, `${host}:22`, {
      timeoutMs: 2000,
      auth: { tunnelId: tunnel.id, secret: tunnel.secret },
    }).then(
      async (socket) => {
        socket.write('GET / HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n');
        let text = '';
        for await (const chunk of socket) text += String(chunk);
        return text;
      },
      () => '',
    );
    if (answer.includes('edge service')) return;
    if (performance.now() - started > 30_000) {
      failures.push(`${tunnel.id}: not reachable in 30 s`);
      return;
    }
    await sleep(25);
  }
}

function tunnelReport(
  o: ScenarioOptions,
  m: {
    operators: number;
    reachMs: number[];
    failures: string[];
    opened: number;
    idle: number;
    peakClients: number;
    peakPoolPorts: number;
    perSecond: { opened: number; clients: number }[];
  },
): ScenarioResult {
  const { operators, failures, opened, idle, peakClients, perSecond } = m;
  const open = percentiles(m.reachMs);
  const publicPortsUsed = 2 + m.peakPoolPorts; // frps's bind port and its HTTP CONNECT port
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
