/**
 * The read router against a real primary behind PgBouncer and its streaming replica: a caller that
 * wrote reads its write at once (the primary while the replica lags behind it, the replica once it
 * has replayed it) while another caller reads the replica; the replica stopped or lagging past the
 * bound sends reads to the primary, and the metrics say so; no replica at all: the primary.
 * Replica lag is made, not waited for: `pg_wal_replay_pause()` on the replica.
 */
// Redis Cluster pass: once (one GET and one single-key script per caller; what this tests is PostgreSQL's side).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { type PostgresServer, startPostgres, waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { createApiKey } from '../api-keys.ts';
import { createGateway } from '../gateway.ts';
import { type Database, openDatabase } from './database.ts';
import { readRouterMetrics } from './read-metrics.ts';
import { type ReplicaReadRouter, startReadRouter } from './read-router.ts';
import { auditLog } from './schema.ts';

const t = useRedis();
let pg: PostgresServer;
let primary: Database;
let replica: Database;
const routers: ReplicaReadRouter[] = [];

before(async () => {
  pg = await startPostgres({ replica: true, bouncer: true });
  const urls = pg.urlsOf('postgres');
  // Migrations through PgBouncer (transaction pooling); the replica replays them.
  primary = await openDatabase({ url: urls.bouncerUrl! });
  replica = await openDatabase({ url: urls.replicaUrl!, readOnly: true });
  await pg.waitForReplica();
});
// Each step bounded and named: a clean-clone run once hung here after every test had passed,
// with nothing left to say which close did not end.
after(async () => {
  const step = async (what: string, run: () => Promise<unknown>) => {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`teardown: ${what} did not end in 20 s`)), 20_000);
    });
    try {
      await Promise.race([run(), hung]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    for (const [i, r] of routers.entries()) await step(`router ${i}'s stop`, () => r.stop());
    await step('closing the primary', async () => primary?.close());
    await step('closing the replica', async () => replica?.close());
  } finally {
    await pg?.stop();
  }
});

async function router(options: { maxLagMs: number }) {
  const r = await startReadRouter({
    primary: primary.db,
    replica: replica.db,
    bus: t.bus(t.keyspace()),
    pollMs: 50,
    readAfterMs: Math.max(10_000, options.maxLagMs + 1000),
    ...options,
  });
  routers.push(r);
  return r;
}

/** Replay on the replica paused (WAL still arrives) for the duration of `run`. */
async function replayPaused(run: () => Promise<void>): Promise<void> {
  await replica.db.execute(sql`select pg_wal_replay_pause()`);
  try {
    await run();
  } finally {
    await replica.db.execute(sql`select pg_wal_replay_resume()`);
  }
}

const auditOf = async (db: Database['db'], target: string) =>
  db.select({ id: auditLog.id }).from(auditLog).where(eq(auditLog.target, target));

function metricsOf(r: ReplicaReadRouter): Registry {
  const registry = new Registry();
  readRouterMetrics(registry, () => r.stats());
  return registry;
}

describe('read routing over a streaming replica', () => {
  it('lets the caller that wrote read its write at once, and another caller read the replica', async () => {
    const r = await router({ maxLagMs: 60_000 });
    const target = `edge/ryw-${Date.now()}`;
    await replayPaused(async () => {
      await primary.db.insert(auditLog).values({ actor: 'key:a', action: 'test', target, details: {} });
      await r.wrote('key:a');
      assert.deepEqual(await r.route('key:a'), ['primary', 'recent_write']);
      assert.equal((await auditOf(await r.db('key:a'), target)).length, 1, 'the writer sees its write');
      // Another caller reads the replica, which has not replayed the write: proof it is the replica.
      assert.deepEqual(await r.route('key:b'), ['replica', 'no_recent_write']);
      assert.equal((await auditOf(await r.db('key:b'), target)).length, 0);
    });
    // Replayed: the writer reads the replica too, and sees its write there.
    await waitFor(async () => (await r.route('key:a'))[0] === 'replica', {
      timeoutMs: 10_000,
      message: 'the replica to replay the write',
    });
    assert.deepEqual(await r.route('key:a'), ['replica', 'caught_up']);
    assert.equal((await auditOf(await r.db('key:a'), target)).length, 1);
    const text = await metricsOf(r).metrics();
    assert.match(text, /devicehub_db_reads_total\{target="primary",reason="recent_write"\} 1\n/);
    assert.match(text, /devicehub_db_reads_total\{target="replica",reason="no_recent_write"\} 1\n/);
    assert.match(text, /devicehub_db_reads_total\{target="replica",reason="caught_up"\} 1\n/);
    assert.match(text, /devicehub_db_replica_up 1\n/);
  });

  it('sends reads to the primary while the replica is down, and says so', async () => {
    const r = await router({ maxLagMs: 2000 });
    const target = `edge/down-${Date.now()}`;
    await primary.db.insert(auditLog).values({ actor: 'key:c', action: 'test', target, details: {} });
    await pg.stopReplica();
    try {
      await waitFor(async () => (await r.route('key:d'))[1] === 'replica_down', {
        timeoutMs: 10_000,
        message: 'the router to see the replica down',
      });
      assert.equal((await auditOf(await r.db('key:d'), target)).length, 1, 'answered by the primary');
      const text = await metricsOf(r).metrics();
      assert.match(text, /devicehub_db_reads_total\{target="primary",reason="replica_down"\} 1\n/);
      assert.match(text, /devicehub_db_replica_up 0\n/);
      assert.match(text, /devicehub_db_replica_lag_seconds nan\n/i, 'no lag known while down');
    } finally {
      await pg.startReplica();
    }
    await waitFor(async () => (await r.route('key:d'))[0] === 'replica', {
      timeoutMs: 15_000,
      message: 'reads back on the replica once it is up',
    });
  });

  it('counts a stalled replica as down and still stops at once', async () => {
    const r = await router({ maxLagMs: 300 });
    pg.pauseReplica();
    try {
      // The probe in flight hangs (no answer, no error): the state goes stale, which is down.
      await waitFor(async () => (await r.route('key:s'))[1] === 'replica_down', {
        timeoutMs: 10_000,
        message: 'the router to count the stalled replica as down',
      });
      assert.equal(await r.db('key:s'), primary.db, 'reads go to the primary');
      const started = performance.now();
      await r.stop();
      const took = performance.now() - started;
      assert.ok(took < 5_000, `stop took ${Math.round(took)} ms with a probe hung on the replica`);
    } finally {
      pg.resumeReplica();
    }
  });

  it('sends reads to the primary while the replica lags past the bound, and says so', async () => {
    const r = await router({ maxLagMs: 300 });
    await replayPaused(async () => {
      // The router's own heartbeats are the primary's traffic the replica does not show.
      await waitFor(async () => (await r.route('key:e'))[1] === 'replica_lagging', {
        timeoutMs: 10_000,
        message: 'the router to see the replica lagging',
      });
      await r.db('key:e');
      const text = await metricsOf(r).metrics();
      assert.match(text, /devicehub_db_reads_total\{target="primary",reason="replica_lagging"\} 1\n/);
      const lag = Number(/devicehub_db_replica_lag_seconds ([\d.e-]+)\n/.exec(text)?.[1]);
      assert.ok(lag > 0.3, `lag ${lag} s past the 0.3 s bound`);
    });
    await waitFor(async () => (await r.route('key:e'))[0] === 'replica', {
      timeoutMs: 10_000,
      message: 'reads back on the replica once it has caught up',
    });
  });

  it('routes a gateway’s reads: the caller that sent a command finds it, /metrics says where reads went', async () => {
    const keyspace = t.keyspace();
    await using gateway = await createGateway({
      database: primary,
      replica,
      readRouting: { maxLagMs: 60_000, pollMs: 50 },
      bus: t.bus(keyspace, t.connect()),
      screens: false,
    });
    const key = async (scope: 'operator' | 'admin') =>
      (await createApiKey(primary.db, { name: `${scope}-${keyspace.prefix}`, scope })).key;
    const [operator, admin] = [await key('operator'), await key('admin')];
    const call = (method: string, path: string, token: string, body?: unknown) =>
      gateway.app.request(path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const edge = `RR-${keyspace.prefix}`;
    assert.equal((await call('POST', '/v1/edges', operator, { id: edge })).status, 201);
    await replayPaused(async () => {
      const sent = await call('POST', `/v1/edges/${edge}/commands`, operator, {
        type: 'reboot',
        deadlineSeconds: 30,
      });
      assert.equal(sent.status, 202);
      const { id } = (await sent.json()) as { id: string };
      // Not in the actor's state yet (no hub node): the audit log says it is queued — read on the
      // primary for the operator that sent it, since the replica has not replayed it.
      const mine = await call('GET', `/v1/edges/${edge}/commands/${id}`, operator);
      assert.equal(mine.status, 200);
      assert.equal(((await mine.json()) as { status: string }).status, 'queued');
      // Another key reads the replica, within the lag bound, and does not find it there yet.
      assert.equal((await call('GET', `/v1/edges/${edge}/commands/${id}`, admin)).status, 404);
    });
    const text = await (await gateway.app.request('/metrics')).text();
    assert.match(text, /devicehub_db_reads_total\{target="primary",reason="recent_write"\} 1\n/);
    assert.match(text, /devicehub_db_reads_total\{target="replica",reason="no_recent_write"\} 1\n/);
    assert.match(text, /devicehub_db_replica_lag_seconds [\d.e-]+\n/);
  });

  it('reads the primary when there is no replica', async () => {
    const r = await startReadRouter({ primary: primary.db, bus: t.bus(t.keyspace()) });
    routers.push(r);
    await r.wrote('key:f'); // nothing to record
    assert.equal(await r.db('key:f'), primary.db);
    assert.deepEqual(await r.route('key:f'), ['primary', 'no_replica']);
    const text = await metricsOf(r).metrics();
    assert.match(text, /devicehub_db_reads_total\{target="primary",reason="no_replica"\} 1\n/);
    assert.doesNotMatch(text, /devicehub_db_replica_up \d/);
  });
});
