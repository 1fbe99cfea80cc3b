/** The settings of the hub side: Redis and the keyspace, hub nodes, links and `devicehub cluster`. */

import { ALL, flag, HUB, hostPorts, nonEmpty, oneOf, ranged, type Setting, url } from './setting-checks.ts';

export const HUB_SETTINGS: readonly Setting[] = [
  {
    name: 'REDIS_URL',
    commands: HUB,
    doc: 'redis://host:port (one server) or redis+cluster://host:port,host:port (a Redis Cluster)',
    check: url('redis:', 'rediss:', 'redis+cluster:'),
  },
  {
    name: 'DH_PREFIX',
    commands: HUB,
    doc: 'key namespace',
    check: (v) => (/^[A-Za-z0-9_.-]{1,32}$/.test(v) ? undefined : 'expected 1-32 of [A-Za-z0-9_.-]'),
  },
  { name: 'DH_SHARDS', commands: HUB, doc: 'shards (fixed for the keyspace’s life)', ...ranged(1, 16384) },
  {
    name: 'DH_TAG_GROUPS',
    commands: HUB,
    doc: 'Redis Cluster hash-tag groups (fixed; ≥ 4 × masters)',
    ...ranged(1, 16384),
  },
  {
    name: 'DH_LOG_LEVEL',
    commands: ALL,
    doc: 'pino log level',
    check: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  {
    name: 'DH_NODE_ID',
    commands: ['node'],
    doc: 'hub node id (stable across restarts)',
    check: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? undefined : 'expected 1-64 of [A-Za-z0-9_.-]'),
  },
  { name: 'DH_LEASE_MS', commands: ['node'], doc: 'shard lease (ms)', ...ranged(100, 600_000) },
  {
    name: 'DH_TICK_MS',
    commands: ['node'],
    doc: 'lease renewal and membership tick (ms)',
    ...ranged(10, 60_000),
  },
  { name: 'DH_TURN_MS', commands: ['node'], doc: 'least time between turns (ms)', ...ranged(0, 1000) },
  {
    name: 'DH_CHECKPOINT_MS',
    commands: ['node'],
    doc: 'how often actor state is checkpointed (ms)',
    ...ranged(0, 60_000),
  },
  {
    name: 'DH_METRICS_PORT',
    commands: ['node'],
    doc: 'Prometheus /metrics port (0: none)',
    ...ranged(0, 65535),
  },
  { name: 'DH_METRICS_HOST', commands: ['node'], doc: 'address /metrics listens on', check: nonEmpty },
  {
    name: 'MQTT_URL',
    commands: ['link', 'simulate'],
    doc: 'mqtt://host:port of the broker',
    check: url('mqtt:', 'mqtts:', 'ws:', 'wss:'),
  },
  { name: 'MQTT_USERNAME', commands: ['link'], doc: 'the link’s broker user', check: nonEmpty },
  { name: 'MQTT_PASSWORD', commands: ['link'], doc: 'the link’s broker password', check: nonEmpty },
  {
    name: 'KAFKA_BROKERS',
    commands: ['link', 'simulate'],
    doc: 'host:port,host:port of the Kafka brokers',
    check: hostPorts,
  },
  {
    name: 'DH_LINK_ID',
    commands: ['link'],
    doc: 'stable link id (MQTT session, consumer name)',
    check: nonEmpty,
  },
  { name: 'DH_CHECK_FLEET', commands: ['link'], doc: '1: dead-letter edges not in the fleet', check: flag },
  {
    name: 'DH_WAIT_REPLICAS',
    commands: ['link'],
    doc: 'Redis replicas that must hold a batch before the broker is told',
    ...ranged(0, 5),
  },
  {
    name: 'DH_DEAD_LETTER_BUDGET_KIB',
    commands: ['link'],
    doc: 'KiB of dead letters one edge may store a minute (beyond it they are counted, not stored)',
    ...ranged(1, 1024),
  },
  {
    name: 'DH_KAFKA_FROM_BEGINNING',
    commands: ['link'],
    doc: '1: a new consumer group reads topics from the start (tests)',
    check: flag,
  },
  {
    name: 'DH_TEST_CRASH_BEFORE_ENQUEUE',
    commands: ['link'],
    doc: 'tests only: exit before enqueueing',
    check: flag,
  },
  {
    name: 'DH_CLUSTER_NODES',
    commands: ['cluster'],
    doc: 'hub nodes of `devicehub cluster`',
    ...ranged(1, 32),
  },
  {
    name: 'DH_CLUSTER_GATEWAYS',
    commands: ['cluster'],
    doc: 'gateways of `devicehub cluster`',
    ...ranged(1, 16),
  },
  {
    name: 'DH_CLUSTER_KAFKA_BROKERS',
    commands: ['cluster'],
    doc: 'Kafka brokers of `devicehub cluster`',
    ...ranged(0, 9),
  },
  {
    name: 'DH_CLUSTER_PORT',
    commands: ['cluster'],
    doc: 'the balancer port of `devicehub cluster`',
    ...ranged(0, 65535),
  },
];
