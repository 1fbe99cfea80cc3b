/**
 * `devicehub clips`: one alarm clip worker process — BullMQ clip jobs from Redis, Ezviz under the
 * cluster's budget, PostgreSQL's `clips` rows, the object store — with its /metrics and the
 * retention sweeper (one process of the cluster at a time sweeps, under a named lease). As many as
 * the fleet needs, on any machine; SIGTERM lets the runs in flight end.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { connectRedis } from '../bus/mod.ts';
import {
  openEzvizClient,
  renderClipMetrics,
  serveClipMetrics,
  startClipRetention,
  startClipWorkers,
} from '../clips/mod.ts';
import { openDatabase } from '../gateway/mod.ts';
import { openObjectStore } from '../objects/mod.ts';
import { clusterConfig, clusterFlags, intFlag, openClusterBus } from './config.ts';
import { logShippingMetrics } from './log-shipping.ts';
import { processLogger } from './logger.ts';
import { stopOnSignals } from './shutdown.ts';

export const clipsHelp = `devicehub clips [options]    run alarm clip workers: Ezviz saves each alarm's recording, the worker
                               downloads, checks (ffprobe), makes a poster (ffmpeg) and stores it (stops on SIGTERM/SIGINT
                               once the runs in flight end; a killed worker's jobs are taken by another after --lock-ms)

  --redis URL          Redis URL (env REDIS_URL; required)
  --prefix P           key namespace (env DH_PREFIX; default dh)
  --shards N           shards in the cluster (env DH_SHARDS; default 1024)
  --tag-groups N       Redis Cluster hash-tag groups (env DH_TAG_GROUPS; default 1)
  --database-url URL   PostgreSQL with the clips table (env DATABASE_URL; required)
  --object-store URL   where clips are kept (env DH_OBJECT_STORE; default file://$PWD/.devicehub/objects):
                       file:///abs/dir or s3://bucket?endpoint=…&region=…&forcePathStyle=1
  --ezviz URL          the Ezviz Open Platform (env DH_EZVIZ_URL; default https://open.ys7.com)
  --ezviz-app-key K    the account's appKey (env DH_EZVIZ_APP_KEY; required); its appSecret only from
                       the environment: DH_EZVIZ_APP_SECRET (required)
  --budget N           Ezviz calls per second, the whole cluster (env DH_EZVIZ_BUDGET_PER_SECOND; default 5)
  --burst N            calls at once after a quiet spell (env DH_EZVIZ_BUDGET_BURST; default = --budget)
  --concurrency N      clip jobs this process runs at once (env DH_CLIPS_CONCURRENCY; default 4)
  --id ID              this worker's name (env DH_CLIPS_ID; default clips-<host>-<pid>)
  --tmp-dir DIR        where downloads wait for their checks (env DH_CLIPS_TMP_DIR)
  --lock-ms MS         a job's lock: a dead worker's job is taken again after it (env DH_CLIPS_LOCK_MS; default 15000)
  --stalled-ms MS      how often dead workers' jobs are looked for (env DH_CLIPS_STALLED_MS; default 10000)
  --poll-ms MS         first wait between polls of an Ezviz task (env DH_CLIPS_POLL_MS; default 5000)
  --retry-ms MS        first backoff after a retryable failure (env DH_CLIPS_RETRY_MS; default 5000)
  --retention-s S      seconds between retention sweeps (env DH_CLIPS_RETENTION_S; default 60)
  --metrics-port N     serve Prometheus /metrics on this port (env DH_METRICS_PORT; default: none)
  --metrics-host H     ... on this address (env DH_METRICS_HOST; default 127.0.0.1)`;

export async function clipsCommand(argv: string[]): Promise<void> {
  const o = parseClipsArgs(argv);
  const { config, holder, budget } = o;
  const log = processLogger('clips').child({ worker: holder });

  const redis = connectRedis(o.redisUrl, { name: `clips:${holder}` });
  redis.on('error', (err) => log.warn({ err }, 'redis connection error'));
  const bus = await openClusterBus(redis, config);
  const database = await openDatabase({ url: o.databaseUrl });
  const store = await openObjectStore(o.objectStore);
  const ezviz = openEzvizClient({
    ...o.ezviz,
    redis,
    keyspace: config.keyspace,
    budget,
    logger: log,
  });
  const workers = await startClipWorkers({
    bus,
    db: database.db,
    store,
    ezviz,
    holder,
    logger: log,
    concurrency: o.concurrency,
    ...(o.tmpDir ? { tmpDir: o.tmpDir } : {}),
    timings: o.timings,
  });
  const retention = startClipRetention({
    bus,
    db: database.db,
    store,
    holder,
    logger: log,
    everyMs: o.retentionMs,
  });
  const metrics =
    o.metricsPort > 0
      ? await serveClipMetrics({
          port: o.metricsPort,
          host: o.metricsHost,
          logger: log,
          collect: async () =>
            renderClipMetrics({
              holder,
              jobCounts: await workers.jobCounts(),
              worker: workers.stats,
              ezviz: ezviz.stats,
              budget,
              retention: retention.stats,
            }) + logShippingMetrics(),
        })
      : undefined;
  stopOnSignals({
    log,
    // A run in flight may be a download and a full decode: give it a minute.
    timeoutMs: 60_000,
    steps: [
      { name: 'closing /metrics', run: async () => void (await metrics?.close()) },
      { name: 'stopping the retention sweeper', run: () => retention.close() },
      { name: 'letting the clip runs in flight end', run: () => workers.close() },
      { name: 'closing the object store', run: async () => await store[Symbol.asyncDispose]() },
      { name: 'closing the database', run: () => database.close() },
      { name: 'closing Redis', run: async () => void redis.disconnect() },
    ],
  });
  log.info({ metrics: metrics?.url, budget }, 'clip worker ready');
  // A parent that spawned us with an IPC channel (tests, demo, benchmarks) learns we are up.
  process.send?.({ ready: true, holder, metrics: metrics?.url });
}

/** The flags and environment of `devicehub clips`, checked, with their defaults. */
function parseClipsArgs(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...clusterFlags,
      'database-url': { type: 'string' },
      'object-store': { type: 'string' },
      ezviz: { type: 'string' },
      'ezviz-app-key': { type: 'string' },
      budget: { type: 'string' },
      burst: { type: 'string' },
      concurrency: { type: 'string' },
      id: { type: 'string' },
      'tmp-dir': { type: 'string' },
      'lock-ms': { type: 'string' },
      'stalled-ms': { type: 'string' },
      'poll-ms': { type: 'string' },
      'retry-ms': { type: 'string' },
      'retention-s': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    },
  });
  const config = clusterConfig(values);
  const env = process.env;
  const databaseUrl = values['database-url'] ?? env.DATABASE_URL;
  const appKey = values['ezviz-app-key'] ?? env.DH_EZVIZ_APP_KEY;
  const appSecret = env.DH_EZVIZ_APP_SECRET;
  if (!config.redisUrl)
    throw new RangeError('Missing --redis / REDIS_URL: the clip jobs are queued in Redis');
  if (!databaseUrl)
    throw new RangeError(
      'Missing --database-url / DATABASE_URL: the clip workers share PostgreSQL’s clips table',
    );
  if (!appKey || !appSecret)
    throw new RangeError(
      'Missing --ezviz-app-key / DH_EZVIZ_APP_KEY or DH_EZVIZ_APP_SECRET: the Ezviz account',
    );
  const ms = (name: string, envName: string, fallback: number) =>
    intFlag(values, { name, env: envName, fallback });
  const perSecond = ms('budget', 'DH_EZVIZ_BUDGET_PER_SECOND', 5);
  const pollMs = ms('poll-ms', 'DH_CLIPS_POLL_MS', 5000);
  const retryMs = ms('retry-ms', 'DH_CLIPS_RETRY_MS', 5000);
  return {
    config,
    redisUrl: config.redisUrl,
    databaseUrl,
    objectStore:
      values['object-store'] ?? env.DH_OBJECT_STORE ?? pathToFileURL(resolve('.devicehub', 'objects')).href,
    ezviz: { baseUrl: values.ezviz ?? env.DH_EZVIZ_URL ?? 'https://open.ys7.com', appKey, appSecret },
    budget: { perSecond, burst: ms('burst', 'DH_EZVIZ_BUDGET_BURST', perSecond) },
    holder: values.id ?? env.DH_CLIPS_ID ?? `clips-${hostname()}-${process.pid}`,
    concurrency: ms('concurrency', 'DH_CLIPS_CONCURRENCY', 4),
    tmpDir: values['tmp-dir'] ?? env.DH_CLIPS_TMP_DIR,
    timings: {
      lockMs: ms('lock-ms', 'DH_CLIPS_LOCK_MS', 15_000),
      stalledIntervalMs: ms('stalled-ms', 'DH_CLIPS_STALLED_MS', 10_000),
      poll: { firstMs: pollMs, maxMs: pollMs * 12 },
      retry: { firstMs: retryMs, maxMs: retryMs * 24 },
    },
    retentionMs: ms('retention-s', 'DH_CLIPS_RETENTION_S', 60) * 1000,
    metricsPort: ms('metrics-port', 'DH_METRICS_PORT', 0),
    metricsHost: values['metrics-host'] ?? env.DH_METRICS_HOST ?? '127.0.0.1',
  };
}
