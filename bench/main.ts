/**
 * `npm run bench -- <scenario> [--edges N] [--nodes N] [--seconds S] [--out DIR]`
 * Prints a progress line while it runs, then a table; writes DIR/<scenario>.{json,md,svg}.
 */
import { parseArgs } from 'node:util';
import { killDescendants, ownChildProcesses } from '../infra/mod.ts';
import { peersScenario } from './peers/scenario.ts';
import { writeReport } from './report.ts';
import { scaleOptions, scaleScenario } from './scale/mod.ts';
import { actorsScenario } from './scenarios/actors.ts';
import { alertOptions, alertScenario } from './scenarios/alert.ts';
import { clipsOptions, clipsScenario } from './scenarios/clips.ts';
import type { ScenarioOptions, ScenarioResult } from './scenarios/common.ts';
import { dietScenario } from './scenarios/diet.ts';
import { failoverScenario } from './scenarios/failover.ts';
import { gatewayScenario } from './scenarios/gateway.ts';
import { ingestScenario } from './scenarios/ingest.ts';
import { logsOptions, logsScenario } from './scenarios/logs.ts';
import { outboxScenario } from './scenarios/outbox.ts';
import { rebalanceScenario } from './scenarios/rebalance.ts';
import { recognitionOptions, recognitionScenario } from './scenarios/recognition.ts';
import { redisFailoverScenario } from './scenarios/redis-failover.ts';
import { rollingScenario } from './scenarios/rolling.ts';
import { rolloutScenario } from './scenarios/rollout.ts';
import { screensOptions, screensScenario } from './scenarios/screens.ts';
import { tunnelScenario } from './scenarios/tunnel.ts';

const scenarios: Record<string, (o: ScenarioOptions) => Promise<ScenarioResult>> = {
  actors: actorsScenario,
  rebalance: rebalanceScenario,
  failover: failoverScenario,
  rolling: rollingScenario,
  'redis-failover': redisFailoverScenario,
  diet: dietScenario,
  ingest: ingestScenario,
  gateway: gatewayScenario,
  outbox: outboxScenario,
  tunnel: tunnelScenario,
  rollout: rolloutScenario,
  peers: (o) => peersScenario(o),
  screens: (o) => screensScenario(o, screensOptions(process.env)),
};

export const benchHelp = `devicehub bench <scenario> [options]

scenarios (each runs Redis, every hub node and the load generator as separate processes):
  actors      N edges at the legacy rate (1.3 msg/s/edge) → latency, CPU per message, loss
  rebalance   2 nodes under load get a 3rd → share moved, settle time, loss
  failover    one of 3 nodes is kill -9ed under load → per-edge resume time, loss
  rolling     every one of 3 nodes restarted in turn (SIGTERM, start), then 3 → 5 → 2 nodes, under
              load → lost, duplicated, longest pause of any actor, share moved per change
  redis-failover  a Redis Cluster master kill -9ed under enqueue load, acknowledging on the master
              alone and after WAIT 1 → acknowledged messages lost, throughput, batch latency
  diet        one edge's simulated day, legacy JSON/Kafka vs compact/MQTT → bytes, messages, state
  ingest      simulator → mosquitto or Kafka → link process(es) → hub nodes: edge-to-handled
              latency, CPU per message of every hub process, loss (results: ingest-<transport>-<workload>)
  screens     N edges' tiles changing at the legacy rate (once a second each, written into the
              outbox as their actors publish them; BENCH_SCREENS_FEED=hub: the legacy workload
              through 2 hub nodes instead) into the wall screens' read model, up to 2,000 screens
              on live streams, snapshot polls at 10,000/s, alarm history pages from the replica at
              BENCH_ALARM_ROWS rows (default 10M) → snapshot p99, edge → screen p99, alarm query
              p99, replica lag
  gateway     N edges against a gateway process: config re-polls answered 304 (rate, latency),
              a global change reaching every long-polling edge, tunnel open → command at the edge
  outbox      an alarm storm while the web backend stalls 60 s, then recovers → lost, order,
              duplicates, backlog, drain time
  peers       the same N edges, Redis and edge-actor handler processed by DeviceHub (2 hub nodes),
              BullMQ (2 workers, a job per message) and a Kafka consumer group (2 consumers), one
              worker of each kill -9ed mid-run → worker CPU µs/msg (Redis, broker beside), p99,
              lost, duplicated, out of order per edge (decision 047)
  tunnel      25 operators opening, reaching and closing tunnels with the real frp (multiplexed)
              → open-to-reachable time, public ports, frps connections
  clips       alarm clips from the Ezviz stand-in (200 ms a call): N edges, a steady alarm rate and a
              storm (1 % of the fleet within 10 s), 1 then 3 \`devicehub clips\` workers (one kill -9ed),
              then 3 under a tight Ezviz budget → duplicates, missing, Ezviz calls/s vs budget,
              alarm end → stored p95, throughput 3 vs 1 workers
  logs        N edges each shipping 1 log line/s (batched every 5 s, a 10× burst) over MQTT through
              \`devicehub link mqtt\` into VictoriaLogs beside their telemetry, the hub processes
              shipping their own lines at info, the store stopped --store-down-seconds mid-run
              → lines sent/stored/lost, hub and store CPU per line, p99 ship → queryable,
              telemetry p99 during the burst vs without logs
  alert       an operator rule end to end: Prometheus, Alertmanager and node_exporter (5 s scrapes,
              10 s group wait) and a gateway; a rule created through POST /v1/alert-rules (CPU
              busy > --threshold for --for-seconds), one core held busy by a bounded loop
              → alertFiredMs, busy start → server.alert on the gateway's /v1/events
  recognition second looks at vision alarms: N edges' events at the workload's rate (4 per edge a
              day (A)) plus a burst (1 % of the fleet within 10 s), each a real photograph uploaded
              through the gateway and an alarm to a hub node; 1 then 2 \`devicehub recognize\`
              workers (one kill -9ed) → lost, timeouts, p99 upload → verdict, images/s per core,
              batch mean, throughput 2 vs 1 workers
  rollout     N edges (load processes, an MQTT connection and a TUF client each) updated by a
              4-wave rollout (1/10/50/100 %) through 2 nginx caches in front of the gateway: real
              downloads, SHA-256 and TUF checks, simulated installs; then a second rollout with
              --fail-percent of wave 2 failing → seconds to 95 % updated, origin bytes, cache hit
              ratio, edge CPU per MB verified, paused before wave 3

options:
  --edges N     simulated edges (default 5000)
  --nodes N     hub nodes for "actors" (default 2) and "ingest" (default 1: one node and one link
                process per core, beside the simulator, the broker and Redis on this machine)
  --seconds S   measured seconds (default 30; recognition 90)
  --out DIR     where results go (default bench/results)
  --transport mqtt|kafka      ingest: the edges' transport (default mqtt)
  --workload legacy|compact   ingest: what the edges send (default legacy)
  --links N                   ingest: hub link processes (default 1)
  --tls                       ingest (MQTT): edges and links over mutual TLS, a certificate each,
                              every edge connecting at once (results: ingest-mqtt-<workload>-tls)
  --artifact-mb N             rollout: the artifact's size in MiB (default 5)
  --hold-seconds S            rollout: each wave's hold (default 30)
  --fail-percent P            rollout: share of wave 2 made to fail in the second rollout (default 5)
  --spread-seconds S          rollout: the agents' random start delay (default 30)
  --processes N               rollout: load processes the edges run in (default 4)
  --storm-percent P           clips: share of the fleet in the alarm storm (default 1)
  --duration S                clips: seconds alarms are sent for (default 120; the storm at S/6)
  --latency-ms MS             clips: the Ezviz stand-in's latency per call (default 200)
  --budget N                  clips: the Ezviz budget (calls/s) of the 1- and 3-worker runs (default 40)
  --tight-budget N            clips: the third run's budget (calls/s; 0: no third run; default 4)
  --concurrency N             clips: jobs each worker runs at once (default 1)
  --burst N                   recognition: vision events in the burst (default 1 % of --edges)
  --workers LIST              recognition: workers of each run (default 1,2; a run of more kills one)
  --max-batch N               recognition: the workers' --max-batch (default 4)
  --lock-ms MS                recognition: the workers' --lock-ms, when a killed worker's jobs are
                              taken again (default 3000)
  --store-down-seconds S      logs: how long VictoriaLogs is stopped mid-run (default 60)
  --burst-seconds S           logs: the 10× burst's length (default 20)
  --lines-per-second R        logs: each edge's lines a second at 1× (default 1)
  --batch-seconds S           logs: an edge's batch every S seconds (default 5)
  --after-seconds S           logs: how long the run goes on after the store is back (default 20)
  --log-workload compact|legacy  logs: the edges' telemetry meanwhile (default compact)
  (logs: --seconds is the length of the baseline and of the 1× phase, default 30)
  --threshold X               alert: the rule's CPU busy share of the host (default 0.5); a host
                              busier than that already gets a rule on the loop's own CPU instead
  --for-seconds S             alert: the rule's \`for\` (default 10)
  --busy-seconds S            alert: the busy loop's bound (default 120)
  scale       N edges (default 5000), each its own MQTT connection, on this machine: mosquitto sharded
              (a process holds ≤ 20,000 files here), one simulator process and one link per shard, the
              compact workload, 1 % malformed senders, then every shard restarted (SIGTERM) → connected,
              msgs/s, p99, lost, duplicated, hub and broker cores, Redis bytes per edge, node RSS per
              10k actors, the storm's reconnect p99 and recovery (results: scale, scale-tls)
  --brokers K                 scale: mosquitto shards (default ⌈edges / 18,000⌉)
  --connect-rate R            scale: connections opened per second at start, all shards (default 1000)
  --listeners L               scale: plaintext listeners per shard, its edges spread over them (default 1;
                              mosquitto's accept queue is 100 per listener)
  --warm-up S                 scale: the window starts no sooner than S seconds after the fleet
                              connected (default 60: a simulated day's first minute sends less)
  --tls                       scale: edges with passwords over TLS, links with certificates`;

export async function benchCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      edges: { type: 'string', default: '5000' },
      nodes: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string', default: 'bench/results' },
      transport: { type: 'string', default: 'mqtt' },
      workload: { type: 'string', default: 'legacy' },
      links: { type: 'string', default: '1' },
      tls: { type: 'boolean', default: false },
      'artifact-mb': { type: 'string', default: '5' },
      'hold-seconds': { type: 'string', default: '30' },
      'fail-percent': { type: 'string', default: '5' },
      'spread-seconds': { type: 'string', default: '30' },
      processes: { type: 'string', default: '4' },
      'storm-percent': { type: 'string' },
      duration: { type: 'string' },
      'latency-ms': { type: 'string' },
      budget: { type: 'string' },
      'tight-budget': { type: 'string' },
      concurrency: { type: 'string' },
      burst: { type: 'string' },
      workers: { type: 'string' },
      'max-batch': { type: 'string' },
      'lock-ms': { type: 'string' },
      'store-down-seconds': { type: 'string' },
      'burst-seconds': { type: 'string' },
      'lines-per-second': { type: 'string' },
      'batch-seconds': { type: 'string' },
      'after-seconds': { type: 'string' },
      'log-workload': { type: 'string' },
      threshold: { type: 'string' },
      'for-seconds': { type: 'string' },
      'busy-seconds': { type: 'string' },
      brokers: { type: 'string' },
      'connect-rate': { type: 'string' },
      listeners: { type: 'string' },
      'warm-up': { type: 'string' },
    },
  });
  const name = positionals[0];
  // The scenarios with options of their own.
  const withOptions: Record<string, (o: ScenarioOptions) => Promise<ScenarioResult>> = {
    clips: (o) => clipsScenario(o, clipsOptions(values)),
    recognition: (o) => recognitionScenario(o, recognitionOptions(values, o.edges)),
    logs: (o) => logsScenario(o, logsOptions(values)),
    alert: (o) => alertScenario(o, alertOptions(values)),
    scale: (o) => scaleScenario(o, scaleOptions(values)),
  };
  const run = name === undefined ? undefined : (withOptions[name] ?? scenarios[name]);
  if (run === undefined)
    throw new RangeError(
      `Unknown bench scenario "${name ?? ''}"; one of: ${[...Object.keys(scenarios), ...Object.keys(withOptions)].join(', ')}`,
    );
  const counts = {
    edges: Number(values.edges),
    nodes: Number(values.nodes ?? (name === 'ingest' || name === 'logs' ? 1 : 2)),
    seconds: Number(values.seconds ?? (name === 'recognition' ? 90 : 30)),
    links: Number(values.links),
  };
  for (const [key, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`--${key} must be a positive integer, got ${value}`);
  }
  const { transport, workload } = values;
  if (transport !== 'mqtt' && transport !== 'kafka')
    throw new RangeError(`--transport must be mqtt or kafka, got ${JSON.stringify(transport)}`);
  if (workload !== 'legacy' && workload !== 'compact')
    throw new RangeError(`--workload must be legacy or compact, got ${JSON.stringify(workload)}`);
  if (values.tls && name !== 'scale' && (name !== 'ingest' || transport !== 'mqtt'))
    throw new RangeError('--tls is for ingest over MQTT and scale');
  const rollout = {
    artifactMb: Number(values['artifact-mb']),
    holdSeconds: Number(values['hold-seconds']),
    failPercent: Number(values['fail-percent']),
    spreadSeconds: Number(values['spread-seconds']),
    processes: Number(values.processes),
  };
  for (const [key, value] of Object.entries(rollout)) {
    if (
      !Number.isFinite(value) ||
      value < 0 ||
      (key === 'processes' && !(Number.isInteger(value) && value >= 1))
    )
      throw new RangeError(
        `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a number ≥ 0, got ${value}`,
      );
  }
  const options: ScenarioOptions = { ...counts, transport, workload, tls: values.tls, ...rollout };
  const report =
    name === 'ingest'
      ? `ingest-${transport}-${workload}${values.tls ? '-tls' : ''}`
      : `${name}${name === 'scale' && values.tls ? '-tls' : ''}`;
  console.error(
    name === 'diet'
      ? 'bench diet: one simulated day…'
      : name === 'alert'
        ? 'bench alert: an operator rule, a core held busy…'
        : name === 'rollout'
          ? `bench rollout: ${options.edges} edges, ${rollout.artifactMb} MiB artifact, ${rollout.holdSeconds} s holds…`
          : name === 'clips' || name === 'recognition'
            ? `bench ${name}: ${options.edges} edges…`
            : `bench ${name}: ${options.edges} edges, ${options.seconds} s…`,
  );
  // Finished, failed or interrupted, a run leaves no process behind: its servers, nodes and links
  // get their own process groups (Ctrl-C reaches this process only), and whatever still runs when
  // it exits is killed.
  ownChildProcesses();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const killed = killDescendants('SIGKILL');
      console.error(`\nbench ${name}: ${signal}; killed ${killed.length} process(es) it had started`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  const { result, targets, plot } = await run(options);
  const table = writeReport({ dir: values.out, scenario: report, result, targets, plot });
  console.log(`\n${table}\n${JSON.stringify(result)}\nwritten: ${values.out}/${report}.{json,md,svg}`);
}
