/**
 * Alarm clips in the edge actor: an alarm of a clip kind that ends is requested once with its
 * window; one that lasts the kind's longest clip is requested by the durable timer, cut there,
 * and its end requests nothing more; other kinds get nothing; a worker's result lands in the
 * state and the outbox, a malformed one is dead-lettered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createActorClient, type OutboxEvent, startHubNode, TerminalError } from '../../actors/mod.ts';
import { readDeadLetters } from '../../bus/mod.ts';
import { waitFor } from '../../infra/mod.ts';
import { FAST_HUB, useRedis } from '../../infra/test-redis.ts';
import { type ClipPolicy, type ClipRequest, clipIdOf } from '../protocol/mod.ts';
import { CLIP_TIMER } from './clips.ts';
import { createEdgeActor } from './edge-actor.ts';
import { type EdgeState, MAX_CLIPS } from './state.ts';
import { recorder as record } from './testdata/recorder.ts';

const POLICY: ClipPolicy = {
  kinds: {
    trapped: {
      preRollSeconds: 30,
      postRollSeconds: 20,
      maxSeconds: 300,
      retentionDays: 90,
      deadlineMinutes: 60,
    },
  },
};
const actor = createEdgeActor({ clipPolicy: () => POLICY });
const { alarm, clipResult, telemetry } = actor.handlers;
const clipsTimer = actor.timers!.clips;

/** A context that records what a handler asked for; `clips()`: its clip events. */
function recorder(now: number) {
  const r = record(now);
  return { ...r, clips: () => r.events.filter((e) => e.type.startsWith('clip.')) };
}

const T0 = 1_700_000_000_000;
const fresh = (): EdgeState => actor.initialState('E-1');
const camera = { serial: 'ABC123XYZ', channel: 1 };
/** An edge whose birth named its camera. */
const born = (): EdgeState =>
  telemetry(
    fresh(),
    { kind: 'birth', seq: 1, ts: T0 - 60_000, data: { model: 'RV1126', camera } },
    recorder(T0).ctx,
  );

describe('edge actor: alarm clips', () => {
  it('requests one clip when a clip kind’s alarm ends, with its window, camera and deadline', () => {
    const start = recorder(T0);
    let s = alarm(born(), { alarm: 'trapped', phase: 'start', seq: 2, ts: T0 }, start.ctx);
    assert.equal(start.clips().length, 0, 'nothing at the start');
    assert.equal(start.timers.get(CLIP_TIMER), 300_000, 'the longest clip’s mark is armed');
    const end = recorder(T0 + 42_000);
    s = alarm(s, { alarm: 'trapped', phase: 'end', seq: 3, ts: T0 + 40_000 }, end.ctx);
    const [event, ...more] = end.clips();
    assert.equal(more.length, 0);
    const clipId = clipIdOf('E-1', 'trapped', T0);
    const expected: ClipRequest & { type: string } = {
      type: 'clip.requested',
      clipId,
      edgeId: 'E-1',
      alarm: 'trapped',
      since: T0,
      end: T0 + 40_000,
      window: { start: T0 - 30_000, end: T0 + 60_000 },
      camera,
      retentionDays: 90,
      deadlineAt: T0 + 60_000 + 3_600_000,
      requestedAt: T0 + 42_000,
    };
    assert.deepEqual(event, expected);
    assert.equal(end.timers.get(CLIP_TIMER), null, 'nothing left to watch: the timer is cancelled');
    assert.deepEqual(s.clips?.recent, [
      { id: clipId, alarm: 'trapped', since: T0, status: 'requested', at: T0 + 42_000 },
    ]);
    assert.equal(s.clips?.armed, undefined);

    const again = recorder(T0 + 50_000);
    alarm(s, { alarm: 'trapped', phase: 'end', seq: 4, ts: T0 + 41_000 }, again.ctx);
    assert.equal(again.clips().length, 0, 'a repeated end requests nothing');
    const replay = recorder(T0 + 60_000);
    let r = alarm(s, { alarm: 'trapped', phase: 'start', seq: 5, ts: T0 }, replay.ctx);
    r = alarm(r, { alarm: 'trapped', phase: 'end', seq: 6, ts: T0 + 40_000 }, replay.ctx);
    assert.equal(
      replay.clips().length,
      0,
      'the same alarm (same start) again: the same clip, not requested twice',
    );
  });

  it('requests a long alarm’s clip at its longest clip, by the timer, and nothing at its end', () => {
    const start = recorder(T0 + 1000); // the device's clock is a second behind the node's
    let s = alarm(born(), { alarm: 'trapped', phase: 'start', seq: 2, ts: T0 }, start.ctx);
    assert.equal(start.timers.get(CLIP_TIMER), 299_000);
    const early = recorder(T0 + 200_000);
    const unchanged = clipsTimer(s, undefined, early.ctx)!;
    assert.equal(early.clips().length, 0, 'a timer that comes early requests nothing');
    assert.equal(early.timers.get(CLIP_TIMER), 100_000, '… and is armed again for the rest');
    const due = recorder(T0 + 300_000);
    s = clipsTimer(unchanged, undefined, due.ctx)!;
    const [event, ...more] = due.clips();
    assert.equal(more.length, 0);
    assert.deepEqual(
      [event?.type, event?.end, event?.window],
      ['clip.requested', null, { start: T0 - 30_000, end: T0 + 300_000 + 20_000 }],
    );
    assert.equal(due.timers.get(CLIP_TIMER), null);
    assert.equal(s.clips?.armed?.trapped?.cut, true);

    const end = recorder(T0 + 900_000);
    s = alarm(s, { alarm: 'trapped', phase: 'end', seq: 3, ts: T0 + 899_000 }, end.ctx);
    assert.deepEqual(
      end.events.map((e) => e.type),
      ['alarm.end'],
      'the end of a clip already cut requests nothing',
    );
    assert.equal(s.clips?.armed, undefined);
    assert.equal(s.clips?.recent.length, 1);
  });

  it('requests nothing for a kind the policy does not name, nor without a policy', () => {
    const a = recorder(T0);
    let s = alarm(born(), { alarm: 'smoke', phase: 'start', seq: 2, ts: T0 }, a.ctx);
    s = alarm(s, { alarm: 'smoke', phase: 'end', seq: 3, ts: T0 + 5000 }, a.ctx);
    assert.deepEqual(
      a.events.map((e) => e.type),
      ['alarm.start', 'alarm.end'],
    );
    assert.equal(a.timers.has(CLIP_TIMER), false);
    assert.equal(s.clips, undefined);

    const plain = createEdgeActor();
    const b = recorder(T0);
    let p = plain.handlers.alarm(
      plain.initialState('E-1'),
      { alarm: 'trapped', phase: 'start', ts: T0 },
      b.ctx,
    );
    p = plain.handlers.alarm(p, { alarm: 'trapped', phase: 'end', ts: T0 + 5000 }, b.ctx);
    assert.equal(b.clips().length, 0, 'an edge actor given no policy requests no clips');
  });

  it('leaves the camera out when the birth names none (the worker resolves it)', () => {
    const a = recorder(T0);
    let s = alarm(fresh(), { alarm: 'trapped', phase: 'start', ts: T0 }, a.ctx);
    s = alarm(s, { alarm: 'trapped', phase: 'end', ts: T0 + 5000 }, a.ctx);
    const [event] = a.clips();
    assert.equal(event?.type, 'clip.requested');
    assert.equal('camera' in event!, false);
  });

  it('keeps a worker’s result with the newest clips and hands it out once', () => {
    const a = recorder(T0);
    let s = alarm(born(), { alarm: 'trapped', phase: 'start', seq: 2, ts: T0 }, a.ctx);
    s = alarm(s, { alarm: 'trapped', phase: 'end', seq: 3, ts: T0 + 10_000 }, a.ctx);
    const clipId = clipIdOf('E-1', 'trapped', T0);
    const stored = {
      clipId,
      alarm: 'trapped',
      since: T0,
      status: 'stored',
      bytes: 123_456,
      sha256: 'ab'.repeat(32),
      durationMs: 60_000,
    } as const;
    const r = recorder(T0 + 120_000);
    s = clipResult(s, stored, r.ctx)!;
    assert.deepEqual(r.events, [
      {
        type: 'clip.ready',
        edgeId: 'E-1',
        clipId,
        alarm: 'trapped',
        since: T0,
        bytes: 123_456,
        sha256: 'ab'.repeat(32),
        durationMs: 60_000,
      },
    ]);
    assert.deepEqual(s.clips?.recent, [
      { id: clipId, alarm: 'trapped', since: T0, status: 'stored', at: T0 + 120_000 },
    ]);
    const twice = recorder(T0 + 130_000);
    assert.equal(clipResult(s, stored, twice.ctx), undefined, 'the same result again changes nothing');
    assert.equal(twice.events.length, 0);

    const other = clipIdOf('E-1', 'ebike', T0 + 5);
    const f = recorder(T0 + 140_000);
    s = clipResult(
      s,
      {
        clipId: other,
        alarm: 'ebike',
        since: T0 + 5,
        status: 'failed',
        code: 'OFFLINE',
        reason: 'camera offline',
      },
      f.ctx,
    )!;
    assert.deepEqual(f.events, [
      {
        type: 'clip.failed',
        edgeId: 'E-1',
        clipId: other,
        alarm: 'ebike',
        since: T0 + 5,
        code: 'OFFLINE',
        reason: 'camera offline',
      },
    ]);
    assert.deepEqual(s.clips?.recent.at(-1), {
      id: other,
      alarm: 'ebike',
      since: T0 + 5,
      status: 'failed',
      reason: 'camera offline',
      at: T0 + 140_000,
    });

    for (let i = 0; i < MAX_CLIPS + 5; i++) {
      const since = T0 + 1_000_000 + i;
      const id = clipIdOf('E-1', 'trapped', since);
      s = clipResult(s, { clipId: id, alarm: 'trapped', since, status: 'failed', reason: 'x' }, f.ctx)!;
    }
    assert.equal(s.clips?.recent.length, MAX_CLIPS, 'only the newest clips are kept');
    assert.equal(s.clips?.recent.at(-1)?.since, T0 + 1_000_000 + MAX_CLIPS + 4);
  });

  it('refuses a malformed result, or one for another edge’s clip, for good', () => {
    const { ctx } = recorder(T0);
    const good = {
      clipId: clipIdOf('E-1', 'trapped', T0),
      alarm: 'trapped',
      since: T0,
      status: 'failed',
      reason: 'r',
    };
    for (const bad of [
      null,
      { ...good, clipId: 'nope' },
      { ...good, status: 'lost' },
      { ...good, reason: undefined },
      { ...good, status: 'stored' }, // no bytes, sha256, duration
      { ...good, since: T0 + 1 }, // not this alarm's id
      { ...good, clipId: clipIdOf('E-2', 'trapped', T0) }, // another edge's clip
    ]) {
      assert.throws(() => clipResult(fresh(), bad as never, ctx), TerminalError, JSON.stringify(bad));
    }
  });
});

describe('edge actor: alarm clips on a hub node', () => {
  const t = useRedis();

  it('requests a long alarm’s clip by the durable timer, and dead-letters a malformed result', async () => {
    const keyspace = t.keyspace();
    const short: ClipPolicy = {
      kinds: {
        trapped: {
          preRollSeconds: 1,
          postRollSeconds: 1,
          maxSeconds: 0.5,
          retentionDays: 1,
          deadlineMinutes: 1,
        },
      },
    };
    const edges = createEdgeActor({ clipPolicy: () => short });
    await using _node = await startHubNode({
      bus: t.bus(keyspace, t.connect()),
      actors: [edges],
      ...FAST_HUB,
    });
    const client = createActorClient(t.bus(keyspace), edges);
    const since = Date.now();
    await client.send('E-7', 'alarm', { alarm: 'trapped', phase: 'start', ts: since });
    const group = keyspace.groupOf(keyspace.shardOf('edge/E-7'));
    const events = async () =>
      ((await t.redis.xrange(keyspace.outbox(group), '-', '+')) as [string, string[]][]).map(
        ([, fields]) => JSON.parse(fields[1]!) as OutboxEvent,
      );
    const requested = await waitFor(async () => (await events()).find((e) => e.type === 'clip.requested'), {
      message: 'clip.requested by the timer while the alarm is still open',
    });
    assert.equal(requested.clipId, clipIdOf('E-7', 'trapped', since));
    assert.equal(requested.end, null);
    await client.send('E-7', 'alarm', { alarm: 'trapped', phase: 'end', ts: since + 5000 });
    await waitFor(async () => (await events()).some((e) => e.type === 'alarm.end'), { message: 'alarm.end' });
    assert.equal((await events()).filter((e) => e.type === 'clip.requested').length, 1, 'one request');

    await client.send('E-7', 'clipResult', {
      clipId: requested.clipId,
      alarm: 'trapped',
      since,
      status: 'done',
    } as never);
    const [letter] = await waitFor(
      async () => {
        const letters = await readDeadLetters(t.bus(keyspace));
        return letters.length > 0 ? letters : undefined;
      },
      { message: 'the malformed result dead-lettered' },
    );
    assert.match(letter!.reason, /clipResult: status must be "stored" or "failed"/);
  });
});
