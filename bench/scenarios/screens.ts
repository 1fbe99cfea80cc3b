/**
 * `screens`: the wall screens' read side under load (issue 20's benchmark).
 * - N edges (`--edges`, the issue's figure 50,000) registered in buildings of 25 (`group:b-<k>`),
 *   their state simulated at the legacy rate into the read model: each edge's tile changes once a
 *   second (what its 1 Hz status does), written into the outbox as its actor would publish it
 *   (tile-feeder.ts, its own process). BENCH_SCREENS_FEED=hub sends the legacy workload through
 *   two hub nodes' edge actors instead (1.3 msg/s/edge: on this machine the hub, not the read
 *   side, then binds past ~5,000 edges);
 * - `screens` wall screens (2,000, fewer than edges/5 never) on live SSE streams of their
 *   building's scope: edge → screen is each changed tile's arrival less its `enteredAt`;
 * - snapshot polls (`GET /v1/screens/{scope}` with `If-None-Match`) offered at 10,000/s, open loop,
 *   from a load process of their own: snapshotPerSec, snapshotP99Ms; then the same polls against
 *   a bare HTTP server (poll-floor.ts) twice: beside the rest of the load (the feeder, the streams,
 *   the gateway's feed), what any server gets on these shared cores: snapshotLoadedFloorP99Ms; and
 *   with everything stopped, the machine's floor: snapshotFloorP99Ms;
 * - the alarm history (screens-alarms.ts): rows seeded (BENCH_ALARM_ROWS, default 10,000,000)
 *   over 12 monthly partitions, pages by edge / building / kind read from the streaming replica,
 *   its lag sampled throughout.
 * Everything shares this machine's cores: the hub, Redis, the gateway, both load processes, the
 * bench itself and PostgreSQL with its replica.
 */

import { createApiKey, openDatabase } from '../../gateway/mod.ts';
import { registerEdges } from '../../gateway/register-edges.ts';
import { startPostgres, waitFor } from '../../infra/mod.ts';
import { edgeId, startBenchCluster } from '../cluster.ts';
import { sampleGateway } from '../gateway-sampler.ts';
import { percentiles } from '../http-client.ts';
import { measurePollFloor } from '../poll-floor.ts';
import type { Target } from '../report.ts';
import type { ScenarioOptions, ScenarioResult } from './common.ts';
import { measureAlarmQueries } from './screens-alarms.ts';
import { runPacedLoad } from './screens-load.ts';
import { openScreenStreams } from './screens-streams.ts';

const PER_BUILDING = 25;
const SNAPSHOT_RATE = 10_000;
const MAX_SCREENS = 2000;

const mean = (xs: readonly number[]) =>
  xs.length === 0 ? 0 : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;

export interface ScreensOptions {
  /** Where the tiles come from: the outbox (default, tile-feeder.ts) or the hub's edge actors. */
  readonly feed?: 'outbox' | 'hub';
  /** Alarm rows seeded for the history queries (default 10,000,000). */
  readonly alarmRows?: number;
  /**
   * Gateway processes serving the screens (`devicehub gateway --workers N`; default 1, embedded
   * PGlite). More than one needs PostgreSQL: the bench starts one for the gateway.
   */
  readonly gatewayWorkers?: number;
}

/**
 * The command line's environment, checked: BENCH_SCREENS_FEED (outbox|hub), BENCH_ALARM_ROWS,
 * BENCH_GATEWAY_WORKERS.
 */
export function screensOptions(env: Readonly<Record<string, string | undefined>>): ScreensOptions {
  const feed = env.BENCH_SCREENS_FEED;
  if (feed !== undefined && feed !== 'outbox' && feed !== 'hub')
    throw new RangeError(`BENCH_SCREENS_FEED must be outbox or hub, got ${feed}`);
  const rows = env.BENCH_ALARM_ROWS === undefined ? undefined : Number(env.BENCH_ALARM_ROWS);
  if (rows !== undefined && !(Number.isInteger(rows) && rows >= 0))
    throw new RangeError(`BENCH_ALARM_ROWS must be a whole number, got ${env.BENCH_ALARM_ROWS}`);
  const workers = env.BENCH_GATEWAY_WORKERS === undefined ? undefined : Number(env.BENCH_GATEWAY_WORKERS);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= 64))
    throw new RangeError(`BENCH_GATEWAY_WORKERS must be 1 to 64, got ${env.BENCH_GATEWAY_WORKERS}`);
  return {
    ...(feed === undefined ? {} : { feed }),
    ...(rows === undefined ? {} : { alarmRows: rows }),
    ...(workers === undefined ? {} : { gatewayWorkers: workers }),
  };
}

export async function screensScenario(o: ScenarioOptions, s: ScreensOptions = {}): Promise<ScenarioResult> {
  const feed = s.feed ?? 'outbox';
  const buildings = Math.max(1, Math.ceil(o.edges / PER_BUILDING));
  const screens = Math.min(MAX_SCREENS, Math.max(1, Math.floor(o.edges / 5)));
  const scopes = Array.from({ length: screens }, (_, i) => `group:b-${i % buildings}`);
  const seconds = Math.max(2, o.seconds);
  const gatewayWorkers = s.gatewayWorkers ?? 1;
  // The same polls against a bare HTTP server (bench/poll-floor.ts): once beside the load
  // (measureLive), once alone, this machine's floor.
  const floorPlan = {
    scopes: new Set(scopes).size,
    tilesPerScope: Math.min(PER_BUILDING, o.edges),
    rate: SNAPSHOT_RATE,
    seconds: Math.min(seconds, 10),
  };
  const live = await measureLive(o.edges, { buildings, scopes, seconds, feed, gatewayWorkers, floorPlan });
  const floor = await measurePollFloor(floorPlan);
  const rows = s.alarmRows ?? 10_000_000;
  const alarms = await measureAlarmQueries({
    rows,
    edges: o.edges,
    queries: Math.max(30, Math.min(600, rows / 1000)),
  });
  const edgeToScreen = percentiles(live.latencies);
  const result = {
    edges: o.edges,
    feed,
    gatewayWorkers,
    screens,
    screensOpen: live.open,
    snapshotPerSec: live.snapshots.perSecond,
    snapshotP99Ms: live.snapshots.latencyMs.p99,
    snapshotP99MsBySecond: live.snapshots.p99BySecond,
    snapshotStatuses: live.snapshots.statuses,
    // The gateway's own seconds beside the p99s: its longest event-loop stall, and its GC time.
    gatewayLoopMaxMsBySecond: live.gatewaySeconds.map((g) => g.loopMaxMs),
    pollClientLoopMaxMsBySecond: live.snapshots.clientLoopMaxMsBySecond,
    gatewayGcMsBySecond: live.gatewaySeconds.map((g) => g.gcMs),
    gatewayHeapUsedMbBySecond: live.gatewaySeconds.map((g) => g.heapUsedMb),
    // The cores the (scraped) gateway process used: a figure that moves far less from run to run
    // than a p99 on these shared cores, for comparing two versions of the read side.
    gatewayCpuCores: mean(live.gatewaySeconds.map((g) => g.cpuCores)),
    gatewayCpuCoresBySecond: live.gatewaySeconds.map((g) => g.cpuCores),
    snapshotFloorP99Ms: floor.latencyMs.p99,
    snapshotFloorPerSec: floor.perSecond,
    snapshotLoadedFloorP99Ms: live.loadedFloor.latencyMs.p99,
    snapshotLoadedFloorP99MsBySecond: live.loadedFloor.p99BySecond,
    snapshotLoadedFloorPerSec: live.loadedFloor.perSecond,
    edgeToScreenP99Ms: edgeToScreen.p99,
    edgeToScreenSamples: live.latencies.length,
    deltas: live.deltas,
    alarmQueryP99Ms: alarms.alarmQueryMs.p99,
    alarmQueries: alarms.queries,
    rows: alarms.rows,
    seedMs: alarms.seedMs,
    replicaLagMsMax: alarms.replicaLagMsMax,
  };
  const targets: Target[] = [
    { metric: 'screens on live streams', value: live.open, target: `${screens}`, met: live.open === screens },
    {
      metric: `snapshot polls answered /s (${SNAPSHOT_RATE} offered)`,
      value: live.snapshots.perSecond,
      target: `≥ ${SNAPSHOT_RATE.toLocaleString('en')}`,
      met: live.snapshots.perSecond >= SNAPSHOT_RATE * 0.98,
    },
    {
      metric: 'snapshot p99 (ms)',
      value: result.snapshotP99Ms,
      target: '< 10',
      met: result.snapshotP99Ms < 10,
    },
    {
      metric: 'snapshot p99 of a bare HTTP server, same polls (ms)',
      value: floor.latencyMs.p99,
      target: '—',
      met: true,
    },
    {
      metric: 'the same, bare server beside the rest of the load (ms)',
      value: result.snapshotLoadedFloorP99Ms,
      target: '—',
      met: true,
    },
    {
      metric: 'gateway CPU while polled (cores)',
      value: result.gatewayCpuCores,
      target: '—',
      met: true,
    },
    {
      metric: 'edge → screen p99 (ms)',
      value: result.edgeToScreenP99Ms,
      target: '< 1,000',
      met: live.latencies.length > 0 && result.edgeToScreenP99Ms < 1000,
    },
    {
      metric: `alarm history query p99 at ${alarms.rows.toLocaleString('en')} rows (ms)`,
      value: result.alarmQueryP99Ms,
      target: '< 50 at 10M rows',
      met: result.alarmQueryP99Ms < 50 && alarms.rows >= 10_000_000,
    },
    { metric: 'replica lag max (ms)', value: result.replicaLagMsMax, target: 'reported', met: true },
  ];
  const x = live.snapshots.p99BySecond.map((_, i) => i + 1);
  return {
    result,
    targets,
    plot: {
      xLabel: 'second of the snapshot-poll phase',
      x,
      charts: [
        { label: `snapshot p99 ms at ${SNAPSHOT_RATE}/s offered`, values: live.snapshots.p99BySecond },
        { label: 'edge → screen p99 ms', values: x.map((_, i) => percentiles(live.bySecond[i] ?? []).p99) },
        {
          label: 'gateway event-loop stall max ms',
          values: x.map((_, i) => live.gatewaySeconds[i]?.loopMaxMs ?? 0),
        },
      ],
    },
  };
}

/** The hub, the gateway and the load; the screens' streams and the snapshot polls over it. */
async function measureLive(
  edges: number,
  o: {
    buildings: number;
    scopes: readonly string[];
    seconds: number;
    feed: 'outbox' | 'hub';
    gatewayWorkers: number;
    /** The bare server's polls, made beside the load once the gateway's are done. */
    floorPlan: Parameters<typeof measurePollFloor>[0];
  },
) {
  await using cluster = await startBenchCluster();
  // Several gateway processes share one database: PostgreSQL (PGlite is one process's).
  await using pg = o.gatewayWorkers > 1 ? await startPostgres() : undefined;
  const databaseUrl =
    pg === undefined ? undefined : await pg.createDatabase(`bench_screens_gw_${process.pid}`);
  const gatewayArgs =
    databaseUrl === undefined ? [] : ['--database-url', databaseUrl, '--workers', String(o.gatewayWorkers)];
  if (o.feed === 'hub') {
    await cluster.startNode('node-1');
    await cluster.startNode('node-2');
  }
  let key = '';
  const gateway = await cluster.startGateway(gatewayArgs, async (dataDir) => {
    const database = await openDatabase(databaseUrl === undefined ? { dataDir } : { url: databaseUrl });
    const list = Array.from({ length: edges }, (_, i) => ({
      id: edgeId(i),
      secret: `screen-bench-${i}`,
      groupId: `b-${Math.floor(i / PER_BUILDING) % o.buildings}`,
    }));
    await registerEdges(database.db, cluster.bus, list);
    key = (await createApiKey(database.db, { name: 'bench-screens', scope: 'operator' })).key;
    await database.close();
  });
  // The load first: the tiles move while the screens connect.
  const load =
    o.feed === 'hub'
      ? cluster.startLoad(edges, o.seconds * 2 + 30)
      : cluster.startTileFeed(edges, o.seconds * 2 + 30);
  console.error(`bench screens: ${o.scopes.length} screens opening their streams…`);
  const streams = openScreenStreams({ url: gateway.url, key, scopes: o.scopes });
  await waitFor(() => streams.open() + streams.stats.ended >= o.scopes.length, {
    timeoutMs: 120_000,
    message: `${o.scopes.length} screens' first snapshots`,
  });
  // Each second's edge → screen latencies (the plot), while the snapshot polls run.
  const bySecond: number[][] = [];
  let taken = streams.latencies.length;
  const ticker = setInterval(() => {
    bySecond.push(streams.latencies.slice(taken));
    taken = streams.latencies.length;
  }, 1000);
  console.error(`bench screens: snapshot polls at ${SNAPSHOT_RATE}/s for ${o.seconds} s…`);
  const distinct = [...new Set(o.scopes)];
  const sampler = sampleGateway(gateway.url);
  const snapshots = await runPacedLoad({
    url: gateway.url,
    paths: distinct.map((s) => `/v1/screens/${s}`),
    headers: { authorization: `Bearer ${key}` },
    rate: SNAPSHOT_RATE,
    seconds: o.seconds,
  });
  clearInterval(ticker);
  // The sampler ran through the load's warm-up too: its last seconds are the measured ones.
  const gatewaySeconds = (await sampler.stop()).slice(-snapshots.p99BySecond.length);
  const open = streams.open();
  const latencies = streams.latencies.slice();
  const deltas = streams.stats.deltas;
  // The same polls against a bare server (poll-floor.ts) while everything else goes on: the
  // feeder, the gateway's feed and its live streams, the screens reading them. What a poll can
  // take at best on these shared cores, whatever answers it (the gateway itself is not polled
  // meanwhile, so it is lighter than during its own polls: a floor, not a twin).
  console.error('bench screens: the same polls against a bare server, beside the rest of the load…');
  const loadedFloor = await measurePollFloor(o.floorPlan);
  streams.close();
  load.stop();
  return { open, latencies, bySecond, deltas, snapshots, gatewaySeconds, loadedFloor };
}
