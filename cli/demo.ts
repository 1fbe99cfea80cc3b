/**
 * `npm start` / `devicehub demo`: a local cluster on this machine — Redis (spawned from the
 * installed binary, data under ./.devicehub/, unless REDIS_URL is set), two hub nodes, mosquitto
 * with 1,000 simulated edges (each its own connection and password, compact format, 20× real
 * time, an alarm storm every minute) and the hub's MQTT link, the gateway (HTTPS API on :8080,
 * embedded PGlite, an admin key in ./.devicehub/admin-key) — and a live table. Without
 * mosquitto the edges write into their mailboxes directly, at the legacy rate.
 * With Kafka's jars, 20 legacy edges also produce to an authenticated Kafka (SASL_SSL; demo-kafka.ts).
 * Nothing goes in the clear: a fleet PKI in ./.devicehub/pki/ (the CA made at the first start and
 * kept; demo-pki.ts) gives the gateway its HTTPS certificate and its fleet CA for edges'
 * certificates, mosquitto its TLS listeners and CRL, the links and the remote edge their own
 * certificates, and frps its TLS. Only loopback listeners that no edge uses stay plain (mosquitto's
 * dynamic-security admin port the gateway manages identities on, Redis, the hub nodes' metrics).
 * Ctrl-C stops everything cleanly (the nodes hand their shards off first).
 * Each process, and each part running in the demo's own (gateway, MQTT link, downlink relay,
 * simulator, remote-access edge), appends its pino JSON lines to ./.devicehub/logs/<name>.log.
 * Alarm clips: an Ezviz stand-in and one clip worker in the demo's process (demo-clips.ts) give
 * the alarms of the default clip policy's kinds (trapped, …) their clips, in the dashboard's
 * alarm view. Secondary recognition: one `devicehub recognize` process, and DEMO-VISION's vision
 * alarms with photographs as frames (demo-recognize.ts), their verdicts on the dashboard's edge page.
 * Logs and monitoring (demo-monitoring.ts): VictoriaLogs for every process's log lines; Prometheus
 * scraping the hub nodes, the gateway, the workers, node_exporter and redis_exporter, its rules
 * (the operator's, written by the gateway) alerting through Alertmanager to the gateway's webhook.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { Bus } from '../bus/mod.ts';
import { type MonitoringPlan, ownChildProcesses, stopDescendants } from '../infra/mod.ts';
import { startDemoCdn } from './cdn-caches.ts';
import { type DemoClips, startDemoClips } from './demo-clips.ts';
import { type EdgeSource, startEdgeSource } from './demo-edges.ts';
import { startDemoGateway } from './demo-gateway.ts';
import { type Hub, startHub, startServers } from './demo-hub.ts';
import { type DemoKafka, startDemoKafka } from './demo-kafka.ts';
import { demoLogger, LOG_DIR } from './demo-logs.ts';
import { planDemoMonitoring, startDemoLogStore, startDemoMonitoring } from './demo-monitoring.ts';
import { type DemoPki, startDemoPki } from './demo-pki.ts';
import { type DemoRecognize, startDemoRecognize } from './demo-recognize.ts';
import { stopDemo } from './demo-stop.ts';
import { startDemoTable } from './demo-table.ts';

export const demoHelp = `devicehub demo [--edges N] [--nodes N] [--kafka-edges N]

  --edges N         simulated edges on MQTT (default 1000)
  --nodes N         hub nodes (default 2)
  --kafka-edges N   simulated legacy edges on Kafka, SASL_SSL (default 20; 0: no Kafka)
Uses REDIS_URL when set; otherwise starts redis-server with its data in ./.devicehub/redis.
TLS everywhere, with the fleet CA in ./.devicehub/pki (made at the first start, kept after):
trust ./.devicehub/pki/ca.crt (e.g. curl --cacert .devicehub/pki/ca.crt https://127.0.0.1:8080/healthz).
Alarm clips: an Ezviz stand-in and one clip worker in this process; the clips in ./.devicehub/objects,
played in the dashboard's alarm view.
Secondary recognition: one recognition worker (devicehub recognize, the provisioned model on the CPU)
and DEMO-VISION, an edge that uploads a photograph as a vision alarm's frame once a minute; the
verdicts on the dashboard's edge page.
Logs: ./.devicehub/logs/<process>.log (JSON lines; DH_LOG_LEVEL sets the level), and VictoriaLogs
(data in ./.devicehub/victorialogs) for every process.
Monitoring: Prometheus (the operator's rules in ./.devicehub/prometheus/rules), Alertmanager to the
gateway's webhook, node_exporter and redis_exporter, on loopback ports the dashboard's servers page reads.`;

export async function demoCommand(argv: string[]): Promise<void> {
  const { edges, nodeCount, kafkaEdges } = parseDemoArgs(argv);
  // Finished, failed or interrupted, nothing is left behind: Redis and the hub nodes get process
  // groups of their own (Ctrl-C reaches only the demo, which stops the hub nodes before Redis),
  // and whatever still runs when the demo exits is killed. Interrupted while starting, it stops
  // what has started (SIGTERM, then SIGKILL after 5 s) and exits.
  ownChildProcesses();
  const log = demoLogger('demo');
  log.info({ edges, nodes: nodeCount, logs: resolve(LOG_DIR) }, 'demo starting');
  const starting = interruptWhileStarting();
  // VictoriaLogs beside Redis: every process started after ships its logs there (DEVICEHUB_LOG_STORE).
  const [{ server, redisUrl }, logStore] = await Promise.all([
    startServers(),
    optionalPart('log store', log, startDemoLogStore()),
  ]);
  const plan = await planDemoMonitoring();
  const pki = await startDemoPki(resolve('.devicehub/pki'));
  const hub = await startHub(redisUrl, nodeCount);
  // Edges through a real broker when mosquitto is installed (it is, after `npm start`'s
  // provisioning); otherwise straight into the mailboxes.
  const [mqttSource, kafka] = await Promise.all([
    startEdgeSource({ redisUrl, keyspace: hub.bus.keyspace, edges, pki }),
    kafkaEdges === 0 ? undefined : startKafkaEdges({ pki, bus: hub.bus, edges: kafkaEdges, log }),
  ]);
  const source = withKafka(mqttSource, kafka);
  const gateway = await startGateway({ hub, edges, source, log, pki, kafka, plan });
  // Two nginx caches in front of the gateway, the devicehub configuration's cdn pool.
  const cdn =
    gateway === undefined
      ? undefined
      : await startDemoCdn({
          gateway,
          tls: pki.server,
          dir: resolve('.devicehub/cdn'),
          logger: demoLogger('cdn'),
        });
  // The Ezviz stand-in and a clip worker on the gateway's database and object store.
  const clips = gateway === undefined ? undefined : await startClips({ gateway, hub, log });
  // A recognition worker, and DEMO-VISION's vision alarms with frames through the gateway.
  const recognize = await startRecognize({ redisUrl, hub, source, gateway, pki, log });
  // Prometheus, Alertmanager and the exporters, scraping all of the above (cli/demo-monitoring.ts).
  const monitoring = await optionalPart(
    'monitoring',
    log,
    startDemoMonitoring({
      plan,
      redisUrl,
      nodeMetrics: hub.metrics,
      linkMetrics: source.linkMetrics,
      gatewayUrl: gateway?.url,
      caFile: pki.caFile,
      clipMetrics: clips?.metricsUrl,
      recognizeMetrics: recognize?.metricsUrl,
      logStoreUrl: logStore?.url,
    }),
  );
  const started = Date.now();
  // A parent process (the demo's test) hears where everything is.
  process.send?.({
    ready: true,
    url: gateway?.url,
    adminKey: gateway?.adminKey,
    caFile: pki.caFile,
    cdn: cdn?.urls,
    screen: gateway?.screen,
    clips: clips === undefined ? undefined : { ezvizUrl: clips.ezvizUrl, metricsUrl: clips.metricsUrl },
    recognize: recognize === undefined ? undefined : { metricsUrl: recognize.metricsUrl },
    mqtt: source.mqtt,
    kafka: kafka === undefined ? undefined : { broker: kafka.broker, edges: kafka.edgeIds.length },
    prometheusUrl: monitoring?.prometheus.url,
    alertmanagerUrl: monitoring?.alertmanager.url,
    logStore: logStore?.url,
  });

  let stopTable = () => {};
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    stopTable();
    await stopDemo({ log, source, gateway, cdn, clips, recognize, hub, server, monitoring, logStore });
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  starting.up();
  stopTable = startDemoTable({
    bus: hub.bus,
    redisUrl,
    edges,
    source,
    gateway,
    cdn: cdn?.urls,
    clips,
    recognize,
    started,
  });
}

function parseDemoArgs(argv: string[]): { edges: number; nodeCount: number; kafkaEdges: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      edges: { type: 'string', default: '1000' },
      nodes: { type: 'string', default: '2' },
      'kafka-edges': { type: 'string', default: '20' },
    },
  });
  const edges = Number(values.edges);
  const nodeCount = Number(values.nodes);
  const kafkaEdges = Number(values['kafka-edges']);
  if (!Number.isInteger(kafkaEdges) || kafkaEdges < 0)
    throw new RangeError(`--kafka-edges must be 0 or a positive integer, got ${values['kafka-edges']}`);
  if (!Number.isInteger(edges) || edges < 1)
    throw new RangeError(`--edges must be a positive integer, got ${values.edges}`);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 16)
    throw new RangeError(`--nodes must be 1..16, got ${values.nodes}`);
  return { edges, nodeCount, kafkaEdges };
}

/** The legacy edges on an authenticated Kafka; the demo runs on without them (no Kafka jars). */
function startKafkaEdges(o: { pki: DemoPki; bus: Bus; edges: number; log: Logger }) {
  return startDemoKafka(o).catch((error: unknown): undefined => {
    o.log.error({ err: error }, 'legacy Kafka edges not started');
    process.stderr.write(
      `legacy Kafka edges not started: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return undefined;
  });
}

/** The MQTT edges and, when it started, the Kafka ones, as one source for the table and the stop. */
function withKafka(source: EdgeSource, kafka: DemoKafka | undefined): EdgeSource {
  if (kafka === undefined) return source;
  return {
    ...source,
    sent: () => source.sent() + kafka.sent(),
    describe: () => `${source.describe()} · ${kafka.describe()}`,
    async stop() {
      await Promise.all([kafka.stop(), source.stop()]);
    },
  };
}

/** Until `up()`, SIGINT or SIGTERM stops what has started and exits 1. */
function interruptWhileStarting(): { up(): void } {
  let up = false;
  const interruptStart = (signal: NodeJS.Signals) => {
    if (up) return;
    process.stdout.write(`\n${signal} while starting: stopping what has started…\n`);
    void stopDescendants(5000).finally(() => process.exit(1));
  };
  process.once('SIGINT', interruptStart);
  process.once('SIGTERM', interruptStart);
  return {
    up: () => {
      up = true;
    },
  };
}

type DemoGateway = Awaited<ReturnType<typeof startDemoGateway>>;

/** The HTTP API over the same fleet (embedded PGlite); the demo runs on without it if it fails. */
function startGateway(o: {
  hub: Hub;
  edges: number;
  source: EdgeSource;
  log: Logger;
  pki: DemoPki;
  kafka: DemoKafka | undefined;
  plan: MonitoringPlan;
}): Promise<DemoGateway | undefined> {
  const started = startDemoGateway({
    bus: o.hub.bus,
    edges: o.edges,
    pki: o.pki,
    ...(o.kafka === undefined ? {} : { kafka: o.kafka }),
    remote: o.source.remote,
    visionPassword: o.source.visionPassword,
    broker: o.source.broker,
    monitoring: {
      prometheusUrl: o.plan.prometheusUrl,
      rulesDir: o.plan.rulesDir,
      alertmanagerUrl: o.plan.alertmanagerUrl,
      webhookToken: o.plan.webhookToken,
    },
    logger: demoLogger('gateway'),
  });
  return optionalPart('gateway', o.log, started);
}

/** What `started` gives, or undefined with why logged and printed: the demo runs on without it. */
function optionalPart<T>(what: string, log: Logger, started: Promise<T>): Promise<T | undefined> {
  return started.catch((error: unknown): undefined => {
    log.error({ err: error }, `${what} not started`);
    process.stderr.write(`${what} not started: ${error instanceof Error ? error.message : String(error)}\n`);
    return undefined;
  });
}

/** The clip worker and the Ezviz stand-in; the demo runs on without them (say, no ffmpeg). */
function startClips(o: { gateway: DemoGateway; hub: Hub; log: Logger }): Promise<DemoClips | undefined> {
  const started = startDemoClips({
    bus: o.hub.bus,
    database: o.gateway.database,
    objects: o.gateway.objects,
    logger: demoLogger('clips'),
  });
  return optionalPart('clip worker', o.log, started);
}

/** The recognition worker and DEMO-VISION's events; the demo runs on without them (say, no model). */
function startRecognize(o: {
  redisUrl: string;
  hub: Hub;
  source: EdgeSource;
  gateway: DemoGateway | undefined;
  pki: DemoPki;
  log: Logger;
}): Promise<DemoRecognize | undefined> {
  const { gateway, source } = o;
  const started = startDemoRecognize({
    redisUrl: o.redisUrl,
    keyspace: o.hub.bus.keyspace,
    events:
      gateway?.url === undefined || source.mqtt === undefined || source.visionPassword === undefined
        ? undefined
        : {
            url: gateway.url,
            ca: readFileSync(o.pki.caFile),
            mqttTlsUrl: source.mqtt.tlsUrl,
            password: source.visionPassword,
          },
    logger: demoLogger('vision'),
  });
  return optionalPart('recognition worker', o.log, started);
}
