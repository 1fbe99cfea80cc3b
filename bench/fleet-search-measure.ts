/**
 * Fleet search over 50,000 edges measured (issue 20 §4): N registered edges (PostgreSQL, labels
 * building/floor) with their actors' states in Redis (shadow, online, installed versions), then
 * GET /v1/edges?q= as the route runs it (searchFleet: a page of 50 from at most 5,000 rows
 * looked at) and a rollout's whole membership (resolveFleet), timed per query.
 *
 *   node --import tsx bench/fleet-search-measure.ts [--edges 50000] [--samples 20]
 */
import { parseArgs } from 'node:util';
import { connectRedis, createKeyspace, openBus } from '../bus/mod.ts';
import { openDatabase } from '../gateway/db/database.ts';
import { parseFleetQuery, resolveFleet, searchFleet } from '../gateway/fleet-search/mod.ts';
import { startPostgres, startRedisServer } from '../infra/mod.ts';
import { quantile } from './quantile.ts';

const { values } = parseArgs({
  options: { edges: { type: 'string', default: '50000' }, samples: { type: 'string', default: '20' } },
});
const n = Number(values.edges);
const samples = Number(values.samples);
await using pg = await startPostgres();
await using redisServer = await startRedisServer({ appendonly: false });
await using database = await openDatabase({ url: await pg.createDatabase('fleet_search') });
const redis = connectRedis(redisServer.url);
const bus = openBus({ redis, keyspace: createKeyspace() });
try {
  const { sql } = await import('drizzle-orm');
  await database.db.execute(
    sql.raw(`insert into edges (id, labels, secret_hash)
      select 'fs-' || lpad(i::text, 6, '0'),
             jsonb_build_object('building', 'b' || (i % 2000), 'floor', (i % 30)::text), 'x'
      from generate_series(0, ${n - 1}) i`),
  );
  await database.db.execute(sql.raw('analyze edges'));
  const { keyspace } = bus;
  for (let i = 0; i < n; i += 1000) {
    const p = redis.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const id = `fs-${String(j).padStart(6, '0')}`;
      const state = {
        online: j % 10 !== 0,
        shadow: { status: { fw: j % 7 === 0 ? '1.2' : '1.3', floor: j % 30 }, birth: { hardware: 'rv1126' } },
        openAlarms: {},
        updates: { installed: { elenet: { version: j % 4 === 0 ? '2.0.0' : '2.1.0' } } },
      };
      p.hset(
        keyspace.shard(keyspace.shardOf(`edge/${id}`)).state,
        `edge/${id}`,
        JSON.stringify({ id: '1-0', s: state }),
      );
    }
    await p.exec();
  }
  const queries = [
    'label.building=b17',
    'label.building=b17 online=true',
    'shadow.status.fw=1.2',
    'online=false installed.elenet<2.1.0',
    'id=fs-0499*',
  ];
  const result: Record<string, unknown> = { edges: n };
  for (const q of queries) {
    const query = parseFleetQuery(q);
    const times: number[] = [];
    let matched = 0;
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const page = await searchFleet({ db: database.db, bus }, query, { limit: 50 });
      times.push(performance.now() - t0);
      matched = page.matches.length;
    }
    const t0 = performance.now();
    const all = await resolveFleet({ db: database.db, bus }, query);
    result[q] = {
      firstPageP50Ms: Math.round(quantile(times, 0.5) * 10) / 10,
      firstPageP99Ms: Math.round(quantile(times, 0.99) * 10) / 10,
      firstPageMatches: matched,
      wholeFleetMs: Math.round(performance.now() - t0),
      wholeFleetMatches: all.length,
    };
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  redis.disconnect();
}
