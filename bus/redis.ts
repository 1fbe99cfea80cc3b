/**
 * Redis connections for DeviceHub: one factory, so every part of the system connects the same
 * way and has the bus's Lua scripts registered.
 */
import { Redis } from 'ioredis';
import { registerScripts } from './scripts.ts';

export type { Redis } from 'ioredis';

export interface ConnectOptions {
  /** Connection name shown by CLIENT LIST, e.g. `node:n1`. */
  name?: string;
  /** Fail commands at once instead of queueing them while disconnected. Default false. */
  failFast?: boolean;
}

/** Opens a connection to `url` (redis://host:port/db) with the bus's scripts defined on it. */
export function connectRedis(url: string, options: ConnectOptions = {}): Redis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new RangeError(`Cannot connect to Redis: "${url}" is not a URL (expected redis://host:port)`, {
      cause,
    });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RangeError(
      `Cannot connect to Redis: protocol must be redis: or rediss:, got "${parsed.protocol}"`,
    );
  }
  const redis = new Redis(url, {
    connectionName: options.name,
    enableAutoPipelining: false,
    maxRetriesPerRequest: options.failFast ? 0 : null,
    enableOfflineQueue: !options.failFast,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 1000),
  });
  registerScripts(redis);
  return redis;
}
