/**
 * The demo's alarm clips (issue 16): the Ezviz stand-in (the cloud is outside the fleet; real
 * MP4s rendered by Debian's ffmpeg for each asked window, 200 ms per call like a real cloud) and
 * one clip worker with the retention sweeper, both in the demo's own process. The demo's database
 * is PGlite embedded in this process — single-process, so a worker in a process of its own could
 * not open it — and the worker shares the gateway's handle to it, and the gateway's object store
 * (./.devicehub/objects), whose clips the dashboard's alarm view plays through signed URLs. Its
 * /metrics is on a loopback port, as `devicehub clips --metrics-port` serves it.
 * The cameras are the ones the simulated edges' births name (as a DeviceHub agent's does).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Bus } from '../bus/mod.ts';
import {
  openEzvizClient,
  renderClipMetrics,
  serveClipMetrics,
  startClipRetention,
  startClipWorkers,
} from '../clips/mod.ts';
import type { Database } from '../gateway/db/database.ts';
import { startEzvizStandIn } from '../infra/mod.ts';
import type { ObjectStore } from '../objects/mod.ts';

/** The demo's Ezviz budget: well under a real account's limits (docs/operations.md). */
const BUDGET = { perSecond: 10, burst: 10 } as const;

export interface DemoClips {
  /** The stand-in's address (loopback). */
  readonly ezvizUrl: string;
  /** The worker's /metrics. */
  readonly metricsUrl: string;
  /** One line for the live table. */
  describe(): string;
  stop(): Promise<void>;
}

export async function startDemoClips(o: {
  bus: Bus;
  database: Database;
  objects: ObjectStore;
  logger: Logger;
}): Promise<DemoClips> {
  const dir = resolve('.devicehub/clips');
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const standIn = await startEzvizStandIn({ latencyMs: 200, dir: join(dir, 'ezviz-standin') });
  const ezviz = openEzvizClient({
    baseUrl: standIn.url,
    appKey: standIn.appKey,
    appSecret: standIn.appSecret,
    redis: o.bus.redis,
    keyspace: o.bus.keyspace,
    budget: BUDGET,
    logger: o.logger,
  });
  const holder = 'demo-clips-1';
  const workers = await startClipWorkers({
    bus: o.bus,
    db: o.database.db,
    store: o.objects,
    ezviz,
    holder,
    logger: o.logger,
    tmpDir: join(dir, 'tmp'),
  });
  const retention = startClipRetention({
    bus: o.bus,
    db: o.database.db,
    store: o.objects,
    holder,
    logger: o.logger,
  });
  const metrics = await serveClipMetrics({
    collect: async () =>
      renderClipMetrics({
        holder,
        jobCounts: await workers.jobCounts(),
        worker: workers.stats,
        ezviz: ezviz.stats,
        budget: BUDGET,
        retention: retention.stats,
      }),
    logger: o.logger,
  });
  o.logger.info({ ezviz: standIn.url, metrics: metrics.url }, 'clip worker and Ezviz stand-in started');
  return {
    ezvizUrl: standIn.url,
    metricsUrl: metrics.url,
    describe: () => {
      const s = workers.stats;
      const failed = Object.values(s.failed).reduce((sum, n) => sum + n, 0);
      return `${s.stored} stored, ${failed} failed (Ezviz stand-in ${standIn.url}, ${standIn.stats.calls} calls)`;
    },
    async stop() {
      await metrics.close();
      await retention.close();
      await workers.close();
      await standIn.close();
    },
  };
}
