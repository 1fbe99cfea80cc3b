/**
 * The bus's Lua scripts, loaded from `lua/` and defined on each connection (EVALSHA with a
 * fallback to EVAL, also inside pipelines). Each script file documents its KEYS, ARGV and reply;
 * a line `--#include lib/<file>.lua` is replaced by that file (Lua shared by several scripts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ChainableCommander } from 'ioredis';
import { ScriptsNotLoadedError } from './errors.ts';
import type { Redis } from './redis.ts';

const names = [
  'heartbeat',
  'acquire',
  'renew',
  'release',
  'enqueue-many',
  'read-ready',
  'read-shards',
  'commit',
  'fire-timers',
  'trim',
  'backlog',
  'ports-allocate',
  'ports-release',
  'lease',
  'dead-letter',
  'ezviz-budget',
  'ezviz-cooldown',
  'alert-event',
  'read-after',
  'live',
] as const;
export type ScriptName = (typeof names)[number];

const readLua = (path: string): string => readFileSync(new URL(`./lua/${path}`, import.meta.url), 'utf8');

const sources: Record<ScriptName, string> = Object.fromEntries(
  names.map((name) => [
    name,
    readLua(`${name}.lua`).replace(/^--#include (lib\/[a-z-]+\.lua)$/gm, (_, path: string) => readLua(path)),
  ]),
) as Record<ScriptName, string>;

const digests = new Map(names.map((name) => [createHash('sha1').update(sources[name]).digest('hex'), name]));
const PREFIX = 64;
const byPrefix = new Map(names.map((name) => [sources[name].slice(0, PREFIX), name]));

/**
 * The bus script an EVALSHA digest or an EVAL body names (a body as SLOWLOG keeps it, cut after
 * 128 bytes, will do: the scripts differ within their first 64 characters). Undefined for any other.
 */
export function scriptNamed(digestOrBody: string): ScriptName | undefined {
  return digests.get(digestOrBody) ?? byPrefix.get(digestOrBody.slice(0, PREFIX));
}

const commandName = (name: ScriptName): string => `dh_${name.replace('-', '_')}`;

export function registerScripts(redis: Redis): void {
  for (const name of names) {
    redis.defineCommand(commandName(name), { lua: sources[name] });
  }
}

type ScriptCall = (numKeys: number, ...args: (string | number)[]) => Promise<unknown>;

/**
 * Runs a bus script on a connection or queues it on a pipeline: the raw call, private to bus/.
 * Everyone else uses the typed operations of `Bus` (bus.ts), whose replies bus/replies.ts reads.
 * Positional on purpose: private to bus/ and generic (a script's name, keys and args, as EVALSHA takes them).
 */
export function runScript(
  target: Redis | ChainableCommander,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const call = (target as unknown as Record<string, ScriptCall>)[commandName(name)];
  if (call === undefined) {
    throw new ScriptsNotLoadedError(name);
  }
  return call.call(target, keys.length, ...keys, ...args);
}
