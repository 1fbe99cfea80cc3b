import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { startPostgres } from '../../infra/mod.ts';
import { openDatabase } from './database.ts';

describe('migrations on PostgreSQL', () => {
  it('let several gateways migrate one fresh database at once (workers starting together)', async () => {
    await using pg = await startPostgres();
    const url = await pg.createDatabase('migrate_race');
    const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase({ url })));
    for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
    assert.deepEqual(
      opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
      [],
    );
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from schema_migrations`;
      const files = readdirSync(new URL('./migrations/', import.meta.url)).filter((f) => f.endsWith('.sql'));
      assert.equal(row!.n, files.length, 'each migration applied and recorded once');
    } finally {
      await sql.end();
    }
  });
});
