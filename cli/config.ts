/**
 * Configuration shared by the CLI commands: flags first, then environment variables, then
 * defaults; every value validated at start-up with an error naming the flag and variable.
 */
import { type Bus, createKeyspace, ensureLayout, type Keyspace, openBus, type Redis } from '../bus/mod.ts';
import { intRange } from './settings.ts';

export interface ClusterConfig {
  readonly redisUrl: string | undefined;
  readonly keyspace: Keyspace;
}

export function clusterConfig(flags: Record<string, string | boolean | undefined>): ClusterConfig {
  const str = (flag: string, env: string) =>
    typeof flags[flag] === 'string' ? (flags[flag] as string) : process.env[env];
  const keyspace = createKeyspace({
    prefix: str('prefix', 'DH_PREFIX') ?? 'dh',
    shards: intFlag(flags, { name: 'shards', env: 'DH_SHARDS', fallback: 1024 }),
    tagGroups: intFlag(flags, { name: 'tag-groups', env: 'DH_TAG_GROUPS', fallback: 1 }),
  });
  return { redisUrl: str('redis', 'REDIS_URL'), keyspace };
}

/**
 * The cluster's bus on `redis`, once the layout stored in Redis is this process's (the first
 * process to start stores it). A link, gateway or worker with other `--shards` or
 * `--tag-groups` would write messages into mailboxes no hub node reads, and lose them without a
 * word; it refuses to start instead (LayoutMismatchError names both layouts). Waits for Redis.
 */
export async function openClusterBus(redis: Redis, config: ClusterConfig): Promise<Bus> {
  const bus = openBus({ redis, keyspace: config.keyspace });
  await ensureLayout(bus);
  return bus;
}

export const clusterFlags = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  shards: { type: 'string' },
  'tag-groups': { type: 'string' },
} as const;

/** Where an integer setting comes from: a flag, else an environment variable, else a default. */
export interface IntSetting {
  /** The flag's name, without `--`. */
  readonly name: string;
  /** The environment variable; the settings schema gives its range. */
  readonly env: string;
  /** The value when neither is set. */
  readonly fallback: number;
}

/** An integer from `--name` or else `env`, in the range the settings schema gives `env`. */
export function intFlag(flags: Record<string, string | boolean | undefined>, setting: IntSetting): number {
  const { name, env, fallback } = setting;
  const raw = typeof flags[name] === 'string' ? (flags[name] as string) : process.env[env];
  const [min, max] = intRange(env);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid --${name} / ${env}: expected an integer ${min}..${max}, got "${raw}"`);
  }
  return value;
}
