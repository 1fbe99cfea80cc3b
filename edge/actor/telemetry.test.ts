/**
 * The telemetry handler merges a message into the kind the shadow already holds in place (a new
 * object per message lived until the edge's next one: the hub node promoted every one), adds a
 * kind it lacks, lays a legacy status's birth facts over the held birth, and leaves a late
 * message and another edge's state alone. A full status the link packed is applied as the same
 * object would be; an array that is not a packed status is refused (its entry dead-lettered).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TerminalError } from '../../actors/mod.ts';
import { decodeLegacy, legacyStatus, packTelemetry, type TelemetryPayload } from '../protocol/mod.ts';
import { SAMPLE_BIRTH, SAMPLE_STATUS } from '../protocol/testdata/samples.ts';
import { createEdgeActor } from './edge-actor.ts';
import type { EdgeState } from './state.ts';
import { recorder } from './testdata/recorder.ts';

describe('the edge actor’s telemetry', () => {
  it('merges into the held shadow in place, field by field', () => {
    const actor = createEdgeActor();
    const telemetry = actor.handlers.telemetry;
    let state = actor.initialState('E-1') as EdgeState;
    const send = (seq: number, payload: Pick<TelemetryPayload, 'kind' | 'data' | 'birth'>) => {
      state = telemetry(state, { seq, boot: 'b', ts: seq * 10, ...payload }, recorder(seq * 1000).ctx)!;
      return state;
    };
    const first = { floor: 3, door: 'closed', speed: 0 };
    send(1, { kind: 'status', data: first, birth: { buildingId: 'B-1', model: 'X' } });
    const { status, birth } = state.shadow;
    const updatedAt = state.updatedAt;
    assert.equal(status, first, 'a kind it lacked: the fields themselves');
    send(2, { kind: 'status', data: { floor: 4, speed: 1.5 }, birth: { buildingId: 'B-2' } });
    assert.equal(state.shadow.status, status, 'the same status object');
    assert.deepEqual({ ...state.shadow.status }, { floor: 4, door: 'closed', speed: 1.5 });
    assert.equal(state.shadow.birth, birth);
    assert.deepEqual({ ...state.shadow.birth }, { buildingId: 'B-2', model: 'X' });
    assert.equal(state.updatedAt, updatedAt);
    assert.deepEqual({ ...state.updatedAt }, { status: 20 });
    send(3, { kind: 'heartbeat', data: { uptime: 5 } });
    assert.deepEqual({ ...state.updatedAt }, { status: 20, heartbeat: 30 }, 'a new kind: a new object');
    assert.equal(state.shadow.status, status);
    // 4 after 5 is late: counted, not merged.
    send(5, { kind: 'status', data: { floor: 6 } });
    send(4, { kind: 'status', data: { floor: 5 } });
    assert.equal(state.shadow.status?.floor, 6, 'a late status is not laid over the newer one');
    assert.deepEqual((actor.initialState('E-2') as EdgeState).shadow, {}, 'no shared object was merged into');
  });

  it('applies a packed status as the object, and refuses an array that is not one', () => {
    const actor = createEdgeActor();
    const telemetry = actor.handlers.telemetry;
    const json = legacyStatus({ edgeId: 'E-1', ts: 5_000, status: SAMPLE_STATUS, birth: SAMPLE_BIRTH });
    const payload = decodeLegacy(json, 'E-1')[0]!.payload as TelemetryPayload;
    const packed = JSON.parse(JSON.stringify(packTelemetry(payload))) as unknown[];
    assert.ok(Array.isArray(packed));
    const initial = () => actor.initialState('E-1') as EdgeState;
    const fromObject = telemetry(initial(), JSON.parse(JSON.stringify(payload)), recorder(9_000).ctx)!;
    const fromPacked = telemetry(initial(), packed as never, recorder(9_000).ctx)!;
    assert.deepEqual(fromPacked, fromObject);
    assert.equal(fromPacked.shadow.status?.floor, 7);
    assert.equal(fromPacked.shadow.birth?.buildingId, 'B-0007');
    assert.throws(
      () => telemetry(initial(), ['status/0', 1] as never, recorder(9_000).ctx),
      (error: unknown) => error instanceof TerminalError && /not a packed status/.test(error.message),
    );
  });

  it('lays packed statuses over a held shadow as it lays the objects: state, tiles, timers', () => {
    // The packed fast path (decision 071) against the general one, message by message: changed and
    // unchanged fields, a camera added, moved and given another channel, no birth, no device time,
    // a late message, a duplicate, a new boot, and a status whose birth comes before any birth is held.
    const camera = (serial: string, channel: number) => ({ ...SAMPLE_BIRTH, camera: { serial, channel } });
    /** A full status over MQTT: [ts, seq, boot] (null: not sent), the fields changed, its birth. */
    const status = (
      [ts, seq, boot]: [number | null, number | null, string | null],
      changed: Partial<typeof SAMPLE_STATUS>,
      birth?: TelemetryPayload['birth'],
    ): TelemetryPayload => ({
      kind: 'status',
      ...(ts === null ? {} : { ts }),
      ...(seq === null ? {} : { seq }),
      ...(boot === null ? {} : { boot }),
      data: { ...SAMPLE_STATUS, ...changed },
      ...(birth === undefined ? {} : { birth }),
      via: 'mqtt',
    });
    const messages = [
      status([1_000, 1, 'b1'], {}, { ...SAMPLE_BIRTH }),
      status([2_000, 2, 'b1'], {}, { ...SAMPLE_BIRTH }),
      status([3_000, 3, 'b1'], { floor: 8, direction: 'up' }),
      status([4_000, 5, 'b1'], { door: 'open' }, camera('C1', 1)),
      status([3_500, 4, 'b1'], { floor: 1 }, camera('C2', 2)), // late
      status([4_000, 5, 'b1'], { floor: 2 }), // a duplicate
      status([null, 6, 'b1'], { temperature: 31.5 }, camera('C2', 2)),
      status([9_000, 1, 'b2'], { faultCode: 12 }, camera('C3', 1)),
      status([9_200, 2, 'b2'], {}, camera('C3', 2)),
      status([9_500, null, null], { hasPerson: true }),
    ];
    const json = (v: unknown) => JSON.parse(JSON.stringify(v));
    for (const withBirth of [true, false]) {
      const actor = createEdgeActor();
      const telemetry = actor.handlers.telemetry;
      let viaObject = actor.initialState('E-1') as EdgeState;
      let viaPacked = actor.initialState('E-1') as EdgeState;
      // A shadow that holds a status first (a compact agent's partial one), with or without a birth.
      const first = { kind: 'status', data: { floor: 0 }, ...(withBirth ? { birth: { model: 'M' } } : {}) };
      viaObject = telemetry(viaObject, json(first), recorder(500).ctx)!;
      viaPacked = telemetry(viaPacked, json(first), recorder(500).ctx)!;
      for (const [i, message] of messages.entries()) {
        const packed = packTelemetry(json(message));
        assert.ok(packed !== undefined, `message ${i} packs`);
        const now = 10_000 + i * 1_000;
        const a = recorder(now);
        const b = recorder(now);
        // The handler as turns call it: with the tile (tile.ts) and health wrappers.
        viaObject = telemetry(viaObject, json(message), a.ctx)!;
        viaPacked = telemetry(viaPacked, json(packed), b.ctx)!;
        assert.deepEqual(viaPacked, viaObject, `state after message ${i}`);
        assert.equal(
          JSON.stringify(viaPacked),
          JSON.stringify(viaObject),
          `the same JSON after message ${i}`,
        );
        assert.deepEqual(b.events, a.events, `events after message ${i}`);
        assert.deepEqual([...b.timers], [...a.timers], `timers after message ${i}`);
      }
      assert.equal(viaPacked.shadow.status?.hasPerson, true, 'the packed messages were applied');
      assert.equal(viaPacked.seq.boot, 'b2');
    }
  });
});
