/**
 * Vision requests into recognition jobs: one job per event on its model's queue, its class's
 * priority and its kind's policy in the data; a replayed batch (the same sink, or another
 * gateway's) adds nothing; over the queue's bound the lowest class is shed — the new job, or the
 * newest waiting one of a lower class — and its edge actor gets 'shed'; end to end on a hub node,
 * the shed e-bike alarm is forwarded by its onTimeout. Real Redis (and the cluster pass: BullMQ's
 * keys share the queue's hash tag).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient, startHubNode } from '../../actors/mod.ts';
import { type Bus, decodeEntry, recognitionJobId } from '../../bus/mod.ts';
import {
  createEdgeActor,
  DEFAULT_RECOGNITION_POLICY,
  type RecognitionPolicy,
  type VisionRequest,
  type VisionVerdictPayload,
} from '../../edge/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { type OutboxItem, toItems } from './events.ts';
import { RECOGNITION_JOB, type RecognitionJobData, VisionRequests } from './vision-requests.ts';

const t = useRedis();

const T0 = Date.UTC(2026, 10, 30, 8);
const POLICY: RecognitionPolicy = {
  ...DEFAULT_RECOGNITION_POLICY,
  queueBound: 3,
  kinds: {
    ...DEFAULT_RECOGNITION_POLICY.kinds,
    smoke: { ...DEFAULT_RECOGNITION_POLICY.kinds.ebike!, class: 'other', targets: ['person'] },
  },
};
const CLASS = { trapped: 'trapped', person_down: 'person_down', ebike: 'ebike', smoke: 'other' } as const;
const requestOf = (edgeId: string, alarm: keyof typeof CLASS, n = 0): VisionRequest => ({
  edgeId,
  eventId: `ev-${n}`,
  alarm,
  since: T0 + n,
  frames: 1,
  class: CLASS[alarm],
  model: 'yolov8n-coco',
  deadlineAt: T0 + 60_000,
  requestedAt: T0 + n,
});
let serial = 0;
const itemOf = (request: VisionRequest | Record<string, unknown>): OutboxItem => {
  serial++;
  return {
    id: `g0-${T0 + serial}-0`,
    emittedAt: T0 + serial,
    event: { type: 'vision.requested', ...request, address: `edge/${String(request.edgeId)}`, at: T0 },
  };
};

/** Every `visionVerdict` in `edge/<edgeId>`'s mailbox, in order. */
async function verdictsIn(bus: Bus, edgeId: string): Promise<VisionVerdictPayload[]> {
  const address = `edge/${edgeId}`;
  const stream = bus.keyspace.shard(bus.keyspace.shardOf(address)).mailbox;
  const entries = (await bus.redis.xrange(stream, '-', '+')) as [string, string[]][];
  return entries
    .map(([id, fields]) => decodeEntry(id, fields))
    .filter((e) => e.address === address && e.method === 'visionVerdict')
    .map((e) => e.payload as VisionVerdictPayload);
}

const WAITING = ['prioritized', 'wait'] as const;

describe('vision requests', { timeout: 60_000 }, () => {
  it('queues one job per event with its priority and kind, and a replayed batch adds nothing', async () => {
    const keyspace = t.keyspace();
    await using handler = new VisionRequests({
      bus: t.bus(keyspace, t.connect()),
      policy: () => ({ ...POLICY, queueBound: 100 }),
    });
    const batch = [
      itemOf(requestOf('E-1', 'ebike', 1)),
      { id: 'g0-x-0', emittedAt: T0, event: { type: 'alarm.start', edgeId: 'E-1', alarm: 'ebike' } },
      itemOf(requestOf('E:2', 'trapped', 2)), // an edge id with a colon: the job id encodes it
      itemOf({ ...requestOf('E-3', 'smoke', 3), frames: 9 }), // malformed: refused, counted
      itemOf(requestOf('E-4', 'person_down', 4)),
    ];
    await handler.record(batch);
    await handler.record(batch);
    await using other = new VisionRequests({ bus: t.bus(keyspace, t.connect()), policy: () => POLICY });
    await other.record(batch); // another gateway's sink, after the lease moved
    assert.deepEqual(handler.stats, { requested: 6, queued: 3, repeated: 3, shed: 0, malformed: 2 });
    assert.deepEqual(other.stats, { requested: 3, queued: 0, repeated: 3, shed: 0, malformed: 1 });

    const queue = handler.queue('yolov8n-coco');
    const jobs = await queue.getJobs([...WAITING], 0, -1, true);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.name, j.opts.priority]),
      [
        [recognitionJobId('E:2', 'ev-2'), RECOGNITION_JOB, 1],
        [recognitionJobId('E-4', 'ev-4'), RECOGNITION_JOB, 2],
        [recognitionJobId('E-1', 'ev-1'), RECOGNITION_JOB, 3],
      ],
      'trapped first, then person down, then e-bike',
    );
    const ebike: RecognitionJobData = jobs[2]!.data;
    assert.deepEqual(ebike, { ...requestOf('E-1', 'ebike', 1), kind: POLICY.kinds.ebike });
    assert.deepEqual(jobs[2]!.data.kind?.targets, ['bicycle', 'motorcycle']);
  });

  it('sheds the lowest class over the bound: the new job, or the newest waiting of a lower class', async () => {
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace, t.connect());
    await using handler = new VisionRequests({ bus, policy: () => POLICY });
    const queue = handler.queue('yolov8n-coco');
    const ids = async () => (await queue.getJobs([...WAITING], 0, -1, true)).map((j) => j.id);

    await handler.record([
      itemOf(requestOf('E-1', 'ebike', 1)),
      itemOf(requestOf('E-2', 'smoke', 2)),
      itemOf(requestOf('E-3', 'ebike', 3)),
    ]);
    assert.equal((await ids()).length, 3, 'at the bound');

    await handler.record([itemOf(requestOf('E-4', 'smoke', 4))]);
    assert.deepEqual(
      (await verdictsIn(bus, 'E-4')).map((v) => [v.eventId, v.verdict, v.reason]),
      [['ev-4', 'shed', 'queue over its bound (3)']],
      'the new job is of the lowest class waiting: it is shed',
    );
    await handler.record([itemOf(requestOf('E-5', 'trapped', 5))]);
    assert.deepEqual(
      await ids(),
      [recognitionJobId('E-5', 'ev-5'), recognitionJobId('E-1', 'ev-1'), recognitionJobId('E-3', 'ev-3')],
      'a trapped passenger makes room: the waiting smoke job is removed',
    );
    assert.deepEqual(
      (await verdictsIn(bus, 'E-2')).map((v) => [v.eventId, v.alarm, v.since, v.verdict]),
      [['ev-2', 'smoke', T0 + 2, 'shed']],
    );
    await handler.record([itemOf(requestOf('E-6', 'person_down', 6))]);
    assert.deepEqual(
      await ids(),
      [recognitionJobId('E-5', 'ev-5'), recognitionJobId('E-6', 'ev-6'), recognitionJobId('E-1', 'ev-1')],
      'then the newest e-bike goes',
    );
    assert.equal((await verdictsIn(bus, 'E-3'))[0]?.verdict, 'shed');
    await handler.record([itemOf(requestOf('E-7', 'ebike', 7))]);
    assert.equal((await verdictsIn(bus, 'E-7'))[0]?.verdict, 'shed', 'an e-bike among e-bikes: the new one');
    assert.equal(handler.stats.shed, 4);
    await handler.record([itemOf(requestOf('E-5', 'trapped', 5))]);
    assert.equal(handler.stats.shed, 4, 'a replayed request already queued sheds nothing');
    assert.equal((await ids()).length, 3);
  });

  it('on a hub node: the shed e-bike alarm goes out by its onTimeout, annotated', async () => {
    const keyspace = t.keyspace();
    const bus = t.bus(keyspace, t.connect());
    const policy: RecognitionPolicy = { ...POLICY, queueBound: 1 };
    const edges = createEdgeActor({ recognitionPolicy: () => policy });
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect('hub')),
      actors: [edges],
      ...FAST_HUB,
    });
    await using handler = new VisionRequests({ bus, policy: () => policy });
    const client = createActorClient(bus, edges);
    for (const edgeId of ['E-1', 'E-2'])
      await client.send(edgeId, 'alarm', {
        alarm: 'ebike',
        phase: 'start',
        ts: T0,
        data: { floor: 2, eventId: `ev-${edgeId}`, frames: 1 },
      });
    const outbox = async () => {
      const groups = [...new Set(['E-1', 'E-2'].map((e) => keyspace.groupOf(keyspace.shardOf(`edge/${e}`))))];
      const items: OutboxItem[] = [];
      for (const g of groups)
        items.push(
          ...toItems(g, (await t.redis.xrange(keyspace.outbox(g), '-', '+')) as [string, string[]][]).items,
        );
      return items;
    };
    const requested = await waitFor(
      async () => {
        const items = (await outbox()).filter((i) => i.event.type === 'vision.requested');
        return items.length === 2 ? items : undefined;
      },
      { message: 'both e-bike alarms asked a second look (and are held)' },
    );
    assert.equal((await outbox()).filter((i) => i.event.type === 'alarm.start').length, 0, 'held');
    await handler.record(
      requested.sort((a, b) => String(a.event.edgeId).localeCompare(String(b.event.edgeId))),
    );
    assert.equal(handler.stats.shed, 1);
    const released = await waitFor(
      async () => (await outbox()).find((i) => i.event.type === 'alarm.start')?.event,
      { message: 'the shed alarm released by onTimeout forward' },
    );
    assert.equal(released.edgeId, 'E-2');
    assert.equal((released.vision as { verdict: string }).verdict, 'shed');
    const state = await waitFor(
      async () => {
        const s = await t.edgeState(keyspace, 'E-2');
        return s?.vision?.recent[0]?.status === 'shed' ? s : undefined;
      },
      { message: 'the verdict in the state' },
    );
    assert.deepEqual(state.vision?.counts, { shed: 1 });
  });
});
