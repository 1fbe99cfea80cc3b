/**
 * Where Redis's time goes, per bus script: every command Redis runs for `--seconds` is logged
 * (SLOWLOG with a threshold of 0; the settings are put back afterwards), and the bus's scripts
 * are told apart by their digest. `INFO commandstats` has one line for every EVALSHA. Run it in a
 * second shell during a benchmark's measured window (its progress line names no Redis port: `ps`
 * shows it, `redis-server 127.0.0.1:PORT`):
 *
 *   node --import tsx bench/redis-time.ts --url redis://127.0.0.1:PORT --seconds 5 --rate 6500
 *
 * The commands a script runs are logged as well, so the commands table overlaps the scripts
 * table: a script's time includes its commands'. Logging every command costs Redis a little;
 * compare scripts with each other, not with a run without the tool.
 */

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { scriptNamed } from '../bus/mod.ts';

/** One SLOWLOG entry as Redis gives it: id, unix time, µs, arguments, client address, client name. */
export type SlowlogEntry = readonly [number, number, number, readonly string[], string, string];

export interface TimeRow {
  /** A bus script's name, or a command's (lower case). */
  readonly name: string;
  readonly calls: number;
  readonly micros: number;
  /** Mean keys a call (scripts only). */
  readonly keysPerCall: number;
}

/**
 * Groups the entries into scripts (EVALSHA by digest, EVAL by body — ioredis sends a script's body
 * once where the server does not know it yet — named by `nameOf`) and the other commands, most
 * time first.
 */
export function groupSlowlog(
  entries: readonly SlowlogEntry[],
  nameOf: (digestOrBody: string) => string | undefined,
): { scripts: TimeRow[]; commands: TimeRow[] } {
  const scripts = new Map<string, { calls: number; micros: number; keys: number }>();
  const commands = new Map<string, { calls: number; micros: number; keys: number }>();
  for (const [, , micros, args] of entries) {
    const command = (args[0] ?? '?').toLowerCase();
    const isScript =
      command === 'evalsha' || command === 'evalsha_ro' || command === 'eval' || command === 'eval_ro';
    const name = isScript ? (nameOf(args[1] ?? '') ?? `script ${(args[1] ?? '?').slice(0, 8)}`) : command;
    const into = isScript ? scripts : commands;
    const row = into.get(name) ?? { calls: 0, micros: 0, keys: 0 };
    row.calls++;
    row.micros += micros;
    if (isScript) row.keys += Number(args[2]) || 0;
    into.set(name, row);
  }
  const rows = (m: typeof scripts) =>
    [...m]
      .map(([name, r]) => ({
        name,
        calls: r.calls,
        micros: r.micros,
        keysPerCall: Math.round(r.keys / r.calls),
      }))
      .sort((a, b) => b.micros - a.micros);
  return { scripts: rows(scripts), commands: rows(commands) };
}

/** A markdown table of rows: per call, a second, and per message when the rate is known. */
export function formatRows(
  title: string,
  rows: readonly TimeRow[],
  o: { readonly seconds: number; readonly rate?: number; readonly top?: number },
): string {
  const head = `| ${title} | calls/s | µs a call | keys a call | ms a second |${o.rate === undefined ? '' : ' µs a message |'}`;
  const rule = `| --- | ---: | ---: | ---: | ---: |${o.rate === undefined ? '' : ' ---: |'}`;
  const lines = rows.slice(0, o.top ?? 12).map((r) => {
    const perSec = r.micros / o.seconds;
    const cells = [
      r.name,
      (r.calls / o.seconds).toFixed(0),
      (r.micros / r.calls).toFixed(1),
      r.keysPerCall > 0 ? String(r.keysPerCall) : '',
      (perSec / 1000).toFixed(1),
    ];
    if (o.rate !== undefined) cells.push((perSec / o.rate).toFixed(2));
    return `| ${cells.join(' | ')} |`;
  });
  return [head, rule, ...lines].join('\n');
}

/** Logs every command for `seconds` and returns the log; the server's slowlog settings are restored. */
export async function recordSlowlog(
  redis: Redis,
  seconds: number,
  maxEntries = 500_000,
): Promise<SlowlogEntry[]> {
  const [, threshold] = (await redis.config('GET', 'slowlog-log-slower-than')) as [string, string];
  const [, maxLen] = (await redis.config('GET', 'slowlog-max-len')) as [string, string];
  try {
    await redis.config('SET', 'slowlog-max-len', String(maxEntries));
    await redis.slowlog('RESET');
    await redis.config('SET', 'slowlog-log-slower-than', '0');
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await redis.config('SET', 'slowlog-log-slower-than', threshold);
    const log = (await redis.slowlog('GET', String(maxEntries))) as SlowlogEntry[];
    if (log.length >= maxEntries)
      throw new RangeError(`redis-time: the log filled up (${maxEntries} entries); record fewer seconds`);
    return log;
  } finally {
    await redis.config('SET', 'slowlog-log-slower-than', threshold);
    await redis.config('SET', 'slowlog-max-len', maxLen);
    await redis.slowlog('RESET');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      seconds: { type: 'string', default: '5' },
      rate: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  if (values.url === undefined || !values.url.startsWith('redis://'))
    throw new RangeError('redis-time: --url redis://HOST:PORT is needed (the benchmark prints its Redis)');
  if (!(seconds > 0) || (rate !== undefined && !(rate > 0)))
    throw new RangeError('redis-time: --seconds and --rate must be positive numbers');
  const redis = new Redis(values.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    process.stderr.write(`redis-time: logging every command for ${seconds} s…\n`);
    const log = await recordSlowlog(redis, seconds);
    const { scripts, commands } = groupSlowlog(log, scriptNamed);
    const o = { seconds, ...(rate === undefined ? {} : { rate }) };
    process.stdout.write(`${formatRows('script', scripts, o)}\n\n${formatRows('command', commands, o)}\n`);
  } finally {
    redis.disconnect();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
