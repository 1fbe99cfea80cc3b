import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecodeError } from './errors.ts';
import { decodeLegacy } from './legacy.ts';
import {
  legacyCommandResult,
  legacyDetection,
  legacyFault,
  legacyHeartbeat,
  legacyStatus,
  withSequence,
} from './legacy-encoder.ts';
import { SAMPLE_BIRTH as birth, SAMPLE_STATUS as status } from './testdata/samples.ts';

/** What litefcccore sends today (hand-written, as captured from the field format). */
const FIXTURE_STATUS = JSON.stringify({
  msgType: 'elevatorStatus',
  deviceId: 'E-000123',
  deviceModel: 'RV1126-ELEV',
  firmwareVersion: '3.2.14',
  registrationCode: '3110000000000123',
  buildingId: 'B-0007',
  elevatorNo: 'A2',
  timestamp: 1795490000123,
  runningStatus: 'running',
  currentFloor: 7,
  doorStatus: 'closed',
  direction: 'up',
  speedMetersPerSecond: 1.5,
  hasPerson: true,
  loadPercent: 36,
  totalRunCount: 100123,
  totalRunSeconds: 3600123,
  totalDoorOpenCount: 50012,
  cabinTemperature: 24.5,
  brakeStatus: 'released',
  safetyCircuit: 'closed',
  maintenanceMode: false,
  levelingAccuracyMm: 3,
  carPositionMm: 18000,
  motorCurrentAmps: 12.4,
  controllerFaultCode: 0,
  networkSignalDbm: -67,
});

describe('legacy decoding', () => {
  it('turns a verbose status into canonical status and static facts', () => {
    assert.ok(Buffer.byteLength(FIXTURE_STATUS) > 500, 'the fixture is as heavy as the field’s');
    const [m] = decodeLegacy(FIXTURE_STATUS, 'E-000123');
    assert.equal(m?.method, 'telemetry');
    assert.deepEqual(m?.payload, { kind: 'status', ts: 1795490000123, data: status, birth });
    assert.deepEqual(
      decodeLegacy(legacyStatus({ edgeId: 'E-000123', ts: 1795490000123, status, birth }), 'E-000123'),
      [m],
    );
    const camera = { serial: 'K7L2M9Q4Z', channel: 1 };
    const [c] = decodeLegacy(
      legacyStatus({ edgeId: 'E-000123', ts: 1795490000123, status, birth: { ...birth, camera } }),
      'E-000123',
    );
    assert.deepEqual(c?.payload, {
      kind: 'status',
      ts: 1795490000123,
      data: status,
      birth: { ...birth, camera },
    });
    const bad = JSON.parse(FIXTURE_STATUS) as Record<string, unknown>;
    assert.throws(
      () =>
        decodeLegacy(JSON.stringify({ ...bad, cameraSerial: 'not a serial!', cameraChannel: 1 }), 'E-000123'),
      (err: DecodeError) => err.code === 'INVALID_FIELD' && err.message.includes('cameraSerial'),
    );
  });

  it('decodes detections, heartbeats and fault start/end', () => {
    const [v] = decodeLegacy(
      legacyDetection({ edgeId: 'E-1', ts: 5, vision: { ebike: true, doorBlocked: false }, peopleCount: 2 }),
      'E-1',
    );
    assert.deepEqual(v?.payload, { kind: 'vision', ts: 5, data: { ebike: true, doorBlocked: false } });
    const health = {
      uptimeSeconds: 10,
      cpuPercent: 30,
      memoryFreeMb: 200,
      diskFreeMb: 1400,
      elenetAlive: true,
      litefcccoreAlive: false,
    };
    const [h] = decodeLegacy(legacyHeartbeat({ edgeId: 'E-1', ts: 6, health, firmware: '3.2.14' }), 'E-1');
    assert.deepEqual(h?.payload, { kind: 'heartbeat', ts: 6, data: health });
    const [f] = decodeLegacy(
      legacyFault({ edgeId: 'E-1', ts: 7, alarm: 'trapped', phase: 'start', floor: 4 }),
      'E-1',
    );
    assert.deepEqual(f, {
      method: 'alarm',
      payload: { alarm: 'trapped', phase: 'start', ts: 7, data: { floor: 4 } },
    });
  });

  it('takes a vision alarm start with its event id and frames, and refuses bad ones', () => {
    const fault = { edgeId: 'E-1', ts: 8, alarm: 'ebike', phase: 'start', floor: 1 } as const;
    assert.deepEqual(decodeLegacy(legacyFault({ ...fault, eventId: 'e-42', frames: 2 }), 'E-1'), [
      {
        method: 'alarm',
        payload: { alarm: 'ebike', phase: 'start', ts: 8, data: { floor: 1, eventId: 'e-42', frames: 2 } },
      },
    ]);
    assert.throws(
      () => decodeLegacy(legacyFault({ ...fault, eventId: 'e/42', frames: 2 }), 'E-1'),
      (e) =>
        e instanceof DecodeError && e.code === 'INVALID_FIELD' && /fault: eventId must match/.test(e.message),
    );
    assert.throws(
      () => decodeLegacy(legacyFault({ ...fault, eventId: 'e-42', frames: 9 }), 'E-1'),
      (e) => e instanceof DecodeError && /fault: frames must be an integer 1\.\.4, got 9/.test(e.message),
    );
  });

  it('refuses what it cannot take, with a code and the reason', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        assert.ok(error instanceof DecodeError);
        return `${error.code}: ${error.message}`;
      }
      assert.fail('expected a DecodeError');
    };
    assert.match(
      code(() => decodeLegacy('{nope', 'E-1')),
      /^NOT_JSON/,
    );
    assert.match(
      code(() => decodeLegacy('[1]', 'E-1')),
      /^NOT_JSON/,
    );
    assert.match(
      code(() => decodeLegacy(FIXTURE_STATUS, 'E-999')),
      /^EDGE_MISMATCH: message names device "E-000123" but came from E-999/,
    );
    assert.match(
      code(() => decodeLegacy(JSON.stringify({ msgType: 'selfie', deviceId: 'E-1', timestamp: 1 }), 'E-1')),
      /^UNKNOWN_TYPE/,
    );
    const broken = JSON.parse(FIXTURE_STATUS) as Record<string, unknown>;
    broken.currentFloor = 'seven';
    assert.match(
      code(() => decodeLegacy(JSON.stringify(broken), 'E-000123')),
      /^INVALID_FIELD: elevatorStatus: currentFloor must be an integer, got "seven"/,
    );
    assert.match(
      code(() => decodeLegacy('x'.repeat(20_000), 'E-1')),
      /^TOO_LARGE/,
    );
  });

  it('takes the optional sequence fields and command results', () => {
    const [numbered] = decodeLegacy(withSequence(FIXTURE_STATUS, 41, 'boot-7'), 'E-000123');
    assert.equal(numbered?.method, 'telemetry');
    assert.deepEqual([numbered?.payload.seq, numbered?.payload.boot], [41, 'boot-7']);
    const [plain] = decodeLegacy(FIXTURE_STATUS, 'E-000123');
    assert.equal((plain!.payload as { seq?: number }).seq, undefined, 'no bootId, no tracking');
    assert.deepEqual(
      decodeLegacy(legacyCommandResult('E-1', 5, { id: 'c-1', ok: true, result: 'up' }), 'E-1'),
      [{ method: 'commandResult', payload: { id: 'c-1', ok: true, result: 'up' } }],
    );
    assert.deepEqual(
      decodeLegacy(legacyCommandResult('E-1', 5, { id: 'c-2', ok: false, error: 'busy' }), 'E-1'),
      [{ method: 'commandResult', payload: { id: 'c-2', ok: false, error: 'busy' } }],
    );
  });
});
