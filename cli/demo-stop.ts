/**
 * Stopping the demo (Ctrl-C): monitoring, vision events, edges, CDN caches, clip worker, gateway,
 * hub nodes (handing their shards off), Redis and the log store, in that order, each step a few
 * seconds at most; whatever did not stop is killed, and the demo exits 0.
 */
import type { Logger } from 'pino';
import {
  type MonitoringStack,
  type RedisServer,
  stopDescendants,
  type VictoriaLogsServer,
} from '../infra/mod.ts';
import type { CdnCaches } from './cdn-caches.ts';
import type { DemoClips } from './demo-clips.ts';
import type { EdgeSource } from './demo-edges.ts';
import type { startDemoGateway } from './demo-gateway.ts';
import type { Hub } from './demo-hub.ts';
import type { DemoRecognize } from './demo-recognize.ts';

type DemoGateway = Awaited<ReturnType<typeof startDemoGateway>>;

/** Stops edges, gateway, hub nodes and Redis in that order, kills what did not stop, and exits 0. */
export async function stopDemo(o: {
  log: Logger;
  source: EdgeSource;
  gateway: DemoGateway | undefined;
  cdn: CdnCaches | undefined;
  clips: DemoClips | undefined;
  recognize: DemoRecognize | undefined;
  hub: Hub;
  server: RedisServer | undefined;
  monitoring: MonitoringStack | undefined;
  logStore: VictoriaLogsServer | undefined;
}): Promise<never> {
  const { log, source, gateway, cdn, clips, recognize, hub, server } = o;
  process.stdout.write('\nstopping: edges, hub nodes (handing shards off), Redis…\n');
  // Ctrl-C reaches the broker and the edges' helpers too (Redis and the hub nodes have process
  // groups of their own), so some may be gone already: each step gets a few seconds, then the
  // demo moves on, and kills at the end whatever did not stop.
  const step = async (name: string, run: () => Promise<unknown>) => {
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
    const outcome = await Promise.race([run().catch(() => 'failed'), timeout]);
    if (outcome === 'timeout' || outcome === 'failed') {
      log.warn({ step: name, outcome }, 'stop step did not finish; going on');
      process.stdout.write(`  ${name}: ${outcome}, going on\n`);
    }
  };
  await step('monitoring', async () => o.monitoring?.stop());
  await step('vision events and recognition worker', async () => recognize?.stop());
  await step('edges', () => source.stop());
  await step('CDN caches', async () => cdn?.stop());
  // Before the gateway: the worker writes to its database and object store.
  await step('clip worker', async () => clips?.stop());
  await step('gateway', async () => gateway?.stop());
  await step('hub nodes', () => Promise.all(hub.nodes.map((n) => n.stop())));
  hub.bus.redis.disconnect();
  await step('Redis', async () => server?.stop());
  await step('log store', async () => o.logStore?.stop());
  // Whatever did not stop in time (a step that timed out) is killed now.
  const killed = await stopDescendants(1000);
  if (killed.length > 0)
    process.stdout.write(
      `  killed what did not stop in time: ${killed.map((p) => p.command.slice(0, 60)).join('; ')}\n`,
    );
  log.info('demo stopped');
  process.stdout.write('stopped.\n');
  process.exit(0);
}
