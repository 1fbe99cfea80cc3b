/**
 * The recognition policy through the configuration: the gateway writes the default to Redis at
 * start and the devicehub document's `recognition` once it is written (the hub node's policy source
 * reads it there, beside the clip policy); an invalid policy is refused with a 400 naming the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { createActorClient, silentLogger, startHubNode } from '../actors/mod.ts';
import { recognitionJobId } from '../bus/mod.ts';
import {
  createEdgeActor,
  DEFAULT_CLIP_POLICY,
  DEFAULT_RECOGNITION_POLICY,
  openPolicySource,
  type RecognitionPolicy,
} from '../edge/mod.ts';
import { waitFor } from '../infra/mod.ts';
import { FAST_HUB, useRedis } from '../infra/test-redis.ts';
import { useGatewayHarness } from './testdata/harness.ts';

const t = useRedis();
const { useDatabase, setupDisposable } = useGatewayHarness(t);

const ebike = DEFAULT_RECOGNITION_POLICY.kinds.ebike!;

describe('the recognition policy', { timeout: 60_000 }, () => {
  useDatabase('pglite');

  it('is the default until the devicehub configuration names one, then that one, in Redis for the nodes', async () => {
    await using s = await setupDisposable();
    const stored = async () =>
      JSON.parse((await t.redis.get(s.keyspace.recognitionPolicy)) ?? 'null') as unknown;
    assert.deepEqual(await stored(), DEFAULT_RECOGNITION_POLICY, 'written at start');
    await using source = await openPolicySource({
      redis: t.redis,
      keyspace: s.keyspace,
      logger: silentLogger,
    });

    const policy: RecognitionPolicy = {
      model: 'yolov8n-coco',
      queueBound: 50,
      kinds: {
        ebike: { ...ebike, confirmScore: 0.6 },
        smoke: { ...ebike, class: 'other', targets: ['person'] },
      },
    };
    const put = (value: unknown) =>
      s.call('PUT', '/v1/config/devicehub/global', { key: s.keys.operator, body: { recognition: value } });
    assert.equal((await put(policy)).status, 200);
    await waitFor(async () => isDeepStrictEqual(await stored(), policy), {
      message: 'the written policy in Redis',
    });
    await source.refresh();
    assert.deepEqual(source.recognition(), policy, 'what the hub node’s edge actors use');
    assert.deepEqual(source.clips(), DEFAULT_CLIP_POLICY, 'the clip policy beside it, untouched');

    const kind = (patch: Record<string, unknown>) => ({
      ...policy,
      kinds: { ebike: { ...ebike, ...patch } },
    });
    for (const [bad, field] of [
      [kind({ confirmScore: 1.2 }), 'recognition.kinds.ebike.confirmScore'],
      [kind({ confirmScore: '0.5' }), 'recognition.kinds.ebike.confirmScore'],
      [kind({ deadlineMs: 50 }), 'recognition.kinds.ebike.deadlineMs'],
      [kind({ deadlineMs: 1000.5 }), 'recognition.kinds.ebike.deadlineMs'],
      [kind({ forward: 'sometimes' }), 'recognition.kinds.ebike.forward'],
      [kind({ onTimeout: 'keep' }), 'recognition.kinds.ebike.onTimeout'],
      [kind({ class: 'fire' }), 'recognition.kinds.ebike.class'],
      [kind({ targets: [] }), 'recognition.kinds.ebike.targets'],
      [kind({ targets: ['Motor Cycle!'] }), 'recognition.kinds.ebike.targets'],
      [kind({ extra: 1 }), 'recognition.kinds.ebike'],
      [{ ...policy, model: 'yolo/v8' }, 'recognition.model'],
      [{ ...policy, queueBound: 0 }, 'recognition.queueBound'],
      [{ ...policy, kinds: { 'no spaces': ebike } }, 'recognition.kinds'],
      [{ model: 'm', kinds: {} }, 'recognition.queueBound'],
      ['on', 'recognition'],
    ] as const) {
      const res = await put(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      const { error } = (await res.json()) as { error: { message: string } };
      assert.ok(error.message.includes(field), `${error.message} names ${field}`);
    }
    assert.deepEqual(await stored(), policy, 'a refused write changes nothing');

    // End to end: a node's edge actor asks its second look by the written policy, and the gateway's
    // sink queues the job with the kind's policy as the gateway wrote it.
    const edges = createEdgeActor({ recognitionPolicy: source.recognition });
    await using _node = await startHubNode({
      bus: t.bus(s.keyspace, t.connect('hub')),
      actors: [edges],
      ...FAST_HUB,
    });
    await createActorClient(t.bus(s.keyspace), edges).send('E-9', 'alarm', {
      alarm: 'smoke',
      phase: 'start',
      ts: Date.now(),
      data: { floor: 1, eventId: 'ev-9', frames: 2 },
    });
    const queue = s.gateway.visionRequests.queue('yolov8n-coco');
    const job = await waitFor(
      async () => (await queue.getJob(recognitionJobId('E-9', 'ev-9'))) ?? undefined,
      {
        message: 'the smoke alarm’s recognition job, queued by the gateway’s sink',
      },
    );
    assert.deepEqual(
      [job.name, job.opts.priority, job.data.class, job.data.frames, job.data.kind],
      ['recognize', 4, 'other', 2, policy.kinds.smoke],
    );
    // The sink counts the job once BullMQ has it: the job can be seen a moment before the count.
    const metrics = await waitFor(
      async () => {
        const text = await (await s.call('GET', '/metrics')).text();
        return /devicehub_recognition_requests_total\{outcome="queued"\} [1-9]/.test(text) ? text : undefined;
      },
      { message: 'the queued request counted on /metrics' },
    );
    assert.match(metrics, /devicehub_recognition_requests_total\{outcome="queued"\} 1\n/);
    assert.match(metrics, /devicehub_recognition_requests_total\{outcome="shed"\} 0\n/);
  });
});
