/**
 * The schema stays Citus-ready (decision 045): every table that holds an edge's rows carries the
 * distribution column, edge_id, in its primary key (the edges table is keyed by the edge id
 * itself), and the one foreign key points at a reference table, so none crosses shards. Over the migrations as they are (PGlite).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { type Database, openDatabase } from './database.ts';

describe('the schema is Citus-ready', () => {
  let database: Database;
  const rows = async <T>(q: string) => {
    const r = await database.db.execute(sql.raw(q));
    return ((r as { rows?: unknown }).rows ?? r) as T[];
  };
  before(async () => {
    database = await openDatabase();
  });
  after(async () => {
    await database?.close();
  });

  it('every table with an edge_id column has it in its primary key', async () => {
    const keys = await rows<{ t: string; def: string | null }>(`
      select c.relname as t, pg_get_constraintdef(k.oid) as def
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
        left join pg_constraint k on k.conrelid = c.oid and k.contype = 'p'
       where c.relkind in ('r', 'p') and not c.relispartition
         and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'edge_id' and not a.attisdropped)
       order by 1`);
    assert.ok(keys.length >= 6, `only ${keys.map((k) => k.t)}`);
    for (const { t, def } of keys)
      assert.match(def ?? 'no primary key', /^PRIMARY KEY \((.*, )?edge_id[,)]/, t);
    const names = keys.map((k) => k.t);
    for (const t of ['alarms', 'clips', 'tunnels', 'terminal_sessions']) assert.ok(names.includes(t), t);
  });

  it('a foreign key only from an edge table to a reference table (Citus keeps those shard-local)', async () => {
    assert.deepEqual(
      await rows(`select conrelid::regclass::text as t, confrelid::regclass::text as refers
                    from pg_constraint c join pg_namespace n on n.oid = c.connamespace
                   where n.nspname = 'public' and c.contype = 'f' order by 1, 2`),
      // rollouts: a reference table (decision 045), copied to every node.
      [{ t: 'rollout_members', refers: 'rollouts' }],
    );
  });

  it('a tunnel and a terminal session are still found by id alone, through an index', async () => {
    const indexed = await rows<{ indexdef: string }>(
      `select indexdef from pg_indexes where tablename in ('tunnels', 'terminal_sessions') and indexname like '%_id' order by 1`,
    );
    assert.deepEqual(
      indexed.map((i) => i.indexdef.replace(/ USING btree/, '')),
      [
        'CREATE INDEX terminal_sessions_id ON public.terminal_sessions (id)',
        'CREATE INDEX tunnels_id ON public.tunnels (id)',
      ],
    );
  });
});
