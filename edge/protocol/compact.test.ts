import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCompact, encodeCompact } from './compact.ts';
import { DecodeError } from './errors.ts';
import type { Status } from './normalized.ts';
import { parseUplinkTopic, uplinkTopic } from './protocol.ts';
import { StatusEncoder } from './status-encoder.ts';

const status: Status = {
  running: false,
  floor: 3,
  door: 'open',
  direction: 'idle',
  hasPerson: true,
  brakeEngaged: true,
  safetyCircuitClosed: false,
  maintenance: false,
  faultCode: 0,
  speed: 0,
  load: 27,
  temperature: 23.7,
  motorAmps: 0.5,
  levelingMm: 3,
  positionMm: 6000,
  signalDbm: -71,
  runCount: 12001,
  runSeconds: 430002,
  doorOpenCount: 25001,
};

describe('compact format', () => {
  it('round-trips a full status snapshot in a few dozen bytes', () => {
    const bytes = encodeCompact({ kind: 'status', seq: 9, ts: 1795490000000, snapshot: true, status });
    assert.ok(bytes.byteLength < 100, `snapshot is ${bytes.byteLength} bytes`);
    assert.equal(bytes[0], 0x12, 'version 1, kind status');
    assert.deepEqual(decodeCompact(bytes), [
      { method: 'telemetry', payload: { kind: 'status', seq: 9, ts: 1795490000000, data: status } },
    ]);
  });

  it('round-trips birth, vision, alarm and health', () => {
    const birth = { model: 'M', firmware: '1', registrationCode: 'R', buildingId: 'B', elevatorNo: 'E' };
    assert.deepEqual(
      decodeCompact(encodeCompact({ kind: 'birth', seq: 1, ts: 2, boot: 'b1', birth }))[0]?.payload,
      {
        kind: 'birth',
        seq: 1,
        ts: 2,
        boot: 'b1',
        data: birth,
      },
    );
    const withCamera = { ...birth, camera: { serial: 'K7L2M9Q4Z', channel: 2 } };
    assert.deepEqual(
      decodeCompact(encodeCompact({ kind: 'birth', seq: 1, ts: 2, boot: 'b1', birth: withCamera }))[0]
        ?.payload,
      { kind: 'birth', seq: 1, ts: 2, boot: 'b1', data: withCamera },
      'an agent that knows its camera says so in its birth (cs, cc)',
    );
    assert.deepEqual(
      decodeCompact(encodeCompact({ kind: 'vision', seq: 2, ts: 3, event: 'doorBlocked', active: true }))[0]
        ?.payload,
      {
        kind: 'vision',
        seq: 2,
        ts: 3,
        data: { doorBlocked: true },
      },
    );
    assert.deepEqual(
      decodeCompact(encodeCompact({ kind: 'alarm', seq: 3, ts: 4, alarm: 'smoke', phase: 'end', floor: 9 })),
      [{ method: 'alarm', payload: { alarm: 'smoke', phase: 'end', seq: 3, ts: 4, data: { floor: 9 } } }],
    );
    const health = {
      uptimeSeconds: 5,
      cpuPercent: 40,
      memoryFreeMb: 100,
      diskFreeMb: 900,
      elenetAlive: true,
      litefcccoreAlive: true,
    };
    assert.deepEqual(decodeCompact(encodeCompact({ kind: 'health', seq: 4, ts: 5, health }))[0]?.payload, {
      kind: 'heartbeat',
      seq: 4,
      ts: 5,
      data: health,
    });
  });

  it('round-trips a vision alarm start with its event id and frames (i, n); an older one has neither', () => {
    const start = { kind: 'alarm', seq: 5, ts: 6, alarm: 'ebike', phase: 'start', floor: 2 } as const;
    assert.deepEqual(decodeCompact(encodeCompact({ ...start, eventId: 'ev_01-A', frames: 3 })), [
      {
        method: 'alarm',
        payload: {
          alarm: 'ebike',
          phase: 'start',
          seq: 5,
          ts: 6,
          data: { floor: 2, eventId: 'ev_01-A', frames: 3 },
        },
      },
    ]);
    assert.deepEqual(decodeCompact(encodeCompact(start))[0]?.payload, {
      alarm: 'ebike',
      phase: 'start',
      seq: 5,
      ts: 6,
      data: { floor: 2 },
    });
    const bad = (eventId: unknown, frames: unknown) =>
      assert.throws(
        () =>
          decodeCompact(encodeCompact({ ...start, eventId: eventId as string, frames: frames as number })),
        (e) => e instanceof DecodeError && e.code === 'INVALID_FIELD',
      );
    bad('has space', 1);
    bad('x'.repeat(65), 1);
    bad('ev-1', 0);
    bad('ev-1', 5);
    bad('ev-1', 1.5);
    bad('ev-1', undefined);
    bad(undefined, 2);
  });

  it('refuses bad headers and bodies with a DecodeError', () => {
    assert.throws(
      () => decodeCompact(Uint8Array.of(0x12)),
      (e) => e instanceof DecodeError && e.code === 'BAD_HEADER',
    );
    assert.throws(() => decodeCompact(Uint8Array.of(0x22, 0x80)), /protocol version 2/);
    assert.throws(() => decodeCompact(Uint8Array.of(0x1f, 0x80)), /unknown message kind 15/);
    assert.throws(
      () => decodeCompact(Uint8Array.of(0x12, 0xc1)),
      (e) => e instanceof DecodeError && e.code === 'INVALID_FIELD',
    );
    assert.throws(
      () => decodeCompact(new Uint8Array(20_000)),
      (e) => e instanceof DecodeError && e.code === 'TOO_LARGE',
    );
  });

  it('names topics per edge and kind, and parses only its own', () => {
    assert.equal(uplinkTopic('E-1', 'alarm'), 'dh/v1/E-1/up/alarm');
    assert.deepEqual(parseUplinkTopic('dh/v1/E-1/up/alarm'), { edgeId: 'E-1', kind: 'alarm' });
    assert.equal(parseUplinkTopic('dh/v1/E-1/up/selfie'), undefined);
    assert.equal(parseUplinkTopic('dh/v1/E 1/up/alarm'), undefined);
    assert.equal(parseUplinkTopic('dh/v2/E-1/up/alarm'), undefined);
  });
});

describe('status encoder (agent side)', () => {
  it('comes phaseMs sooner with its periodic snapshots, so a fleet started at once does not snapshot at once', () => {
    const snapshotsAt = (encoder: StatusEncoder) => {
      const at: number[] = [];
      for (let t = 0; t <= 130_000; t += 1000) if (encoder.next(status, t)?.snapshot) at.push(t);
      return at;
    };
    assert.deepEqual(snapshotsAt(new StatusEncoder({ snapshotMs: 60_000 })), [0, 60_000, 120_000]);
    assert.deepEqual(
      snapshotsAt(new StatusEncoder({ snapshotMs: 60_000, phaseMs: 20_000 })),
      [0, 40_000, 100_000],
    );
    assert.throws(() => new StatusEncoder({ snapshotMs: 60_000, phaseMs: 60_000 }), /phaseMs/);
    assert.throws(() => new StatusEncoder({ snapshotMs: 60_000, phaseMs: -1 }), /phaseMs/);
  });

  it('sends a snapshot, then event changes at once and measured values past their deadband', () => {
    const encoder = new StatusEncoder({ snapshotMs: 60_000 });
    assert.deepEqual(encoder.next(status, 0), { snapshot: true, status });
    assert.equal(
      encoder.next({ ...status, load: 30, temperature: 23.9, runSeconds: 430003 }, 1000),
      undefined,
      'within deadbands; counters wait',
    );
    assert.deepEqual(encoder.next({ ...status, door: 'closing', load: 38 }, 2000), {
      snapshot: false,
      status: { door: 'closing', load: 38 },
    });
    assert.equal(
      encoder.next({ ...status, door: 'closing', load: 40 }, 3000),
      undefined,
      'deadband counts from the value last sent',
    );
    assert.equal(
      encoder.next({ ...status, door: 'closing', load: 40 }, 61_000)?.snapshot,
      true,
      'a snapshot every minute',
    );
  });
});
