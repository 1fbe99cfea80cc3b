/**
 * Redis's own CPU over a window: `INFO cpu` (used_cpu_user + used_cpu_sys of the server process,
 * main thread and helpers) and `INFO commandstats` (calls and µs per command, scripts' inner
 * commands counted under their own names as well as under EVALSHA). One sample at each end of
 * the window; the difference is what the window cost Redis.
 */
import type { Redis } from '../bus/mod.ts';
import { type CommandStat, commandStats } from '../infra/mod.ts';

export interface RedisCpuSample {
  /** used_cpu_user + used_cpu_sys, µs. */
  readonly cpuMicros: number;
  /** Per command: calls and usec (commandstats). */
  readonly commands: ReadonlyMap<string, CommandStat>;
}

export async function sampleRedisCpu(redis: Redis): Promise<RedisCpuSample> {
  // Only the two sections read here (Redis 7 takes several in one INFO).
  const text = await redis.info('cpu', 'commandstats');
  const number = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  const commands = commandStats(text);
  return { cpuMicros: Math.round((number('used_cpu_user') + number('used_cpu_sys')) * 1e6), commands };
}

/** What Redis spent between two samples: its CPU, and the commands that took the most time. */
export function redisCpuBetween(
  before: RedisCpuSample,
  after: RedisCpuSample,
  top = 8,
): { cpuMicros: number; commands: Record<string, { calls: number; usec: number }> } {
  const rows: [string, { calls: number; usec: number }][] = [];
  for (const [name, a] of after.commands) {
    const b = before.commands.get(name) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) rows.push([name, { calls: a.calls - b.calls, usec: a.usec - b.usec }]);
  }
  rows.sort((x, y) => y[1].usec - x[1].usec);
  return { cpuMicros: after.cpuMicros - before.cpuMicros, commands: Object.fromEntries(rows.slice(0, top)) };
}
