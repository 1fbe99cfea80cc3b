/**
 * This process's CPU time and resident memory: what a hub node publishes in its stats
 * (cpuMicros, rssBytes) and what a worker's /metrics exports under prom-client's default names
 * (`PromText.processUsage`: process_cpu_seconds_total, process_resident_memory_bytes,
 * process_start_time_seconds), so the servers page charts every hub process alike.
 */

export interface ProcessUsage {
  /** User + system CPU time since the process started, µs. */
  readonly cpuMicros: number;
  readonly rssBytes: number;
  /** When the process started, unix seconds. */
  readonly startSeconds: number;
}

/**
 * When this process started, read once: the wall clock less the uptime moves by milliseconds from
 * one read to the next, and rounded it could flip a second, which would look like a restart.
 */
const START_SECONDS = Math.round(Date.now() / 1000 - process.uptime());

/** Reads this process's usage now (two cheap syscalls: getrusage and the RSS). */
export function processUsage(): ProcessUsage {
  const cpu = process.cpuUsage();
  return {
    cpuMicros: cpu.user + cpu.system,
    rssBytes: process.memoryUsage.rss(),
    startSeconds: START_SECONDS,
  };
}
