/**
 * The Prometheus exporters (Debian's packages) on free loopback ports: node_exporter for the
 * host's CPU, memory, disk and network (the collectors that read /proc and /sys; those that talk
 * to systemd or need root are left off), redis_exporter for a Redis (one server, or a Redis
 * Cluster through one of its nodes) and postgres_exporter for a PostgreSQL. Each is
 * `{ url, port, target }` (target: host:port, for a scrape job) and a process to stop.
 */
import { freePort } from './free-port.ts';
import { startMonitoringProcess } from './monitoring-process.ts';
import { type ServerProcess, withControls } from './server-process.ts';

export interface ExporterServer extends ServerProcess, AsyncDisposable {
  /** `http://127.0.0.1:<port>/metrics` */
  readonly url: string;
  readonly port: number;
  /** `127.0.0.1:<port>`, as a scrape job names it. */
  readonly target: string;
}

async function startExporter(o: {
  server: 'node-exporter' | 'redis-exporter' | 'postgres-exporter';
  args: (port: number) => string[];
  env?: Record<string, string>;
  port?: number;
  logFile?: string;
}): Promise<ExporterServer> {
  const port = o.port ?? (await freePort());
  const proc = await startMonitoringProcess({
    server: o.server,
    port,
    args: o.args(port),
    ...(o.env ? { env: o.env } : {}),
    ...(o.logFile ? { logFile: o.logFile } : {}),
  });
  return withControls(proc, { url: `http://127.0.0.1:${port}/metrics`, port, target: `127.0.0.1:${port}` });
}

/** node_exporter: this host's figures (node_cpu_seconds_total, node_memory_*, node_filesystem_*, node_network_*). */
export function startNodeExporter(o: { port?: number; logFile?: string } = {}): Promise<ExporterServer> {
  return startExporter({
    server: 'node-exporter',
    args: (port) => [
      `--web.listen-address=127.0.0.1:${port}`,
      // Debian's default textfile folder may not exist or be someone else's.
      '--no-collector.textfile',
      // Not in a container without systemd or the rights: they would only log errors.
      '--no-collector.systemd',
    ],
    ...o,
  });
}

/**
 * redis_exporter for `redisUrl`: `redis://host:port` (one server) or `redis+cluster://a:1,b:2`
 * (a Redis Cluster, scraped through its first node with `-is-cluster`).
 */
export function startRedisExporter(
  redisUrl: string,
  o: { port?: number; logFile?: string } = {},
): Promise<ExporterServer> {
  const cluster = redisUrl.startsWith('redis+cluster://');
  const addr = cluster ? `redis://${redisUrl.slice('redis+cluster://'.length).split(/[,/?]/)[0]}` : redisUrl;
  return startExporter({
    server: 'redis-exporter',
    args: (port) => [
      `-web.listen-address=127.0.0.1:${port}`,
      `-redis.addr=${addr}`,
      ...(cluster ? ['-is-cluster'] : []),
    ],
    ...o,
  });
}

/** postgres_exporter for the PostgreSQL at `dsn` (`postgres://user:pass@host:port/db`). */
export function startPostgresExporter(
  dsn: string,
  o: { port?: number; logFile?: string } = {},
): Promise<ExporterServer> {
  const url = new URL(dsn);
  // Loopback servers of the suite speak no TLS; a DSN that says otherwise is kept.
  if (!url.searchParams.has('sslmode') && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    url.searchParams.set('sslmode', 'disable');
  return startExporter({
    server: 'postgres-exporter',
    args: (port) => [`--web.listen-address=127.0.0.1:${port}`],
    // The DSN (a password in it) through the environment, not the command line.
    env: { DATA_SOURCE_NAME: url.href },
    ...o,
  });
}
