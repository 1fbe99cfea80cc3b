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
 */

import { LINK_USER } from '../../edge/broker/mod.ts';
import { simulatedEdgeId, simulatedPassword } from '../../edge/mod.ts';
import {
  type DevicehubProcess,
  spawnDevicehub,
  startKafka,
  startMosquitto,
  waitFor,
} from '../../infra/mod.ts';
import { reconcile, startBenchCluster } from '../cluster.ts';
import { Monitor, windowBetween } from '../monitor.ts';
import { processCpuMicros } from '../proc-cpu.ts';
import type { Target } from '../report.ts';
import { drain, latencyTargets, type ScenarioOptions, type ScenarioResult, sleep } from './common.ts';

interface SimReport {
  t?: number;
  connected?: number;
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
  const links = o.links ?? 1;
  await using cluster = await startBenchCluster();
  for (let i = 1; i <= o.nodes; i++) await cluster.startNode(`node-${i}`);
  const hubPassword = 'hub-secret';
  const users: Record<string, string> = { [LINK_USER]: hubPassword };
  for (let i = 0; i < o.edges; i++) users[simulatedEdgeId(i)] = simulatedPassword(simulatedEdgeId(i));
  await using mosquitto = transport === 'mqtt' ? await startMosquitto({ users }) : undefined;
  await using kafka = transport === 'kafka' ? await startKafka({ partitions: 8 }) : undefined;
  const brokerArgs =
    transport === 'mqtt'
      ? ['--url', mosquitto!.url, '--username', LINK_USER, '--password', hubPassword, '--group', 'bench']
      : ['--brokers', kafka!.broker];
  const common = ['--redis', cluster.server.url, '--prefix', cluster.keyspace.prefix];
  const env = { DH_LOG_LEVEL: 'warn' };
  const linkProcesses: DevicehubProcess[] = [];
  for (let l = 1; l <= links; l++) {
    const args = ['link', transport, ...common, ...brokerArgs, '--entry-time', 'device'];
    if (transport === 'mqtt') args.push('--client-id', `bench-link-${l}`);
    // DH_LINK_ARGS passes extra Node flags to link processes (e.g. --cpu-prof for profiling).
    const nodeArgs = (process.env.DH_LINK_ARGS ?? '').split(' ').filter(Boolean);
    const link = spawnDevicehub(args, { name: `link ${l}`, env, nodeArgs });
    linkProcesses.push(link);
    await link.ready;
  }
  await using _links = {
    [Symbol.asyncDispose]: async () => {
      // Graceful stop, so a link run with --cpu-prof writes its profile; kill what hangs.
      await Promise.all(
        linkProcesses.map((l) => Promise.race([l.stop(), sleep(5000).then(() => l.kill('SIGKILL'))])),
      );
    },
  };

  const reports: SimReport[] = [];
  let last: SimReport = {};
  const simArgs = ['simulate', '--transport', transport, '--workload', workload, '--edges', String(o.edges)];
  simArgs.push(...(transport === 'mqtt' ? ['--url', mosquitto!.url] : ['--brokers', kafka!.broker]));
  await using sim = spawnDevicehub([...simArgs, '--report-json'], {
    name: 'simulator',
    env,
    onLog: (line) => {
      if (typeof line.sent === 'number') {
        last = line as SimReport;
        reports.push(last);
      }
    },
  });
  const monitor = new Monitor(
    `ingest ${transport}/${workload}`,
    () => cluster.stats(),
    () => last.sent ?? 0,
  );
  await waitFor(() => last.connected === o.edges, {
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

  const hubPids = linkProcesses.map((l) => l.child.pid);
  const brokerPid = mosquitto?.pid ?? kafka?.pid;
  const linkCpu = () => hubPids.reduce<number>((sum, pid) => sum + processCpuMicros(pid), 0);
  const [before, linkBefore, brokerBefore] = [await cluster.stats(), linkCpu(), processCpuMicros(brokerPid)];
  await sleep(o.seconds * 1000);
  const [after, linkAfter, brokerAfter] = [await cluster.stats(), linkCpu(), processCpuMicros(brokerPid)];
  const behindMs = Math.max(0, ...reports.slice(-o.seconds).map((r) => r.behindMs ?? 0));

  sim.child.kill('SIGTERM');
  await waitFor(() => last.done === true, {
    timeoutMs: 30_000,
    message: 'the simulator to report its totals',
  });
  const sentPerEdge = last.sentPerEdge ?? [];
  const sent = sentPerEdge.reduce((a, b) => a + b, 0);
  await drain(cluster, o.edges, sent, simulatedEdgeId);
  monitor.stop();
  const w = windowBetween(before, after);
  const { lost, duplicated } = reconcile(sentPerEdge, await cluster.edgeStates(o.edges, simulatedEdgeId));
  const deadLettered = await cluster.redis.xlen(cluster.keyspace.deadLetters);
  const hubCpu = w.cpuMicros + (linkAfter - linkBefore);
  const perMsg = (micros: number) => Number((micros / Math.max(1, w.handled)).toFixed(2));
  const result = {
    scenario: 'ingest',
    transport,
    workload,
    edges: o.edges,
    nodes: o.nodes,
    links,
    seconds: o.seconds,
    msgs: w.handled,
    msgsPerSec: Math.round(w.handled / w.seconds),
    latencyMs: { p50: w.latency.quantile(0.5), p99: w.latency.quantile(0.99), max: w.latency.max },
    cpuMicrosPerMsg: perMsg(hubCpu),
    cpuMicrosPerMsgNodes: perMsg(w.cpuMicros),
    cpuMicrosPerMsgLinks: perMsg(linkAfter - linkBefore),
    brokerCpuMicrosPerMsg: perMsg(brokerAfter - brokerBefore),
    /** Hub CPU (links + nodes) for 1,000 edges of this workload, in cores: compares workloads. */
    hubCoresPer1000Edges: Number((hubCpu / 1e6 / w.seconds / (o.edges / 1000)).toFixed(3)),
    simulatorBehindMs: behindMs,
    sent,
    publishErrors: last.publishErrors ?? 0,
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
    { metric: '  of which links', value: result.cpuMicrosPerMsgLinks, target: '—', met: true },
    { metric: '  of which nodes', value: result.cpuMicrosPerMsgNodes, target: '—', met: true },
    { metric: 'broker CPU µs/msg', value: result.brokerCpuMicrosPerMsg, target: '—', met: true },
    { metric: 'hub cores per 1,000 edges', value: result.hubCoresPer1000Edges, target: '—', met: true },
    { metric: 'lost', value: lost, target: '0', met: lost === 0 },
    { metric: 'duplicated', value: duplicated, target: '0', met: duplicated === 0 },
    { metric: 'deadLettered', value: deadLettered, target: '0', met: deadLettered === 0 },
  ];
  return { result, targets, plot: monitor.plot() };
}
