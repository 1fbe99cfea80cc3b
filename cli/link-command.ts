/**
 * `devicehub link mqtt|kafka`: runs a hub-side link as its own process (several share the load:
 * MQTT by shared subscription, Kafka by consumer group); stops on SIGTERM/SIGINT.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { connectRedis } from '../bus/mod.ts';
import { KafkaLink, MqttLink } from '../edge/mod.ts';
import { clusterConfig, clusterFlags } from './config.ts';

export const linkHelp = `devicehub link mqtt|kafka [options]   run a hub-side link to the edges

  --redis URL          Redis URL (env REDIS_URL; required)
  --prefix P           key namespace (env DH_PREFIX; default dh)
  mqtt:  --url URL (env MQTT_URL)  --username U (env MQTT_USERNAME; default hub)
         --password P (env MQTT_PASSWORD)  --group G (shared subscription; default hub)
         --client-id ID (env DH_LINK_ID; stable per link process: the broker keeps its session)
  kafka: --brokers host:port,... (env KAFKA_BROKERS)  --group G (consumer group; default devicehub-ingest)`;

export async function linkCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
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
    },
  });
  const kind = positionals[0];
  if (kind !== 'mqtt' && kind !== 'kafka') {
    throw new RangeError(
      `devicehub link: expected "mqtt" or "kafka", got ${JSON.stringify(kind ?? '')}\n\n${linkHelp}`,
    );
  }
  const config = clusterConfig(values);
  if (!config.redisUrl) throw new RangeError('Missing --redis / REDIS_URL');
  const log = pino({ level: process.env.DH_LOG_LEVEL ?? 'info', base: { pid: process.pid } });
  const redis = connectRedis(config.redisUrl, { name: `link:${kind}` });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  let link: MqttLink | KafkaLink;
  if (kind === 'mqtt') {
    const url = values.url ?? process.env.MQTT_URL;
    const password = values.password ?? process.env.MQTT_PASSWORD;
    if (!url || !password)
      throw new RangeError('devicehub link mqtt needs --url / MQTT_URL and --password / MQTT_PASSWORD');
    link = await new MqttLink({
      url,
      username: values.username ?? process.env.MQTT_USERNAME ?? 'hub',
      password,
      redis,
      keyspace: config.keyspace,
      group: values.group,
      clientId: values['client-id'] ?? process.env.DH_LINK_ID,
      crashBeforeEnqueue: process.env.DH_TEST_CRASH_BEFORE_ENQUEUE === '1',
      logger: log,
    }).start();
  } else {
    const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
    if (brokers.length === 0)
      throw new RangeError('devicehub link kafka needs --brokers / KAFKA_BROKERS (host:port,...)');
    link = await new KafkaLink({
      brokers,
      redis,
      keyspace: config.keyspace,
      groupId: values.group,
      crashBeforeEnqueue: process.env.DH_TEST_CRASH_BEFORE_ENQUEUE === '1',
      fromBeginning: process.env.DH_KAFKA_FROM_BEGINNING === '1',
      logger: log,
    }).start();
  }
  log.info({ kind }, 'link started');
  process.send?.({ ready: true });
  const shutdown = async () => {
    await link.stop();
    redis.disconnect();
    log.info({ stats: link.stats }, 'link stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}
