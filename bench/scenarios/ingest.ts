/**
 * `ingest`: the whole way in, each part its own process: the simulator (N edges, each its own
 * MQTT connection, or shared Kafka producers) → mosquitto or Kafka → hub link process(es) →
 * mailboxes in Redis → hub nodes → edge actors.
 *
 * Latency runs from the edge's send timestamp to handled (the links stamp entries with the
 * device's time; simulator and hub share this machine's clock). CPU per message counts every
 * hub process, links and nodes; the broker's is reported beside it. Lost and duplicated come
 * from the edges' own sequence numbers: what the broker acknowledged to each edge against what
 * its actor counted.
 *
 * With `tls` (MQTT): every edge has a certificate of a fresh fleet CA and the link its own, both
 * on the broker's mTLS listener, and every edge connects within the first second: `connectMs` is
 * how long until all of them were connected (the reconnect storm over TLS).
 */
import { join } from 'node:path';

import { LINK_USER } from '../../edge/broker/mod.ts';
import { simulatedEdgeId, simulatedPassword } from '../../edge/mod.ts';
import {
  type DevicehubProcess,
  nodeFlagsOf,
  spawnDevicehub,
  startKafka,
  startMosquitto,
  waitFor,
} from '../../infra/mod.ts';
import { startTestPki } from '../../infra/tls.ts';
import { type BenchCluster, reconcile, startBenchCluster } from '../cluster.ts';
import { type BracketedFloors, bracketFloors, floorRatio, measureFloors } from '../floors.ts';
import { Monitor, type Window, windowBetween } from '../monitor.ts';
import { processCpuMicros } from '../proc-cpu.ts';
import { redisCpuBetween, sampleRedisCpu } from '../redis-cpu.ts';
import type { Target } from '../report.ts';
import { drain, latencyTargets, type ScenarioOptions, type ScenarioResult, sleep } from './common.ts';

interface SimReport {
  t?: number;
  connected?: number;
  /** When every edge was first connected, from the simulator's start. */
  connectMs?: number;
  sent?: number;
  inFlight?: number;
  behindMs?: number;
  publishErrors?: number;
  done?: boolean;
  sentPerEdge?: number[];
}

export async function ingestScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const transport = o.transport ?? 'mqtt';
  const workload = o.workload ?? 'legacy';
  await using cluster = await startBenchCluster();
  // The floors on a quiet machine (floors.ts): the Redis work, and for MQTT the receive; before
  // the load and again after it (bracketFloors).
  const rate = o.edges * (workload === 'legacy' ? 1.3 : 0.04);
  const measureFloorsNow = () =>
    measureFloors({
      redisUrl: cluster.server.url,
      redisMessages: rate * o.seconds,
      mqtt:
        transport === 'mqtt'
          ? { ratePerSec: rate, seconds: Math.min(5, Math.max(1, Math.floor(o.seconds / 3))) }
          : false,
    });
  const floorsBefore = await measureFloorsNow();
  for (let i = 1; i <= o.nodes; i++) await cluster.startNode(`node-${i}`);
  await using broker = await startBroker(transport, { edges: o.edges, tls: o.tls === true });
  await using links = await startLinks(cluster, {
    transport,
    brokerArgs: broker.linkArgs,
    links: o.links ?? 1,
  });
  const storm = o.tls === true ? ['--connect-rate', String(o.edges)] : [];
  const sim = startSimulator(
    ['--transport', transport, '--workload', workload, '--edges', String(o.edges), ...storm],
    broker,
  );
  await using _sim = sim.process;
  const monitor = new Monitor(
    `ingest ${transport}/${workload}`,
    () => cluster.stats(),
    () => sim.last().sent ?? 0,
  );
  await waitFor(() => sim.last().connected === o.edges, {
    timeoutMs: 120_000,
    intervalMs: 200,
    message: `${o.edges} simulated edges to connect`,
  });
  // A freshly started Kafka (JVM) takes ~15 s to reach its stride (JIT, first fetches and
  // rebalances of the consumer group): measure after that.
  const warmup =
    transport === 'kafka' && o.seconds >= 20 ? 15 : Math.min(5, Math.max(2, Math.floor(o.seconds / 5)));
  monitor.start(warmup + o.seconds);
  await sleep(warmup * 1000);

  const cpu = await measureWindow(cluster, {
    linkPids: links.pids,
    brokerPid: broker.pid,
    seconds: o.seconds,
  });
  const behindMs = Math.max(0, ...sim.reports.slice(-o.seconds).map((r) => r.behindMs ?? 0));
  const sentPerEdge = await simulatorTotals(sim);
  const sent = sentPerEdge.reduce((a, b) => a + b, 0);
  await drain(cluster, { edges: o.edges, sent, idOf: simulatedEdgeId });
  monitor.stop();
  const floors = bracketFloors(floorsBefore, await measureFloorsNow());
  const { lost, duplicated } = reconcile(sentPerEdge, await cluster.edgeStates(o.edges, simulatedEdgeId));
  const deadLettered = await cluster.bus.redis.xlen(cluster.bus.keyspace.deadLetters);
  const counts = {
    connectMs: sim.reports.find((r) => r.connectMs !== undefined)?.connectMs,
    certificatesMs: broker.certificatesMs,
    behindMs,
    sent,
    publishErrors: sim.last().publishErrors ?? 0,
    lost,
    duplicated,
    deadLettered,
  };
  return { ...ingestReport(o, cpu, counts, floors), plot: monitor.plot() };
}

/**
 * mosquitto (the link user and every simulated edge) or a one-broker Kafka of 8 partitions. With
 * `tls`, a fleet CA, a certificate per edge and the link's, and everyone on the mTLS listener.
 */
export async function startBroker(transport: 'mqtt' | 'kafka', o: { edges: number; tls: boolean }) {
  const hubPassword = 'hub-secret';
  const users: Record<string, string> = { [LINK_USER]: hubPassword };
  for (let i = 0; i < o.edges; i++) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
  const issuing = Date.now();
  const pki = o.tls ? await startTestPki() : undefined;
  const link = await pki?.issueService(LINK_USER);
  for (let i = 0; pki !== undefined && i < o.edges; i++) await pki.issueEdge(simulatedEdgeId(i));
  const certificatesMs = pki === undefined ? undefined : Date.now() - issuing;
  const tls =
    pki === undefined
      ? undefined
      : { caFile: pki.caFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile };
  const mosquitto = transport === 'mqtt' ? await startMosquitto({ users, tls }) : undefined;
  const kafka = transport === 'kafka' ? await startKafka({ partitions: 8 }) : undefined;
  const url = mosquitto?.tls?.mtlsUrl ?? mosquitto?.url;
  const hubUrl = mosquitto?.tls?.hubUrl ?? mosquitto?.url;
  const login =
    pki === undefined || link === undefined
      ? ['--password', hubPassword]
      : ['--mqtt-ca', pki.caFile, '--mqtt-cert', link.certFile, '--mqtt-key', link.keyFile];
  const edgeTls =
    pki === undefined ? [] : ['--mqtt-ca', pki.caFile, '--mqtt-cert-dir', join(pki.dir, 'edges')];
  return {
    transport,
    pid: mosquitto?.pid ?? kafka?.pid,
    /** How long issuing the certificates took (with `tls`). */
    certificatesMs,
    /** How a link reaches it. */
    linkArgs:
      transport === 'mqtt'
        ? ['--url', hubUrl!, '--username', LINK_USER, ...login, '--group', 'bench']
        : ['--brokers', kafka!.broker],
    /** How the simulator reaches it. */
    simArgs: transport === 'mqtt' ? ['--url', url!, ...edgeTls] : ['--brokers', kafka!.broker],
    async [Symbol.asyncDispose]() {
      await kafka?.[Symbol.asyncDispose]();
      await mosquitto?.[Symbol.asyncDispose]();
    },
  };
}

/** The hub's link processes, entries stamped with the device's time; stopped gracefully. */
async function startLinks(
  cluster: BenchCluster,
  o: { transport: 'mqtt' | 'kafka'; brokerArgs: string[]; links: number },
) {
  const { transport, brokerArgs, links } = o;
  // The cluster's whole layout (--shards too): a link with another one now refuses to start.
  const common = cluster.cliArgs;
  const linkProcesses: DevicehubProcess[] = [];
  for (let l = 1; l <= links; l++) {
    const args = ['link', transport, ...common, ...brokerArgs, '--entry-time', 'device'];
    if (transport === 'mqtt') args.push('--client-id', `bench-link-${l}`);
    // DH_LINK_ARGS passes extra Node flags to link processes (e.g. --cpu-prof for profiling).
    const nodeArgs = nodeFlagsOf('DH_LINK_ARGS');
    const link = spawnDevicehub(args, { name: `link ${l}`, env: LOG_ENV, nodeArgs });
    linkProcesses.push(link);
    await link.ready;
  }
  return {
    pids: linkProcesses.map((l) => l.child.pid),
    [Symbol.asyncDispose]: async () => {
      // Graceful stop, so a link run with --cpu-prof writes its profile; kill what hangs.
      await Promise.all(
        linkProcesses.map((l) => Promise.race([l.stop(), sleep(5000).then(() => l.kill('SIGKILL'))])),
      );
    },
  };
}

const LOG_ENV = { DH_LOG_LEVEL: 'warn' };

type Simulator = ReturnType<typeof startSimulator>;

/** `devicehub simulate --report-json`: its reports as they come, the last one at hand. */
function startSimulator(args: string[], broker: { simArgs: string[] }) {
  const reports: SimReport[] = [];
  let last: SimReport = {};
  const child = spawnDevicehub(['simulate', ...args, ...broker.simArgs, '--report-json'], {
    name: 'simulator',
    env: LOG_ENV,
    onLog: (line) => {
      if (typeof line.sent === 'number') {
        last = line as SimReport;
        reports.push(last);
      }
    },
  });
  return { process: child, reports, last: () => last };
}

/** Stops the simulator and returns what the broker acknowledged to each edge. */
async function simulatorTotals(sim: Simulator): Promise<number[]> {
  sim.process.child.kill('SIGTERM');
  await waitFor(() => sim.last().done === true, {
    timeoutMs: 30_000,
    message: 'the simulator to report its totals',
  });
  return sim.last().sentPerEdge ?? [];
}

interface CpuWindow {
  readonly w: Window;
  readonly linkMicros: number;
  readonly brokerMicros: number;
  /** Redis's own CPU (INFO cpu) and its costliest commands over the window. */
  readonly redis: ReturnType<typeof redisCpuBetween>;
}

/** The measured window: the nodes' counters, and the CPU the links, the broker and Redis spent in it. */
async function measureWindow(
  cluster: BenchCluster,
  o: { linkPids: (number | undefined)[]; brokerPid: number | undefined; seconds: number },
): Promise<CpuWindow> {
  const linkCpu = () => o.linkPids.reduce<number>((sum, pid) => sum + processCpuMicros(pid), 0);
  const [before, linkBefore, brokerBefore, redisBefore] = [
    await cluster.stats(),
    linkCpu(),
    processCpuMicros(o.brokerPid),
    await sampleRedisCpu(cluster.bus.redis),
  ];
  await sleep(o.seconds * 1000);
  const [after, linkAfter, brokerAfter, redisAfter] = [
    await cluster.stats(),
    linkCpu(),
    processCpuMicros(o.brokerPid),
    await sampleRedisCpu(cluster.bus.redis),
  ];
  return {
    w: windowBetween(before, after),
    linkMicros: linkAfter - linkBefore,
    brokerMicros: brokerAfter - brokerBefore,
    redis: redisCpuBetween(redisBefore, redisAfter),
  };
}

function ingestReport(
  o: ScenarioOptions,
  { w, linkMicros, brokerMicros, redis }: CpuWindow,
  c: {
    connectMs: number | undefined;
    certificatesMs: number | undefined;
    behindMs: number;
    sent: number;
    publishErrors: number;
    lost: number;
    duplicated: number;
    deadLettered: number;
  },
  floors: BracketedFloors,
): Omit<ScenarioResult, 'plot'> {
  const transport = o.transport ?? 'mqtt';
  const workload = o.workload ?? 'legacy';
  const { lost, duplicated, deadLettered } = c;
  const hubCpu = w.cpuMicros + linkMicros;
  const perMsg = (micros: number) => Number((micros / Math.max(1, w.handled)).toFixed(2));
  // The path's floor: the bare Redis loop, plus the bare mqtt.js receive loop over MQTT (Kafka
  // has no receive floor here: its floor is the Redis part alone).
  const floor = Number((floors.redisMicrosPerMsg + (floors.mqttMicrosPerMsg ?? 0)).toFixed(2));
  const result = {
    scenario: 'ingest',
    transport,
    workload,
    tls: o.tls === true,
    edges: o.edges,
    nodes: o.nodes,
    links: o.links ?? 1,
    seconds: o.seconds,
    msgs: w.handled,
    msgsPerSec: Math.round(w.handled / w.seconds),
    latencyMs: { p50: w.latency.quantile(0.5), p99: w.latency.quantile(0.99), max: w.latency.max },
    cpuMicrosPerMsg: perMsg(hubCpu),
    cpuMicrosPerMsgNodes: perMsg(w.cpuMicros),
    cpuMicrosPerMsgLinks: perMsg(linkMicros),
    brokerCpuMicrosPerMsg: perMsg(brokerMicros),
    /** Redis's own CPU (INFO cpu) over the window per message handled: the mailbox store, beside the hub. */
    redisCpuMicrosPerMsg: perMsg(redis.cpuMicros),
    /** INFO commandstats over the window: the commands that took Redis the most time. */
    redisCommands: redis.commands,
    /** The same work with no DeviceHub code: bare ioredis (+ bare mqtt.js receive over MQTT). */
    floorMicrosPerMsg: floor,
    floorRatio: floorRatio(hubCpu / Math.max(1, w.handled), floor),
    floors,
    /** Hub CPU (links + nodes) for 1,000 edges of this workload, in cores: compares workloads. */
    hubCoresPer1000Edges: Number((hubCpu / 1e6 / w.seconds / (o.edges / 1000)).toFixed(3)),
    /** Until every edge was connected (with `tls`, all of them at once over mutual TLS). */
    connectMs: c.connectMs ?? null,
    /** Issuing the edges' and the link's certificates (with `tls`). */
    certificatesMs: c.certificatesMs ?? null,
    simulatorBehindMs: c.behindMs,
    sent: c.sent,
    publishErrors: c.publishErrors,
    lost,
    duplicated,
    deadLettered,
  };
  const legacy = workload === 'legacy';
  const expectedRate = o.edges * (legacy ? 1.3 : 0.04);
  const targets: Target[] = [
    {
      metric: 'msgsPerSec',
      value: result.msgsPerSec,
      target: `≈ ${Math.round(expectedRate)} (${legacy ? '1.3' : '≈ 0.04'}/edge)`,
      met: result.msgsPerSec >= expectedRate * (legacy ? 0.95 : 0.5),
    },
    ...latencyTargets(result.latencyMs, 100),
    {
      metric: 'cpuMicrosPerMsg (links + nodes)',
      value: result.cpuMicrosPerMsg,
      target: legacy && transport === 'mqtt' ? '≤ 60' : '—',
      met: !(legacy && transport === 'mqtt') || result.cpuMicrosPerMsg <= 60,
    },
    {
      metric: 'floorMicrosPerMsg (bare clients, mean of before and after the load)',
      value: result.floorMicrosPerMsg,
      target: '—',
      met: true,
    },
    { metric: '  floor spread before → after (%)', value: floors.spreadPct, target: '—', met: true },
    {
      metric: 'floorRatio',
      value: result.floorRatio ?? -1,
      target: legacy && transport === 'mqtt' ? '≤ 1.5' : '—',
      met: !(legacy && transport === 'mqtt') || (result.floorRatio !== null && result.floorRatio <= 1.5),
    },
    { metric: '  of which links', value: result.cpuMicrosPerMsgLinks, target: '—', met: true },
    { metric: '  of which nodes', value: result.cpuMicrosPerMsgNodes, target: '—', met: true },
    { metric: 'broker CPU µs/msg', value: result.brokerCpuMicrosPerMsg, target: '—', met: true },
    { metric: 'Redis CPU µs/msg', value: result.redisCpuMicrosPerMsg, target: '—', met: true },
    { metric: 'hub cores per 1,000 edges', value: result.hubCoresPer1000Edges, target: '—', met: true },
    ...(o.tls === true
      ? [
          {
            metric: `connectMs (${o.edges} edges at once, mTLS)`,
            value: result.connectMs ?? -1,
            target: '< 30000',
            met: result.connectMs !== null && result.connectMs < 30_000,
          },
        ]
      : []),
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: duplicated, target: '0', met: duplicated === 0 },
    { metric: 'deadLettered', value: deadLettered, target: '0', met: deadLettered === 0 },
  ];
  return { result, targets };
}
