/**
 * The `screens` bench's database half: PostgreSQL with a streaming read replica (infra/postgres.ts),
 * the alarm history seeded (gateway/alarms/seed.ts: `rows` over 12 monthly partitions, `edges`
 * edges in buildings of 25), then alarm history pages read from the replica as the gateway's read
 * router would send them — by edge, by building, by kind, each over a random month-long range —
 * timed one after another. The replica's lag (now less its last replayed transaction's time,
 * while the primary writes) is sampled every 250 ms throughout, seeding included.
 */
import postgres from 'postgres';
import { pageAlarms } from '../../gateway/alarms/history.ts';
import {
  SEED_KINDS,
  seedAlarmHistory,
  seedBuilding,
  seedBuildingCount,
  seedEdgeId,
} from '../../gateway/alarms/seed.ts';
import { openDatabase } from '../../gateway/db/database.ts';
import { startPostgres } from '../../infra/mod.ts';
import { percentiles } from '../http-client.ts';

export interface AlarmMeasure {
  readonly rows: number;
  readonly seedMs: number;
  readonly alarmQueryMs: { p50: number; p99: number; max: number };
  readonly queries: number;
  readonly replicaLagMsMax: number;
}

const MONTH_MS = 30 * 24 * 3600 * 1000;

export async function measureAlarmQueries(o: {
  rows: number;
  edges: number;
  queries: number;
}): Promise<AlarmMeasure> {
  await using pg = await startPostgres({ replica: true });
  const name = `bench_screens_${process.pid}`;
  const url = await pg.createDatabase(name);
  const replicaUrl = pg.urlsOf(name).replicaUrl ?? url;
  await using primary = await openDatabase({ url });
  await using replica = await openDatabase({ url: replicaUrl, readOnly: true });
  const lagSql = postgres(replicaUrl, { max: 1, onnotice: () => {} });
  let lagMax = 0;
  let sampling = true;
  // The replica's lag behind the primary's writes (0 while nothing is written).
  const sampler = (async () => {
    while (sampling) {
      const [row] = await lagSql<{ lag: number | null }[]>`select case
          when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
          else extract(epoch from now() - pg_last_xact_replay_timestamp()) * 1000 end as lag`.catch(() => [
        { lag: null },
      ]);
      if (row?.lag != null) lagMax = Math.max(lagMax, Number(row.lag));
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  try {
    console.error(`bench screens: seeding ${o.rows} alarms over 12 months for ${o.edges} edges…`);
    const seed = await seedAlarmHistory(primary.db, {
      rows: o.rows,
      months: 12,
      edges: o.edges,
      onProgress: (p) => process.stderr.write(`\r  month ${p.done}/${p.total} (${p.partition})   `),
    });
    process.stderr.write('\n');
    await pg.waitForReplica();
    const buildings = seedBuildingCount(o.edges);
    const now = Date.now();
    const times: number[] = [];
    console.error(`bench screens: ${o.queries} alarm history pages from the replica…`);
    for (let i = 0; i < o.queries; i++) {
      const to = now - Math.floor(Math.random() * 11 * MONTH_MS);
      const from = to - MONTH_MS;
      const which = i % 3;
      const filter =
        which === 0
          ? { edge: seedEdgeId(Math.floor(Math.random() * o.edges)) }
          : which === 1
            ? { building: seedBuilding(Math.floor(Math.random() * buildings)) }
            : { kind: SEED_KINDS[Math.floor(Math.random() * SEED_KINDS.length)]! };
      const started = performance.now();
      await pageAlarms(replica.db, { from, to, limit: 50, ...filter });
      times.push(performance.now() - started);
    }
    const q = percentiles(times);
    return {
      rows: seed.rows,
      seedMs: Math.round(seed.ms),
      alarmQueryMs: { p50: q.p50, p99: q.p99, max: q.max },
      queries: times.length,
      replicaLagMsMax: Math.round(lagMax),
    };
  } finally {
    sampling = false;
    await sampler;
    await lagSql.end();
  }
}
