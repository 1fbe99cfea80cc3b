/**
 * CPU time a process has used (user + system), read from /proc (Linux): how the benchmarks
 * count the processes that do not publish their own stats (links, brokers).
 */
import { readFileSync } from 'node:fs';

/** Linux reports process times in USER_HZ ticks, 100 a second on every architecture. */
const MICROS_PER_TICK = 10_000;

export function processCpuMicros(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
  } catch {
    return 0; // gone, or not Linux
  }
}
