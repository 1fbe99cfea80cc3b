/**
 * `devicehub link mqtt|kafka`: runs a hub-side link as its own process (several share the load:
 * MQTT by shared subscription, Kafka by consumer group) and the downlink relay of the same
 * transport (commands to the edges that speak it); stops on SIGTERM/SIGINT.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { type MetricsServer, serveMetrics } from '../actors/mod.ts';
import { type Bus, connectRedis } from '../bus/mod.ts';
import { LINK_USER } from '../edge/broker/mod.ts';
import type { KafkaClientSecurity } from '../edge/kafka-auth/mod.ts';
import {
  DownlinkRelay,
  type DownlinkSender,
  type EdgeLink,
  HubPresence,
  KafkaLink,
  kafkaDownlink,
  linkMetricsText,
  type MeteredLink,
  MqttLink,
  type MqttLinkTls,
  mqttDownlink,
  QOS0_BATCH_MAX,
  QOS0_LINGER_MS,
  RedisEdgeRegistry,
} from '../edge/mod.ts';
import { clusterConfig, clusterFlags, intFlag, openClusterBus } from './config.ts';
import { logShippingMetrics, processLogShipper } from './log-shipping.ts';
import { processLogger } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';

/** Longest graceful stop of a link process. */
const LINK_STOP_MS = 10_000;

export const linkHelp = `devicehub link mqtt|kafka [options]   run a hub-side link to the edges

  --redis URL          Redis URL (env REDIS_URL; required)
  --prefix P           key namespace (env DH_PREFIX; default dh)
  mqtt:  --url URL (env MQTT_URL)  --username U (env MQTT_USERNAME; default link@devicehub)
         --password P (env MQTT_PASSWORD)  --group G (shared subscription; default hub)
         --client-id ID (env DH_LINK_ID; stable per link process: the broker keeps its session)
         --linger-ms MS (env DH_LINK_LINGER_MS; default ${QOS0_LINGER_MS}): how long a QoS 0 message waits for
         company before its batch goes to Redis (fewer, larger writes for a little latency)
         --batch-max N (env DH_LINK_BATCH_MAX; default ${QOS0_BATCH_MAX}): a batch goes to Redis as
         soon as it holds N messages, linger or not
         --mqtt-ca FILE (env MQTT_CA_FILE; the CA an mqtts:// broker's certificate must chain to)
         --mqtt-cert FILE --mqtt-key FILE (env MQTT_CERT_FILE, MQTT_KEY_FILE; the link's client
         certificate for the broker's mTLS listener, CN = the link user; then no password)
  kafka: --brokers host:port,... (env KAFKA_BROKERS)  --group G (consumer group; default devicehub-ingest)
         --kafka-username U (env KAFKA_USERNAME; e.g. hub@devicehub) with env KAFKA_PASSWORD (never a
         flag: ps would show it): SASL_SSL, SCRAM-SHA-512; --kafka-ca FILE (env KAFKA_CA_FILE; the CA
         the brokers' certificates must chain to; none: the system's). Without them: plaintext
  --check-fleet        refuse (dead-letter) edges not in the fleet set (env DH_CHECK_FLEET=1)
  --entry-time device  stamp entries with the device's time, so latency is edge → handled (benchmarks)
  --wait-replicas N    tell the broker a batch is taken only once N Redis replicas hold it (env
                       DH_WAIT_REPLICAS; default 0; 1 on a Redis Cluster closes the failover window)
  --dead-letter-budget KIB  dead letters one edge may store a minute, in KiB (env
                       DH_DEAD_LETTER_BUDGET_KIB; default 16); past it they are counted, not stored
  --metrics-port N     serve Prometheus /metrics on this port (env DH_METRICS_PORT; default: none):
                       messages, dead letters, edges' log lines by outcome, the log shipper, CPU/RSS
  --metrics-host H     ... on this address (env DH_METRICS_HOST; default 127.0.0.1)
  --no-hub-warn S      warn after S seconds without a live hub node in the keyspace (env
                       DH_NO_HUB_WARN_S; default 30): the link writes where no node reads`;

export async function linkCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseLinkArgs(argv);
  const kind = positionals[0];
  if (kind !== 'mqtt' && kind !== 'kafka') {
    throw new RangeError(
      `devicehub link: expected "mqtt" or "kafka", got ${JSON.stringify(kind ?? '')}\n\n${linkHelp}`,
    );
  }
  const config = clusterConfig(values);
  if (!config.redisUrl) throw new RangeError('Missing --redis / REDIS_URL');
  const log = processLogger(`link-${kind}`);
  const redis = connectRedis(config.redisUrl, { name: `link:${kind}` });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const bus = await openClusterBus(redis, config);
  const common = await sharedLinkOptions(values, { bus, log });
  const { link, sender } =
    kind === 'mqtt' ? await startMqttLink(values, common) : await startKafkaLink(values, common);
  // A stable consumer name: a restarted link process resends what its relay had read but not sent.
  const consumer = values['client-id'] ?? process.env.DH_LINK_ID ?? `${kind}-link-${hostname()}`;
  const relay = await new DownlinkRelay({
    bus,
    sender,
    consumer,
    logger: log,
  }).start();
  // Warns (and /metrics shows) when no hub node lives in this link's keyspace: a wrong --prefix.
  const presence = await new HubPresence({
    bus,
    logger: log,
    warnAfterMs: intFlag(values, { name: 'no-hub-warn', env: 'DH_NO_HUB_WARN_S', fallback: 30 }) * 1000,
  }).start();
  const metrics = await serveLinkMetrics(values, { link, presence }, log);
  log.info({ kind, ...(metrics ? { metrics: metrics.url } : {}) }, 'link started');
  // Bounded: with Redis or the broker gone a step can wait forever; past the deadline the process
  // exits anyway, and what it had not acknowledged the broker delivers again.
  stopOnSignals({
    log,
    timeoutMs: LINK_STOP_MS,
    steps: [
      { name: 'closing /metrics', run: async () => metrics?.close() },
      { name: 'stopping the link (unacknowledged messages are delivered again)', run: () => link.stop() },
      { name: 'stopping the downlink relay', run: () => relay.stop() },
      {
        name: 'closing Redis',
        run: async () => {
          common.registry?.stop();
          presence.stop();
          redis.disconnect();
          log.info({ stats: link.stats }, 'link stopped');
        },
      },
    ],
  });
  // Up, and stopping on a signal already: a parent that waits for this may signal at once.
  process.send?.({ ready: true, ...(metrics ? { metrics: metrics.url } : {}) });
}

function parseLinkArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...clusterFlags,
      url: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      brokers: { type: 'string' },
      group: { type: 'string' },
      'client-id': { type: 'string' },
      'linger-ms': { type: 'string' },
      'batch-max': { type: 'string' },
      'kafka-username': { type: 'string' },
      'kafka-ca': { type: 'string' },
      'mqtt-ca': { type: 'string' },
      'mqtt-cert': { type: 'string' },
      'mqtt-key': { type: 'string' },
      'check-fleet': { type: 'boolean' },
      'entry-time': { type: 'string', default: 'received' },
      'wait-replicas': { type: 'string' },
      'dead-letter-budget': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      'no-hub-warn': { type: 'string' },
    },
  });
}

type LinkFlags = ReturnType<typeof parseLinkArgs>['values'];
type LinkOptions = Awaited<ReturnType<typeof sharedLinkOptions>>;

/** /metrics of this link process (--metrics-port / DH_METRICS_PORT; none without). */
async function serveLinkMetrics(
  values: LinkFlags,
  // The link's logLines getter (MqttLink, KafkaLink) and the presence are read at each scrape.
  watched: { link: MeteredLink; presence: HubPresence },
  log: Logger,
): Promise<MetricsServer | undefined> {
  const port = intFlag(values, { name: 'metrics-port', env: 'DH_METRICS_PORT', fallback: 0 });
  if (port <= 0) return undefined;
  return serveMetrics({
    port,
    host: values['metrics-host'] ?? process.env.DH_METRICS_HOST ?? '127.0.0.1',
    logger: log,
    what: 'link',
    collect: () => {
      const out = linkMetricsText([watched.link], watched.presence);
      out.processUsage();
      return out.text() + logShippingMetrics();
    },
  });
}

/** What both links take: Redis, the fleet check, entry times, replicas to wait for, the dead-letter budget. */
async function sharedLinkOptions(values: LinkFlags, o: { bus: Bus; log: Logger }) {
  const { bus, log } = o;
  const entryTime = values['entry-time'];
  if (entryTime !== 'received' && entryTime !== 'device')
    throw new RangeError(`--entry-time must be "received" or "device", got ${JSON.stringify(entryTime)}`);
  const registry =
    values['check-fleet'] || process.env.DH_CHECK_FLEET === '1'
      ? await new RedisEdgeRegistry({ bus, logger: log }).start()
      : undefined;
  const replicas = intFlag(values, { name: 'wait-replicas', env: 'DH_WAIT_REPLICAS', fallback: 0 });
  const budgetKib = intFlag(values, {
    name: 'dead-letter-budget',
    env: 'DH_DEAD_LETTER_BUDGET_KIB',
    fallback: 16,
  });
  const deadLetterBudget = { bytes: budgetKib * 1024, windowMs: 60_000 };
  const shipper = processLogShipper();
  return {
    bus,
    registry,
    entryTime,
    replicas,
    deadLetterBudget,
    // Edges' log batches go to this process's log shipper (DEVICEHUB_LOG_STORE; unset: counted as no_store).
    ...(shipper === undefined ? {} : { logs: shipper }),
    logger: log,
    // The harness's seam for crash-recovery tests (edge/testdata/link-contract.ts): exit after
    // receiving, before enqueueing. Set only from the environment; the links know no test mode.
    ...(process.env.DH_TEST_CRASH_BEFORE_ENQUEUE === '1'
      ? { hooks: { beforeEnqueue: () => process.exit(70) } }
      : {}),
  } as const;
}

async function startMqttLink(
  values: LinkFlags,
  common: LinkOptions,
): Promise<{ link: EdgeLink; sender: DownlinkSender }> {
  const url = values.url ?? process.env.MQTT_URL;
  const password = values.password ?? process.env.MQTT_PASSWORD;
  const tls = await mqttTlsFiles(values);
  if (!url || (!password && tls?.cert === undefined))
    throw new RangeError(
      'devicehub link mqtt needs --url / MQTT_URL and --password / MQTT_PASSWORD (or --mqtt-cert and --mqtt-key)',
    );
  const username = values.username ?? process.env.MQTT_USERNAME ?? LINK_USER;
  const login = { url, username, password: password || undefined, tls };
  const link = await new MqttLink({
    ...common,
    ...login,
    group: values.group,
    clientId: values['client-id'] ?? process.env.DH_LINK_ID,
    lingerMs: intFlag(values, { name: 'linger-ms', env: 'DH_LINK_LINGER_MS', fallback: QOS0_LINGER_MS }),
    batchMax: intFlag(values, { name: 'batch-max', env: 'DH_LINK_BATCH_MAX', fallback: QOS0_BATCH_MAX }),
  }).start();
  return { link, sender: await mqttDownlink(login) };
}

/** The PEM files of `--mqtt-ca`, `--mqtt-cert` and `--mqtt-key` (or their variables), read. */
async function mqttTlsFiles(values: LinkFlags): Promise<MqttLinkTls | undefined> {
  const ca = values['mqtt-ca'] ?? process.env.MQTT_CA_FILE;
  const cert = values['mqtt-cert'] ?? process.env.MQTT_CERT_FILE;
  const key = values['mqtt-key'] ?? process.env.MQTT_KEY_FILE;
  if ((cert === undefined) !== (key === undefined))
    throw new RangeError('devicehub link mqtt: --mqtt-cert and --mqtt-key go together');
  if (ca === undefined && cert === undefined) return undefined;
  const read = (file: string | undefined) => (file === undefined ? undefined : readFile(file, 'utf8'));
  const [caPem, certPem, keyPem] = await Promise.all([read(ca), read(cert), read(key)]);
  return {
    ...(caPem === undefined ? {} : { ca: caPem }),
    ...(certPem === undefined ? {} : { cert: certPem }),
    ...(keyPem === undefined ? {} : { key: keyPem }),
  };
}

async function startKafkaLink(
  values: LinkFlags,
  common: LinkOptions,
): Promise<{ link: EdgeLink; sender: DownlinkSender }> {
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (brokers.length === 0)
    throw new RangeError('devicehub link kafka needs --brokers / KAFKA_BROKERS (host:port,...)');
  const security = await kafkaSecurity(values);
  const link = await new KafkaLink({
    ...common,
    brokers,
    ...(security === undefined ? {} : { security }),
    groupId: values.group,
    fromBeginning: process.env.DH_KAFKA_FROM_BEGINNING === '1',
  }).start();
  return { link, sender: await kafkaDownlink({ brokers, ...(security === undefined ? {} : { security }) }) };
}

/** SASL_SSL login of the Kafka link (`--kafka-username`, KAFKA_PASSWORD, `--kafka-ca`), or none. */
async function kafkaSecurity(values: LinkFlags): Promise<KafkaClientSecurity | undefined> {
  const username = values['kafka-username'] ?? process.env.KAFKA_USERNAME;
  const password = process.env.KAFKA_PASSWORD;
  const caFile = values['kafka-ca'] ?? process.env.KAFKA_CA_FILE;
  if (username === undefined && password === undefined) {
    if (caFile !== undefined)
      throw new RangeError('devicehub link kafka: --kafka-ca needs --kafka-username and KAFKA_PASSWORD');
    return undefined;
  }
  if (username === undefined || password === undefined)
    throw new RangeError(
      'devicehub link kafka: --kafka-username / KAFKA_USERNAME and KAFKA_PASSWORD go together',
    );
  return { username, password, ...(caFile === undefined ? {} : { ca: await readFile(caFile, 'utf8') }) };
}
