/**
 * The outbox to the web backend, for real: a hub node's edge actors raise alarms, two gateways
 * share the sink and the delivery partitions, and a stand-in web backend (a real HTTP server)
 * stalls, then recovers. Nothing is lost, order per edge holds, duplicates are counted by
 * idempotency key; the alarm history lands in its monthly partition; a refusal for good is kept
 * as failed and counted, and the rest go on.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { startWebBackendStandIn, type WebBackendStandIn, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { createGateway } from '../gateway.ts';
import { startGateways } from '../testdata/gateways.ts';

const t = useRedis();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('outbox to the web backend', { timeout: 90_000 }, () => {
  it('keeps everything through a stalled backend and a gateway leaving, in order per edge', async () => {
    const keyspace = t.keyspace();
    const node = await t.hub(keyspace);
    const database: Database = await openDatabase();
    const backend: WebBackendStandIn = await startWebBackendStandIn();
    cleanup.push(
      () => node.stop(),
      () => database.close(),
      () => backend.close(),
    );
    const gateways = await startGateways(2, () => t.bus(keyspace, t.connect()), {
      database,
      webBackend: {
        url: backend.url,
        partitions: 4,
        requestTimeoutMs: 300,
        backoffMs: { first: 50, max: 400 },
        ratePerSecond: 10_000,
      },
    });
    for (const g of gateways) cleanup.push(() => g.stop());
    const client = createActorClient(t.bus(keyspace), edgeActor);
    const edges = Array.from({ length: 12 }, (_, i) => `O-${i}`);
    let seq = 0;
    /** Each edge raises and clears `n` alarms: 2n events per edge, plus its first edge.online. */
    const raise = async (n: number) => {
      for (let k = 0; k < n; k++) {
        seq++;
        for (const edgeId of edges) {
          await client.send(edgeId, 'alarm', { alarm: `a${seq}`, phase: 'start', data: { seq } });
          await client.send(edgeId, 'alarm', { alarm: `a${seq}`, phase: 'end', data: { seq } });
        }
      }
    };
    await raise(3);
    const firstBatch = edges.length * (1 + 2 * 3);
    await waitFor(() => backend.stats.delivered === firstBatch, {
      message: `${firstBatch} events delivered`,
    });

    // The backend stalls: requests hang; the backlog grows in Redis and ingest goes on.
    backend.mode = 'stall';
    await raise(5);
    await waitFor(async () => (await gateways[0]!.webBackend!.backlog()) >= edges.length * 8, {
      message: 'the backlog to grow while the backend stalls',
    });
    const state = await t.edgeState(keyspace, 'O-0');
    assert.equal(state?.alarmsRaised, 8, 'the actors took every alarm meanwhile');
    // One gateway leaves during the stall: the other takes its partitions and its sink.
    await gateways[0]!.stop();
    backend.mode = 'fail';
    const before = backend.stats.requests;
    await waitFor(() => backend.stats.requests >= before + 3, {
      timeoutMs: 30_000,
      message: 'the remaining gateway to meet the failing backend three times',
    });
    backend.mode = 'ok';
    const total = edges.length * (1 + 2 * 8);
    await waitFor(() => backend.stats.delivered === total, {
      timeoutMs: 30_000,
      message: `all ${total} events delivered after the recovery`,
    });
    assert.equal(backend.stats.outOfOrder, 0, 'in order per edge');
    assert.ok(backend.stats.maxHeld > 0, 'requests were held during the stall');
    // The backend counts an event when its POST arrives; the job completes once the answer is back.
    await waitFor(async () => (await gateways[1]!.webBackend!.backlog()) === 0, {
      message: 'the backlog to empty once the last answers are back',
    });
    // The stall made the gateways retry (held requests time out); what a held request delivered
    // after its client gave up comes again and is counted as a duplicate, not as delivered.
    assert.ok(gateways.reduce((n, g) => n + g.webBackend!.stats.retries, 0) > 0, 'retried through the stall');

    // Every alarm start and end is in the history, once, in this month's partition.
    const rows = await database.db.execute<{ part: string; n: number }>(
      sql`select tableoid::regclass::text as part, count(*)::int as n from alarms group by 1`,
    );
    const parts = ((rows as { rows?: unknown }).rows ?? rows) as { part: string; n: number }[];
    const now = new Date();
    const month = `alarms_y${now.getUTCFullYear()}m${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    assert.deepEqual(parts, [{ part: month, n: edges.length * 2 * 8 }]);
  });

  it('keeps a refused event as failed, counts it, and delivers the rest', async () => {
    const keyspace = t.keyspace();
    const node = await t.hub(keyspace);
    const database = await openDatabase();
    const backend = await startWebBackendStandIn();
    const gateway = await createGateway({
      database,
      bus: t.bus(keyspace, t.connect()),
      leaseTtlMs: 1000,
      webBackend: { url: backend.url, partitions: 2, backoffMs: { first: 20, max: 100 } },
    });
    cleanup.push(
      () => node.stop(),
      () => database.close(),
      () => backend.close(),
      () => gateway.stop(),
    );
    backend.refuseEdges.add('BAD');
    const client = createActorClient(t.bus(keyspace), edgeActor);
    await client.send('BAD', 'alarm', { alarm: 'smoke', phase: 'start' });
    await client.send('GOOD', 'alarm', { alarm: 'smoke', phase: 'start' });
    await waitFor(() => backend.stats.delivered === 2, { message: 'GOOD’s online and alarm delivered' });
    await waitFor(async () => (await gateway.webBackend!.refused()) === 2, {
      message: 'BAD’s two events failed',
    });
    assert.equal(gateway.webBackend!.stats.refused, 2);
    const metrics = await (await gateway.app.request('/metrics')).text();
    assert.match(metrics, /devicehub_web_backend_refused 2/);
    assert.match(metrics, /devicehub_web_backend_backlog 0/);
  });
});
