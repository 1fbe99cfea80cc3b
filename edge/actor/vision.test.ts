/**
 * Second looks in the edge actor: a vision alarm start of a recognised kind is requested once; an
 * `always` kind goes out at once and is only annotated; a `confirmed` kind is held until its
 * verdict (released when confirmed at/above the score, dropped when dismissed, onTimeout for
 * timeout/shed/invalid), its end held or dropped with it; the actor's own deadline; legacy edges
 * without frames counted; duplicates ignored; malformed verdicts dead-lettered on a hub node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ActorContext,
  createActorClient,
  type OutboxEvent,
  startHubNode,
  TerminalError,
} from '../../actors/mod.ts';
import { readDeadLetters } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import {
  DEFAULT_RECOGNITION_POLICY,
  type RecognitionPolicy,
  type VisionVerdictPayload,
} from '../protocol/mod.ts';
import { createEdgeActor } from './edge-actor.ts';
import { type EdgeState, MAX_VERDICTS } from './state.ts';
import { recorder as record } from './testdata/recorder.ts';
import { MAX_VISION_ASKS_PER_MINUTE, MAX_VISION_PENDING, VISION_GRACE_MS, VISION_TIMER } from './vision.ts';

const POLICY: RecognitionPolicy = {
  ...DEFAULT_RECOGNITION_POLICY,
  kinds: {
    ...DEFAULT_RECOGNITION_POLICY.kinds,
    scooter: { ...DEFAULT_RECOGNITION_POLICY.kinds.ebike!, onTimeout: 'drop', deadlineMs: 4000 },
  },
};
const actor = createEdgeActor({ recognitionPolicy: () => POLICY });
const { alarm, visionVerdict } = actor.handlers;
const timer = actor.timers!.vision;

/** The edge actor tests' recorder, without presence events (edge.online): what a handler asked for. */
function recorder(now: number) {
  const r = record(now);
  const ctx: ActorContext = {
    ...r.ctx,
    emit: (e) => void (e.type.startsWith('edge.') ? undefined : r.events.push(e)),
  };
  return { ...r, ctx, types: () => r.events.map((e) => e.type) };
}

const T0 = 1_700_000_000_000;
const fresh = (): EdgeState => actor.initialState('E-1');
const start = (name: string, eventId?: string, ts = T0) => ({
  alarm: name,
  phase: 'start' as const,
  ts,
  data: { floor: 3, ...(eventId === undefined ? {} : { eventId, frames: 2 }) },
});
const end = (name: string, ts = T0 + 10_000) => ({
  alarm: name,
  phase: 'end' as const,
  ts,
  data: { floor: 3 },
});
const verdict = (
  eventId: string,
  name: string,
  v: VisionVerdictPayload['verdict'],
  more: Partial<VisionVerdictPayload> = {},
): VisionVerdictPayload => ({ eventId, alarm: name, since: T0, verdict: v, ...more });
const MOTORCYCLE = {
  model: { name: 'yolov8n-coco', version: '8.0.175+dynbatch' },
  detections: [
    { label: 'person', score: 0.41, box: [0.5, 0.1, 0.2, 0.6] as [number, number, number, number] },
    { label: 'motorcycle', score: 0.87, box: [0.1, 0.2, 0.5, 0.6] as [number, number, number, number] },
  ],
  frame: 0,
  queueMs: 40,
  inferMs: 110,
};

describe('edge actor: second looks', () => {
  it('holds a confirmed kind’s start until the verdict, then forwards it with the verdict', () => {
    const a = recorder(T0 + 100);
    let s = alarm(fresh(), start('ebike', 'ev-1'), a.ctx);
    assert.deepEqual(a.types(), ['vision.requested'], 'the alarm is held, the second look requested');
    assert.deepEqual(a.events[0], {
      type: 'vision.requested',
      edgeId: 'E-1',
      eventId: 'ev-1',
      alarm: 'ebike',
      since: T0,
      frames: 2,
      class: 'ebike',
      model: 'yolov8n-coco',
      deadlineAt: T0 + 100 + 5000,
      requestedAt: T0 + 100,
    });
    assert.equal(a.timers.get(VISION_TIMER), 5000 + VISION_GRACE_MS);
    assert.equal(s.vision?.recent[0]?.outcome, 'held');

    const v = recorder(T0 + 900);
    s = visionVerdict(s, verdict('ev-1', 'ebike', 'confirmed', MOTORCYCLE), v.ctx)!;
    assert.deepEqual(v.types(), ['alarm.start', 'vision.verdict']);
    const [released, annotation] = v.events;
    assert.equal(released?.at, T0, 'the start keeps the edge’s time');
    assert.deepEqual(released?.vision, {
      eventId: 'ev-1',
      verdict: 'confirmed',
      model: MOTORCYCLE.model,
      detections: [MOTORCYCLE.detections[1], MOTORCYCLE.detections[0]],
    });
    assert.equal(annotation?.forwarded, true);
    assert.deepEqual(annotation?.detections, MOTORCYCLE.detections, 'the event carries all detections');
    assert.equal(v.timers.get(VISION_TIMER), null, 'nothing left to wait for');
    const [record] = s.vision!.recent;
    assert.deepEqual(
      [record?.status, record?.outcome, record?.frame, record?.inferMs, record?.detections?.[0]?.label],
      ['confirmed', 'released', 0, 110, 'motorcycle'],
    );
    assert.deepEqual(s.vision?.pending, undefined);
    assert.deepEqual(s.vision?.counts, { confirmed: 1 });

    const again = recorder(T0 + 1000);
    assert.equal(visionVerdict(s, verdict('ev-1', 'ebike', 'dismissed'), again.ctx), undefined, 'duplicate');
    assert.equal(again.events.length, 0);
    const e = recorder(T0 + 11_000);
    alarm(s, end('ebike'), e.ctx);
    assert.deepEqual(e.types(), ['alarm.end'], 'the end of a released alarm goes out as always');
  });

  it('drops a dismissed alarm: its start, an end held before the verdict, and an end after it', () => {
    const a = recorder(T0);
    let s = alarm(fresh(), start('ebike', 'ev-2'), a.ctx);
    s = alarm(s, end('ebike'), recorder(T0 + 10_000).ctx);
    assert.equal(s.vision?.pending?.['ev-2']?.held?.length, 2, 'start and end held');
    const v = recorder(T0 + 10_500);
    s = visionVerdict(s, verdict('ev-2', 'ebike', 'dismissed', { detections: [] }), v.ctx)!;
    assert.deepEqual(v.types(), ['vision.verdict'], 'only the verdict');
    assert.equal(v.events[0]?.forwarded, false);
    assert.equal(s.vision?.recent[0]?.outcome, 'dropped');

    const b = recorder(T0 + 20_000);
    let t = alarm(s, start('ebike', 'ev-3', T0 + 20_000), b.ctx);
    const d = recorder(T0 + 21_000);
    t = visionVerdict(t, { ...verdict('ev-3', 'ebike', 'dismissed'), since: T0 + 20_000 }, d.ctx)!;
    assert.deepEqual(t.vision?.dropped, { ebike: T0 + 20_000 }, 'still open: its end is to drop');
    const after = recorder(T0 + 30_000);
    t = alarm(t, end('ebike', T0 + 30_000), after.ctx);
    assert.deepEqual(after.types(), [], 'the end of a dismissed alarm is not forwarded either');
    assert.equal(t.vision?.dropped?.ebike, undefined);
  });

  it('drops a “confirmed” verdict whose targets are all under the score', () => {
    let s = alarm(fresh(), start('ebike', 'ev-4'), recorder(T0).ctx);
    const v = recorder(T0 + 500);
    const weak = {
      detections: [{ label: 'bicycle', score: 0.3, box: [0, 0, 1, 1] as [number, number, number, number] }],
    };
    s = visionVerdict(s, verdict('ev-4', 'ebike', 'confirmed', weak), v.ctx)!;
    assert.deepEqual(v.types(), ['vision.verdict']);
    assert.deepEqual([s.vision?.recent[0]?.status, s.vision?.recent[0]?.outcome], ['confirmed', 'dropped']);
  });

  it('applies onTimeout to timeout, shed and invalid: forward for ebike, drop for scooter', () => {
    for (const v of ['timeout', 'shed', 'invalid'] as const) {
      const ebike = recorder(T0);
      let s = alarm(fresh(), start('ebike', 'e'), ebike.ctx);
      s = visionVerdict(s, verdict('e', 'ebike', v, { reason: 'r' }), ebike.ctx)!;
      assert.deepEqual(ebike.types(), ['vision.requested', 'alarm.start', 'vision.verdict'], v);
      assert.equal(ebike.events[1]?.vision && (ebike.events[1].vision as { verdict: string }).verdict, v);
      const scooter = recorder(T0);
      let t = alarm(fresh(), start('scooter', 's'), scooter.ctx);
      t = visionVerdict(t, verdict('s', 'scooter', v, { reason: 'r' }), scooter.ctx)!;
      assert.deepEqual(scooter.types(), ['vision.requested', 'vision.verdict'], v);
      assert.equal(t.vision?.recent[0]?.reason, 'r');
    }
  });

  it('forwards an always kind at once and only annotates it, even when dismissed', () => {
    const a = recorder(T0);
    let s = alarm(fresh(), start('trapped', 'ev-5'), a.ctx);
    assert.deepEqual(a.types(), ['alarm.start', 'vision.requested']);
    assert.equal(a.events[1]?.class, 'trapped');
    assert.equal(a.events[1]?.deadlineAt, T0 + 2000);
    const v = recorder(T0 + 300);
    s = visionVerdict(s, { ...verdict('ev-5', 'trapped', 'dismissed'), detections: [] }, v.ctx)!;
    assert.deepEqual(v.types(), ['vision.verdict'], 'never suppressed');
    assert.deepEqual([s.vision?.recent[0]?.status, s.vision?.recent[0]?.outcome], ['dismissed', 'forwarded']);
    const e = recorder(T0 + 10_000);
    alarm(s, end('trapped'), e.ctx);
    assert.deepEqual(e.types(), ['alarm.end']);
  });

  it('applies the timeout itself when no verdict comes by the deadline and grace', () => {
    const a = recorder(T0);
    let s = alarm(fresh(), start('scooter', 'ev-6'), a.ctx);
    s = alarm(s, start('trapped', 'ev-7'), a.ctx);
    assert.equal(a.timers.get(VISION_TIMER), 2000 + VISION_GRACE_MS, 'the earliest deadline');
    const early = recorder(T0 + 2000 + VISION_GRACE_MS);
    s = timer!(s, undefined, early.ctx)!;
    assert.deepEqual(early.types(), ['vision.verdict']);
    assert.deepEqual([early.events[0]?.visionEventId, early.events[0]?.verdict], ['ev-7', 'timeout']);
    assert.equal(early.timers.get(VISION_TIMER), 2000, 're-armed for the scooter’s');
    const late = recorder(T0 + 4000 + VISION_GRACE_MS);
    s = timer!(s, undefined, late.ctx)!;
    assert.deepEqual(late.types(), ['vision.verdict'], 'scooter: onTimeout drop');
    assert.equal(late.timers.get(VISION_TIMER), null);
    assert.equal(visionVerdict(s, verdict('ev-6', 'scooter', 'confirmed'), late.ctx), undefined, 'too late');
    assert.deepEqual(s.vision?.counts, { timeout: 2 });
  });

  it('counts a legacy start without frames and gives it no second look', () => {
    const a = recorder(T0);
    let s = alarm(fresh(), start('ebike'), a.ctx);
    assert.deepEqual(a.types(), ['alarm.start'], 'forwarded as before');
    s = alarm(s, end('ebike'), a.ctx);
    s = alarm(s, start('smoke', 'ev-8'), a.ctx);
    assert.deepEqual(a.types(), ['alarm.start', 'alarm.end', 'alarm.start'], 'smoke is no recognised kind');
    assert.equal(s.vision?.legacy, 1);
    assert.equal(s.vision?.recent.length, 0);
  });

  it('keeps the newest verdicts, and times out the oldest past the pending bound', () => {
    let s = fresh();
    const events: OutboxEvent[] = [];
    for (let i = 0; i < MAX_VERDICTS + 5; i++) {
      const a = recorder(T0 + i * 6000); // 10 a minute: under the per-edge bound
      s = alarm(s, start('trapped', `k${i}`, T0 + i), a.ctx);
      s = alarm(s, end('trapped', T0 + i), a.ctx);
      events.push(...a.events);
    }
    assert.equal(s.vision?.recent.length, MAX_VERDICTS);
    assert.equal(Object.keys(s.vision?.pending ?? {}).length, MAX_VISION_PENDING);
    assert.equal(events.filter((e) => e.type === 'vision.verdict').length, 5, 'the oldest timed out');
    assert.equal(s.vision?.recent.at(-1)?.eventId, `k${MAX_VERDICTS + 4}`);
  });

  it('gives an edge asking too many second looks a minute no more: forwarded or dropped by onTimeout, counted', () => {
    let s = fresh();
    const a = recorder(T0);
    for (let i = 0; i < MAX_VISION_ASKS_PER_MINUTE; i++) {
      s = alarm(s, start('trapped', `f${i}`, T0 + i), a.ctx);
      s = alarm(s, end('trapped', T0 + i), a.ctx);
    }
    const asked = () => a.events.filter((e) => e.type === 'vision.requested').length;
    assert.equal(asked(), MAX_VISION_ASKS_PER_MINUTE);
    const flood = recorder(T0 + 30_000);
    s = alarm(s, start('trapped', 'f-over'), flood.ctx);
    assert.deepEqual(flood.types(), ['alarm.start'], 'trapped: forwarded at once, no second look');
    s = alarm(s, end('trapped'), flood.ctx);
    s = alarm(s, start('scooter', 's-over'), flood.ctx);
    assert.deepEqual(flood.types(), ['alarm.start', 'alarm.end'], 'scooter (onTimeout drop): dropped');
    assert.equal(s.vision?.limited, 2);
    const later = recorder(T0 + 61_000);
    s = alarm(s, end('scooter'), later.ctx);
    assert.deepEqual(later.types(), [], 'a dropped alarm’s end is dropped too');
    s = alarm(s, start('trapped', 'f-later'), later.ctx);
    assert.ok(later.types().includes('vision.requested'), 'a minute on, second looks again');
  });

  it('refuses a malformed verdict, or one naming another alarm, and ignores an unknown event', () => {
    const { ctx } = recorder(T0);
    const s = alarm(fresh(), start('ebike', 'ev-9'), ctx);
    for (const bad of [
      null,
      { ...verdict('ev-9', 'ebike', 'confirmed'), verdict: 'maybe' },
      { ...verdict('ev-9', 'ebike', 'confirmed'), eventId: 'a/b' },
      {
        ...verdict('ev-9', 'ebike', 'confirmed'),
        detections: [{ label: 'person', score: 7, box: [0, 0, 1, 1] }],
      },
      verdict('ev-9', 'trapped', 'confirmed'),
      { ...verdict('ev-9', 'ebike', 'confirmed'), since: T0 + 1 },
    ])
      assert.throws(() => visionVerdict(s, bad as never, ctx), TerminalError, JSON.stringify(bad));
    assert.equal(visionVerdict(s, verdict('nobody', 'ebike', 'confirmed'), ctx), undefined);
  });
});

describe('edge actor: second looks on a hub node', () => {
  const t = useRedis();

  it('times out a held alarm by the durable timer and dead-letters a malformed verdict', async () => {
    const keyspace = t.keyspace();
    const quick: RecognitionPolicy = {
      ...POLICY,
      kinds: { ebike: { ...POLICY.kinds.ebike!, deadlineMs: 100 } },
    };
    const edges = createEdgeActor({ recognitionPolicy: () => quick });
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [edges],
      ...FAST_HUB,
    });
    const client = createActorClient(t.bus(keyspace), edges);
    const since = Date.now();
    await client.send('E-7', 'alarm', { ...start('ebike', 'ev-n', since) });
    const group = keyspace.groupOf(keyspace.shardOf('edge/E-7'));
    const events = async () =>
      ((await t.redis.xrange(keyspace.outbox(group), '-', '+')) as [string, string[]][]).map(
        ([, fields]) => JSON.parse(fields[1]!) as OutboxEvent,
      );
    const verdicts = await waitFor(
      async () => {
        const all = await events();
        return all.some((e) => e.type === 'vision.verdict') ? all : undefined;
      },
      { message: 'the timer’s timeout verdict' },
    );
    assert.deepEqual(
      verdicts.map((e) => e.type).filter((type) => type !== 'edge.online'),
      ['vision.requested', 'alarm.start', 'vision.verdict'],
      'requested, then released by onTimeout forward',
    );
    await client.send('E-7', 'visionVerdict', {
      eventId: 'ev-n',
      alarm: 'ebike',
      since,
      verdict: 'yes',
    } as never);
    const [letter] = await waitFor(
      async () => {
        const letters = await readDeadLetters(t.bus(keyspace));
        return letters.length > 0 ? letters : undefined;
      },
      { message: 'the malformed verdict dead-lettered' },
    );
    assert.match(letter!.reason, /visionVerdict: verdict must be one of/);
  });
});
