/**
 * Prometheus metrics at `/metrics`: the gateway's own HTTP traffic, and the cluster as Redis sees
 * it at scrape time — every hub node's published stats (shards, actors, messages handled, dead
 * letters, RSS), the mailboxes' backlog, the outbox backlog and the age of its oldest entry, the
 * dead-letter stream and what edges send wrong (per code, the worst edges), the fleet. Each gateway has its own registry (several may share a process in tests).
 */
import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readNodeStats } from '../actors/mod.ts';
import {
  deadLetterEdgeCount,
  deadLetterTotals,
  execOrThrow,
  openPipeline,
  topDeadLetterEdges,
} from '../bus/mod.ts';
import { processLogShipper, registerLogShipperMetrics } from '../logs/ship/mod.ts';
import { artifactMetrics } from './artifacts/mod.ts';
import { readRouterMetrics } from './db/read-metrics.ts';
import type { GatewayDeps } from './deps.ts';
import { edgeLogMetrics } from './edge-log-metrics.ts';
import { fleetSignalMetrics } from './fleet-signals/mod.ts';
import { visionRequestMetrics } from './outbox/vision-requests.ts';
import { processMetrics } from './process-metrics.ts';
import { screenMetrics } from './screens/mod.ts';
import { certificateMetrics, loginMetrics } from './security-metrics.ts';
import { tufMetrics } from './tuf/mod.ts';
import { tunnelCounts } from './tunnels/mod.ts';

/** Edges named in the per-edge dead-letter gauge (the worst ones): bounded series, whatever the fleet. */
export const TOP_DEAD_LETTER_EDGES = 10;

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Times every request, labelled by route pattern (not path: edge ids would explode the series). */
  readonly middleware: MiddlewareHandler;
}

export function createMetrics(
  deps: Pick<GatewayDeps, 'db' | 'bus' | 'view' | 'webBackend'> &
    Partial<
      Pick<
        GatewayDeps,
        'auth' | 'credentials' | 'artifacts' | 'tuf' | 'visionRequests' | 'fleetSignals' | 'reads' | 'screens'
      >
    >,
): GatewayMetrics {
  const registry = new Registry();
  // The process's own: CPU, memory, event-loop lag, GC pauses (prefixed devicehub_gateway_).
  processMetrics(registry, 'devicehub_gateway_');
  const middleware = httpMetrics(registry);
  nodeMetrics(registry, deps);
  streamMetrics(registry, deps);
  deadLetterMetrics(registry, deps);
  edgeLogMetrics(registry, deps);
  fleetMetrics(registry, deps);
  new Gauge({
    name: 'devicehub_config_long_polls',
    help: 'Configuration long-polls this gateway holds now, waiting for a change',
    registers: [registry],
    collect() {
      this.set(deps.view.waiting);
    },
  });
  if (deps.auth !== undefined) loginMetrics(registry, deps.auth.limiter);
  if (deps.credentials !== undefined) certificateMetrics(registry, deps.credentials.certificates.stats);
  if (deps.artifacts !== undefined) artifactMetrics(registry, deps.artifacts);
  if (deps.tuf !== undefined) tufMetrics(registry, deps.tuf);
  if (deps.visionRequests !== undefined) visionRequestMetrics(registry, deps.visionRequests.stats);
  // This process's log shipping (DEVICEHUB_LOG_STORE): lines shipped, dropped, buffered on disk.
  registerLogShipperMetrics(registry, () => processLogShipper()?.stats());
  if (deps.fleetSignals !== undefined) fleetSignalMetrics(registry, deps.bus, deps.fleetSignals);
  if (deps.screens !== undefined) screenMetrics(registry, deps.screens);
  // Where heavy reads went (replica, primary) and why; the replica's lag.
  const reads = deps.reads;
  if (reads?.stats !== undefined) readRouterMetrics(registry, () => reads.stats!());
  return { registry, middleware };
}

type MetricsDeps = Pick<GatewayDeps, 'db' | 'bus' | 'webBackend'>;

/** The gateway's own requests: durations by method, route pattern and status; errors by status. */
function httpMetrics(registry: Registry): MiddlewareHandler {
  const http = new Histogram({
    name: 'devicehub_http_request_duration_seconds',
    help: 'Gateway HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'devicehub_http_errors_total',
    help: 'Gateway requests answered with an error, by code',
    labelNames: ['status'],
    registers: [registry],
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    await next();
    const status = String(c.res.status);
    http.observe(
      { method: c.req.method, route: c.req.routePath, status },
      (performance.now() - started) / 1000,
    );
    if (c.res.status >= 400) errors.inc({ status });
  };
  return middleware;
}

/** Every hub node's published stats: shards, actors, messages handled and dead-lettered, RSS. */
function nodeMetrics(registry: Registry, deps: MetricsDeps): void {
  const { bus } = deps;
  // One read of the nodes' stats serves all five node gauges of a scrape.
  let read: { at: number; stats: ReturnType<typeof readNodeStats> } | undefined;
  const nodeStats = () => {
    if (read === undefined || Date.now() - read.at > 1000)
      read = { at: Date.now(), stats: readNodeStats(bus) };
    return read.stats;
  };
  const nodeGauge = (
    name: string,
    help: string,
    pick: (s: Awaited<ReturnType<typeof readNodeStats>>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['node'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const s of await nodeStats()) this.set({ node: s.node }, pick(s));
      },
    });
  nodeGauge('devicehub_node_shards', 'Shards a hub node holds', (s) => s.shards);
  nodeGauge('devicehub_node_actors', 'Actors active on a hub node', (s) => s.actors);
  nodeGauge('devicehub_node_handled_total', 'Messages a hub node handled since it started', (s) => s.handled);
  nodeGauge(
    'devicehub_node_dead_lettered_total',
    'Messages a hub node dead-lettered since it started',
    (s) => s.deadLettered,
  );
  nodeGauge('devicehub_node_rss_bytes', 'Resident memory of a hub node', (s) => s.rssBytes);
}

/** The outbox's and the mailboxes' backlog, the outbox's oldest entry, the dead-letter stream. */
function streamMetrics(registry: Registry, { bus }: MetricsDeps): void {
  const { redis, keyspace } = bus;
  new Gauge({
    name: 'devicehub_outbox_entries',
    help: 'Entries in the outbox stream per hash-tag group (effects waiting for their consumers)',
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      const pipeline = openPipeline(redis);
      for (let g = 0; g < keyspace.tagGroups; g++) pipeline.xlen(keyspace.outbox(g));
      (await execOrThrow(pipeline)).forEach((n, g) => {
        this.set({ group: String(g) }, Number(n));
      });
    },
  });
  new Gauge({
    name: 'devicehub_outbox_oldest_age_seconds',
    help: 'Age of the oldest outbox entry per hash-tag group',
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      const pipeline = openPipeline(redis);
      for (let g = 0; g < keyspace.tagGroups; g++) pipeline.xrange(keyspace.outbox(g), '-', '+', 'COUNT', 1);
      (await execOrThrow(pipeline)).forEach((reply, g) => {
        const first = (reply as [string, string[]][])[0]?.[0];
        this.set(
          { group: String(g) },
          first ? Math.max(0, (Date.now() - Number(first.split('-')[0])) / 1000) : 0,
        );
      });
    },
  });
  new Gauge({
    name: 'devicehub_mailbox_backlog_entries',
    help: 'Mailbox entries not yet handled (unread plus read and not yet committed) per hash-tag group',
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      (await bus.mailboxBacklog()).forEach((n, g) => {
        this.set({ group: String(g) }, n);
      });
    },
  });
  new Gauge({
    name: 'devicehub_dead_letters',
    help: 'Entries in the dead-letter stream',
    registers: [registry],
    async collect() {
      this.set(await redis.xlen(keyspace.deadLetters));
    },
  });
}

/** What edges send wrong, per error code and for the worst edges. */
function deadLetterMetrics(registry: Registry, deps: MetricsDeps): void {
  const { bus } = deps;
  // What edges send wrong, with a cardinality that does not grow with the fleet: totals per error
  // code (a fixed set), how many edges have any, and the TOP_DEAD_LETTER_EDGES worst edges only
  // (50,000 edges would be 50,000 series; the count of any one edge is in /v1/dead-letters?edge=).
  let totals: { at: number; value: Promise<Record<string, number>> } | undefined;
  const readTotals = () => {
    if (totals === undefined || Date.now() - totals.at > 1000)
      totals = { at: Date.now(), value: deadLetterTotals(bus) };
    return totals.value;
  };
  new Gauge({
    name: 'devicehub_edge_dead_letters_total',
    help: 'Device messages the links dead-lettered since the keyspace began, by error code',
    labelNames: ['code'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [code, n] of Object.entries(await readTotals()))
        if (code !== 'unstored') this.set({ code }, n);
    },
  });
  new Gauge({
    name: 'devicehub_edge_dead_letters_unstored_total',
    help: "Device dead letters counted but not stored: their edge's byte budget was spent",
    registers: [registry],
    async collect() {
      this.set((await readTotals()).unstored ?? 0);
    },
  });
  new Gauge({
    name: 'devicehub_dead_letter_edges',
    help: 'Edges with at least one dead-lettered message (edge "-": messages naming no edge of the fleet)',
    registers: [registry],
    async collect() {
      this.set(await deadLetterEdgeCount(bus));
    },
  });
  new Gauge({
    name: 'devicehub_edge_dead_letters_top',
    help: `Dead-lettered messages of the ${TOP_DEAD_LETTER_EDGES} edges with the most`,
    labelNames: ['edge'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { edge, count } of await topDeadLetterEdges(bus, TOP_DEAD_LETTER_EDGES))
        this.set({ edge }, count);
    },
  });
}

/** The fleet, the tunnels by state and the web backend's backlog and refusals. */
function fleetMetrics(registry: Registry, { db, bus, webBackend }: MetricsDeps): void {
  const { redis, keyspace } = bus;
  new Gauge({
    name: 'devicehub_fleet_edges',
    help: 'Edges registered in the fleet (accepted by the links when they check)',
    registers: [registry],
    async collect() {
      this.set(await redis.scard(keyspace.fleet));
    },
  });
  new Gauge({
    name: 'devicehub_tunnels',
    help: 'Remote-access tunnels by state (as recorded; finished ones stay counted)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, n] of await tunnelCounts(db)) this.set({ state }, n);
    },
  });
  if (webBackend !== undefined) {
    new Gauge({
      name: 'devicehub_web_backend_backlog',
      help: 'Fleet events queued for the web backend and not yet delivered (all partitions)',
      registers: [registry],
      async collect() {
        this.set(await webBackend.backlog());
      },
    });
    new Gauge({
      name: 'devicehub_web_backend_refused',
      help: "Fleet events the web backend refused for good (kept in the queues' failed sets)",
      registers: [registry],
      async collect() {
        this.set(await webBackend.refused());
      },
    });
  }
}
