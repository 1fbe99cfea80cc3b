/**
 * Every environment variable a DeviceHub process reads, in one schema: which commands read it,
 * what it means and what values it takes. `checkEnvironment` runs at start-up of each command
 * (cli/devicehub.ts), so a bad value or a misspelt `DH_` name stops the process with an error
 * naming the variable, instead of a default silently taking its place; the compose-file test
 * checks every service's environment against the same schema.
 */

import { ConfigError } from '../actors/errors.ts';

export type CommandName = 'node' | 'link' | 'gateway' | 'simulate' | 'demo' | 'cluster' | 'agent';

export interface Setting {
  readonly name: string;
  /** The commands that read it. */
  readonly commands: readonly CommandName[];
  readonly doc: string;
  /** Why `value` is refused, or undefined when it is fine. */
  check(value: string): string | undefined;
  /** For an integer setting, the values it takes (flags of the same name take the same). */
  readonly range?: readonly [number, number];
}

// The one configuration error (actors/errors.ts, a file without imports); re-exported for callers
// of checkEnvironment, which sets its `variable`.
export { ConfigError };

const int =
  (min: number, max: number) =>
  (value: string): string | undefined =>
    /^-?\d+$/.test(value) && Number(value) >= min && Number(value) <= max
      ? undefined
      : `expected an integer ${min}..${max}`;

const ranged = (min: number, max: number) => ({ range: [min, max] as const, check: int(min, max) });

const oneOf =
  (...values: string[]) =>
  (value: string): string | undefined =>
    values.includes(value) ? undefined : `expected one of ${values.join(', ')}`;

const url =
  (...protocols: string[]) =>
  (value: string): string | undefined => {
    if (protocols.includes('redis+cluster:') && value.startsWith('redis+cluster://')) {
      return /^redis\+cluster:\/\/([^@/]*@)?[^,/:]+:\d+(,[^,/:]+:\d+)*\/?$/.test(value)
        ? undefined
        : 'expected redis+cluster://host:port,host:port,…';
    }
    try {
      const parsed = new URL(value);
      return protocols.includes(parsed.protocol) ? undefined : `expected a ${protocols.join(' or ')} URL`;
    } catch {
      return `expected a ${protocols.join(' or ')} URL`;
    }
  };

const hostPorts = (value: string): string | undefined =>
  value.split(',').every((hp) => /^[A-Za-z0-9_.-]+:\d{1,5}$/.test(hp))
    ? undefined
    : 'expected host:port,host:port,…';

const nonEmpty = (value: string): string | undefined =>
  value.trim() === '' ? 'must not be empty' : undefined;

const flag = oneOf('0', '1');

const ALL: readonly CommandName[] = ['node', 'link', 'gateway', 'simulate', 'demo', 'cluster', 'agent'];
const HUB: readonly CommandName[] = ['node', 'link', 'gateway', 'demo', 'cluster'];

export const SETTINGS: readonly Setting[] = [
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
  { name: 'PORT', commands: ['gateway'], doc: 'HTTP port', ...ranged(0, 65535) },
  { name: 'HOST', commands: ['gateway'], doc: 'HTTP listen address', check: nonEmpty },
  {
    name: 'DATABASE_URL',
    commands: ['gateway'],
    doc: 'postgres://… (else embedded PGlite in DH_DATA_DIR)',
    check: url('postgres:', 'postgresql:'),
  },
  { name: 'DH_DATA_DIR', commands: ['gateway'], doc: 'embedded PGlite folder', check: nonEmpty },
  {
    name: 'DH_WEB_BACKEND_URL',
    commands: ['gateway'],
    doc: 'where fleet events are POSTed',
    check: url('http:', 'https:'),
  },
  {
    name: 'DH_WEB_BACKEND_TOKEN',
    commands: ['gateway'],
    doc: 'bearer token for the web backend',
    check: nonEmpty,
  },
  {
    name: 'DH_WEB_BACKEND_PARTITIONS',
    commands: ['gateway'],
    doc: 'BullMQ partition queues',
    ...ranged(1, 256),
  },
  {
    name: 'DH_WEB_BACKEND_RATE',
    commands: ['gateway'],
    doc: 'most deliveries per second',
    ...ranged(1, 1_000_000),
  },
  {
    name: 'DH_TUNNEL_PORTS',
    commands: ['gateway'],
    doc: 'frps remote port range FROM-TO',
    check: (v) => (/^\d{1,5}-\d{1,5}$/.test(v) ? undefined : 'expected FROM-TO'),
  },
  { name: 'DH_TUNNEL_HOST', commands: ['gateway'], doc: 'public host operators connect to', check: nonEmpty },
  {
    name: 'DH_TUNNEL_SERVER',
    commands: ['gateway'],
    doc: 'frps address edges dial (host:port)',
    check: hostPorts,
  },
  {
    name: 'DH_TUNNEL_MAX_TTL',
    commands: ['gateway'],
    doc: 'longest tunnel (s)',
    ...ranged(60, 7 * 24 * 3600),
  },
  {
    name: 'DH_TUNNEL_MUX',
    commands: ['gateway'],
    doc: 'frps tcpmux PORT:DOMAIN',
    check: (v) => (/^\d{1,5}:[A-Za-z0-9.-]+$/.test(v) ? undefined : 'expected PORT:DOMAIN'),
  },
  {
    name: 'DH_TUNNEL_SSH_KEY',
    commands: ['gateway'],
    doc: 'private key file for the browser terminal',
    check: nonEmpty,
  },
  {
    name: 'DH_TUNNEL_SSH_USER',
    commands: ['gateway'],
    doc: 'user for the browser terminal',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_ADMIN_URL',
    commands: ['gateway'],
    doc: 'mqtt://host:port of the broker whose edge identities the gateway manages (none: not managed)',
    check: url('mqtt:', 'mqtts:'),
  },
  {
    name: 'DH_BROKER_ADMIN_USER',
    commands: ['gateway'],
    doc: 'the broker’s dynamic-security admin (default admin@devicehub)',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_ADMIN_PASSWORD',
    commands: ['gateway'],
    doc: 'the broker admin’s password',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_LINK_PASSWORD',
    commands: ['gateway'],
    doc: 'password of the link user (link@devicehub) the gateway creates on a bare broker',
    check: nonEmpty,
  },
  {
    name: 'DH_BROKER_RECONCILE_S',
    commands: ['gateway'],
    doc: 'seconds between passes bringing the broker in line with the registry (0: none)',
    ...ranged(0, 86_400),
  },
  {
    name: 'DH_AGENT_CONFIG',
    commands: ['agent'],
    doc: 'the agent’s configuration file (JSON; --config)',
    check: nonEmpty,
  },
  { name: 'DH_AGENT_EDGE_ID', commands: ['agent'], doc: 'the edge’s id (its broker user)', check: nonEmpty },
  { name: 'DH_AGENT_PASSWORD', commands: ['agent'], doc: 'the edge’s broker password', check: nonEmpty },
  {
    name: 'DH_AGENT_BROKER_URL',
    commands: ['agent'],
    doc: 'broker until the configuration names one: mqtt://… or kafka://host:port,…',
    check: (v) =>
      v.startsWith('kafka://')
        ? hostPorts(v.slice('kafka://'.length)) && 'expected kafka://host:port,host:port,…'
        : url('mqtt:', 'mqtts:', 'ws:', 'wss:')(v),
  },
  {
    name: 'DH_AGENT_CONFIG_URL',
    commands: ['agent'],
    doc: 'base URL of the configuration service (the gateway; none: no polling)',
    check: url('http:', 'https:'),
  },
  { name: 'DH_AGENT_DATA_DIR', commands: ['agent'], doc: 'where the agent keeps its queue', check: nonEmpty },
  {
    name: 'DH_AGENT_LOCAL_PORT',
    commands: ['agent'],
    doc: 'loopback port of the local input for elenet and litefcccore (0: none)',
    ...ranged(0, 65535),
  },
  { name: 'DH_AGENT_FRPC', commands: ['agent'], doc: 'the frpc binary tunnels run', check: nonEmpty },
  {
    name: 'DH_AGENT_TUNNEL_TOKEN',
    commands: ['agent'],
    doc: 'frps’s token (tunnels need it and frpc)',
    check: nonEmpty,
  },
];

const byName = new Map(SETTINGS.map((s) => [s.name, s]));

/** The values an integer setting takes (cli/config.ts checks its flag against the same). */
export function intRange(name: string): readonly [number, number] {
  const range = byName.get(name)?.range;
  if (range === undefined) throw new Error(`${name} is not an integer setting in cli/settings.ts`);
  return range;
}

/**
 * Checks the environment a command starts with: every known setting it reads must be valid,
 * and a `DH_` variable that this command does not read is refused (a misspelling would
 * otherwise be ignored). Throws ConfigError naming the variable.
 */
export function checkEnvironment(command: CommandName, env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue; // unset (compose writes `${X:-}` as '')
    const setting = byName.get(name);
    if (setting === undefined) {
      if (name.startsWith('DH_') && !IGNORED.has(name)) {
        const known = SETTINGS.filter((s) => s.commands.includes(command) && s.name.startsWith('DH_'));
        throw new ConfigError(
          `Unknown setting ${name} for devicehub ${command}; it reads ${known.map((s) => s.name).join(', ')}`,
          { variable: name },
        );
      }
      continue;
    }
    if (!setting.commands.includes(command)) continue; // another command's: harmless here
    const problem = setting.check(value);
    if (problem !== undefined) {
      throw new ConfigError(`Invalid ${name}=${JSON.stringify(value)}: ${problem} (${setting.doc})`, {
        variable: name,
      });
    }
  }
}

/** `DH_` variables read by the tooling rather than the commands (tests, benchmarks, profiling). */
const IGNORED = new Set(['DH_NODE_ARGS', 'DH_GATEWAY_ARGS', 'DH_LINK_ARGS', 'DH_TEST_ARTIFACTS']);
