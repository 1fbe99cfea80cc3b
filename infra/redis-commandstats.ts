/**
 * Reads `INFO commandstats`: calls and µs per command, by Redis's own names (`evalsha`,
 * `xreadgroup`, `client|list`…; a script's inner commands are counted under their own names too).
 * For the test Redis's command counts (test-redis.ts) and the benchmarks' Redis CPU (bench/redis-cpu.ts).
 */

/** One command's totals since the server started (or since CONFIG RESETSTAT). */
export interface CommandStat {
  readonly calls: number;
  readonly usec: number;
}

/** Each command's calls and µs, from the text of `INFO commandstats` (other sections are ignored). */
export function commandStats(info: string): Map<string, CommandStat> {
  const stats = new Map<string, CommandStat>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return stats;
}
