/**
 * Configuration shared by the CLI commands: flags first, then environment variables, then
 * defaults; every value validated at start-up with an error naming the flag and variable.
 */
import { createKeyspace, type Keyspace } from '../bus/mod.ts';
import { intRange } from './settings.ts';

export interface ClusterConfig {
  readonly redisUrl: string | undefined;
  readonly keyspace: Keyspace;
}

function int(
  name: string,
  env: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Invalid --${name} / ${env}: expected an integer ${min}..${max}, got "${raw}"`);
  }
  return value;
}

export function clusterConfig(flags: Record<string, string | boolean | undefined>): ClusterConfig {
  const str = (flag: string, env: string) =>
    typeof flags[flag] === 'string' ? (flags[flag] as string) : process.env[env];
  const keyspace = createKeyspace({
    prefix: str('prefix', 'DH_PREFIX') ?? 'dh',
    shards: intFlag(flags, 'shards', 'DH_SHARDS', 1024),
    tagGroups: intFlag(flags, 'tag-groups', 'DH_TAG_GROUPS', 1),
  });
  return { redisUrl: str('redis', 'REDIS_URL'), keyspace };
}

export const clusterFlags = {
  redis: { type: 'string' },
  prefix: { type: 'string' },
  shards: { type: 'string' },
  'tag-groups': { type: 'string' },
} as const;

/** An integer from `--name` or else `env`, in the range the settings schema gives `env`. */
export function intFlag(
  flags: Record<string, string | boolean | undefined>,
  name: string,
  env: string,
  fallback: number,
): number {
  const raw = typeof flags[name] === 'string' ? (flags[name] as string) : process.env[env];
  const [min, max] = intRange(env);
  return int(name, env, raw, fallback, min, max);
}
