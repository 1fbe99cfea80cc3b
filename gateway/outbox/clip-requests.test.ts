/**
 * Clip requests into rows and jobs: an alarm's end on a hub node becomes one `clips` row and one
 * job on the clip queue through the gateway's sink; a batch replayed (by the same sink or by
 * another gateway's after the lease moved) adds no second row nor job; a clip already fetched is
 * not queued again once its job is gone, a row left 'queued' without its job is; a malformed
 * request is counted and skipped. Real PostgreSQL and Redis (and the cluster pass: BullMQ's keys
 * share the queue's hash tag).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createActorClient, startHubNode } from '../../actors/mod.ts';
import { type ClipPolicy, type ClipRequest, createEdgeActor, planClip } from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { clips } from '../db/schema.ts';
import { useGatewayHarness } from '../testdata/harness.ts';
import { ClipRequests } from './clip-requests.ts';
import type { OutboxItem } from './events.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

const T0 = Date.UTC(2026, 10, 30, 8);
const TRAPPED = {
  preRollSeconds: 30,
  postRollSeconds: 30,
  maxSeconds: 600,
  retentionDays: 30,
  deadlineMinutes: 60,
};
const camera = { serial: 'K7L2M9Q4Z', channel: 1 };
const requestOf = (edgeId: string, since: number): ClipRequest =>
  planClip(TRAPPED, { edgeId, alarm: 'trapped', since, end: since + 20_000, camera, now: since + 21_000 });
const itemOf = (n: number, request: ClipRequest): OutboxItem => ({
  id: `g0-${T0 + n}-0`,
  emittedAt: T0 + n,
  event: { type: 'clip.requested', ...request },
});

describe('clip requests', { timeout: 60_000 }, () => {
  useDatabase('postgres');

  it('makes one row and one job of a replayed batch, and queues again only a row still queued', async () => {
    await using s = await setupDisposable();
    const { db } = s.database;
    const a = requestOf('E-1', T0);
    const b = requestOf('E-2', T0 + 1);
    const batch = [
      itemOf(1, a),
      { id: 'g0-2-0', emittedAt: T0 + 2, event: { type: 'alarm.end', edgeId: 'E-1', alarm: 'trapped' } },
      itemOf(3, { ...b, window: { start: 5, end: 1 } }), // malformed: refused, counted
      itemOf(4, a), // the same request twice in one batch
    ];
    const handler = s.gateway.clipRequests;
    await handler.record(batch);
    await handler.record(batch);
    await using other = new ClipRequests({ db, bus: t.bus(s.keyspace, t.connect()) });
    await other.record(batch); // another gateway's sink, after the lease moved
    assert.equal(handler.stats.malformed, 2);

    const rows = await db.select().from(clips);
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.deepEqual(
      [row!.id, row!.edgeId, row!.status, row!.cameraSerial, row!.cameraChannel, row!.retentionDays],
      [a.clipId, 'E-1', 'queued', camera.serial, 1, 30],
    );
    assert.deepEqual(
      [
        row!.alarmSince.getTime(),
        row!.alarmEnd?.getTime(),
        row!.windowStart.getTime(),
        row!.windowEnd.getTime(),
      ],
      [a.since, a.end, a.window.start, a.window.end],
    );
    const jobs = await handler.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.name]),
      [[a.clipId, 'clip']],
    );
    assert.deepEqual(jobs[0]!.data, a, 'the job’s data is the request');

    // Fetched, its job since removed: a late replay queues nothing.
    await db.update(clips).set({ status: 'stored' }).where(eq(clips.id, a.clipId));
    await jobs[0]!.remove();
    await handler.record([itemOf(1, a)]);
    assert.equal((await handler.queue.getJobCounts('waiting', 'delayed')).waiting, 0);

    // A gateway died between the row and the job: the replay queues the job.
    await db.insert(clips).values({
      id: b.clipId,
      edgeId: b.edgeId,
      alarm: b.alarm,
      alarmSince: new Date(b.since),
      windowStart: new Date(b.window.start),
      windowEnd: new Date(b.window.end),
      status: 'queued',
      requestedAt: new Date(b.requestedAt),
      retentionDays: b.retentionDays,
    });
    await handler.record([itemOf(5, b)]);
    const after = await handler.queue.getJobs(['waiting']);
    assert.deepEqual(
      after.map((j) => j.id),
      [b.clipId],
    );
  });

  it('queues the clip of an alarm that ended on a hub node, through the outbox sink', async () => {
    await using s = await setupDisposable();
    const policy: ClipPolicy = { kinds: { trapped: TRAPPED } };
    const edges = createEdgeActor({ clipPolicy: () => policy });
    await using _node = await startHubNode({
      bus: t.bus(s.keyspace, t.connect()),
      actors: [edges],
      ...FAST_HUB,
    });
    const client = createActorClient(t.bus(s.keyspace), edges);
    await client.send('E-5', 'telemetry', { kind: 'birth', seq: 1, ts: T0, data: { camera } });
    await client.send('E-5', 'alarm', { alarm: 'trapped', phase: 'start', seq: 2, ts: T0 });
    await client.send('E-5', 'alarm', { alarm: 'trapped', phase: 'end', seq: 3, ts: T0 + 20_000 });
    const expected = requestOf('E-5', T0);
    const [row] = await waitFor(
      async () => {
        const rows = await s.database.db.select().from(clips);
        return rows.length > 0 ? rows : undefined;
      },
      { message: 'the clip’s row' },
    );
    assert.deepEqual([row!.id, row!.status, row!.cameraSerial], [expected.clipId, 'queued', camera.serial]);
    const job = await waitFor(() => s.gateway.clipRequests.queue.getJob(expected.clipId), {
      message: 'the clip’s job',
    });
    assert.deepEqual(
      { ...job.data, requestedAt: expected.requestedAt },
      expected,
      'the request as planned (requested at the node’s clock)',
    );
  });
});
