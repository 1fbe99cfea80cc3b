/**
 * The outbox sink's records, through a gateway over a real Redis and a hub node, once over PGlite
 * and once over PostgreSQL: alarms into monthly partitions, tunnel rows following the edge actor.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createActorClient } from '../../actors/mod.ts';
import { edgeActor } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { ensureAlarmPartitions } from '../db/alarm-partitions.ts';
import { tunnels } from '../db/schema.ts';
import { DATABASES, useGatewayHarness } from '../testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

for (const which of DATABASES)
  describe(`gateway records (${which})`, { timeout: 180_000 }, () => {
    useDatabase(which);

    it('records alarms in monthly partitions and tunnels with their states', async () => {
      await using s = await setupDisposable();
      await using _node = await t.hub(s.keyspace);
      // This month's table and the next two exist; creating them again is harmless.
      const again = await ensureAlarmPartitions(s.database.db);
      assert.equal(again.length, 3);
      const client = createActorClient(t.bus(s.keyspace), edgeActor);
      await client.send('H-1', 'alarm', { alarm: 'smoke', phase: 'start', ts: Date.now() - 5000 });
      await client.send('H-1', 'alarm', { alarm: 'smoke', phase: 'end' });
      const list = async () => {
        const r = await s.database.db.execute(
          sql`select tableoid::regclass::text as part, phase, since is not null as has_since from alarms order by phase desc`,
        );
        const found = ((r as { rows?: unknown[] }).rows ?? r) as {
          part: string;
          phase: string;
          has_since: boolean;
        }[];
        return found.map((row) => ({ ...row })); // plain objects from either driver
      };
      await waitFor(async () => (await list()).length === 2, { message: 'both alarm events recorded' });
      const month = again[0]!;
      assert.deepEqual(await list(), [
        { part: month, phase: 'start', has_since: false },
        { part: month, phase: 'end', has_since: true },
      ]);
      await s.call('POST', '/v1/edges', { key: s.keys.operator, body: { id: 'H-1' } });
      const opened = await s.call('POST', '/v1/edges/H-1/tunnels', {
        key: s.keys.operator,
        body: { services: ['console'], ttlSeconds: 1 },
      });
      assert.equal(opened.status, 202);
      const { id } = (await opened.json()) as { id: string };
      await waitFor(
        async () =>
          (await s.database.db.select().from(tunnels).where(eq(tunnels.id, id)))[0]?.state === 'expired',
        { message: 'the tunnel row to follow the actor to expired' },
      );
    });
  });
