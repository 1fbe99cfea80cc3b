/**
 * How a failed clip job ends (clip-results.ts `failClip`), against the clips table (PGlite, the
 * gateway's own migrations): a row another run already stored stays stored, and the edge is told
 * 'stored' — never a failure for a clip that is in the store.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { silentLogger } from '../../actors/mod.ts';
import { type ClipResultPayload, planClip } from '../../edge/protocol/mod.ts';
import { type Database, openDatabase } from '../../gateway/db/database.ts';
import { failClip } from './clip-results.ts';
import { clipRowOf, ensureClipRow, markClipStored } from './clip-row.ts';
import { newClipWorkerStats } from './clip-stats.ts';

let database: Database;
before(async () => {
  database = await openDatabase();
});
after(async () => {
  await database?.close();
});

function setup(edgeId: string) {
  const since = Date.UTC(2026, 10, 30, 8, 0, 0);
  const request = planClip(
    { preRollSeconds: 1, postRollSeconds: 1, maxSeconds: 10, retentionDays: 7, deadlineMinutes: 1 },
    {
      edgeId,
      alarm: 'trapped',
      since,
      end: since + 3000,
      camera: { serial: 'C12345678', channel: 1 },
      now: since,
    },
  );
  const sent: ClipResultPayload[] = [];
  const stats = newClipWorkerStats();
  const deps = {
    db: database.db,
    sendResult: async (_edgeId: string, result: ClipResultPayload) => void sent.push(result),
    holder: 'late-worker',
    log: silentLogger,
    stats,
  };
  return { request, sent, stats, deps };
}

test('a failure after another run stored the clip leaves it stored and tells the edge so', async () => {
  const { request, sent, stats, deps } = setup('E-stored-first');
  await ensureClipRow(database.db, request);
  const stored = { videoKey: 'v', posterKey: 'p', bytes: 1234, sha256: 'ab'.repeat(32), durationMs: 5000 };
  assert.equal(
    await markClipStored(database.db, request.clipId, { ...stored, worker: 'first-worker' }),
    true,
  );

  const outcome = await failClip(request, { code: 'DOWNLOAD_FAILED', reason: 'the download failed' }, deps);

  assert.deepEqual(outcome, { status: 'stored', resent: true });
  const row = await clipRowOf(database.db, request.clipId);
  assert.equal(row?.status, 'stored');
  assert.equal(row?.code, null);
  assert.equal(row?.worker, 'first-worker');
  assert.deepEqual(
    sent.map((r) => [r.status, r.bytes, r.sha256]),
    [['stored', 1234, stored.sha256]],
    'the edge hears the stored clip, not the late failure',
  );
  assert.deepEqual(stats.failed, {}, 'not counted as failed');
});

test('a failure of a clip not stored marks the row failed and tells the edge', async () => {
  const { request, sent, stats, deps } = setup('E-not-stored');
  await ensureClipRow(database.db, request);

  const outcome = await failClip(request, { code: 'NO_DEVICE', reason: 'unknown camera' }, deps);

  assert.deepEqual(outcome, { status: 'failed', code: 'NO_DEVICE', reason: 'unknown camera' });
  const row = await clipRowOf(database.db, request.clipId);
  assert.deepEqual([row?.status, row?.code, row?.reason], ['failed', 'NO_DEVICE', 'unknown camera']);
  assert.deepEqual(
    sent.map((r) => [r.status, r.code]),
    [['failed', 'NO_DEVICE']],
  );
  assert.deepEqual(stats.failed, { NO_DEVICE: 1 });
});
