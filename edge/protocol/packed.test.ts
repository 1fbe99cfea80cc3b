/**
 * The packed status (decision 068): what the link packs comes back as the very payload it
 * decoded, keys in the same order; what it cannot pack without losing something stays an object;
 * and what is not a packed status unpacks to nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLegacy } from './legacy.ts';
import { legacyStatus, withSequence } from './legacy-encoder.ts';
import { PACKED_STATUS, packTelemetry, unpackTelemetry } from './packed.ts';
import type { TelemetryPayload } from './payloads.ts';
import { SAMPLE_BIRTH as birth, SAMPLE_STATUS as status } from './testdata/samples.ts';

/** A legacy status as the link decodes it, `via` set as the link sets it. */
function decoded(json: string): TelemetryPayload {
  const [message] = decodeLegacy(json, 'E-1');
  const payload = message!.payload as TelemetryPayload & { via?: string };
  payload.via = 'mqtt';
  return payload;
}

/** Through the mailbox: packed, written as JSON, read back and unpacked. */
function throughMailbox(payload: TelemetryPayload): TelemetryPayload | undefined {
  const packed = packTelemetry(payload);
  assert.ok(packed !== undefined, 'packed');
  return unpackTelemetry(JSON.parse(JSON.stringify(packed)));
}

describe('packed status', () => {
  it('comes back as the payload the link decoded, with and without camera and sequence', () => {
    const plain = decoded(legacyStatus({ edgeId: 'E-1', ts: 1_700_000_000_000, status, birth }));
    const camera = { ...birth, camera: { serial: 'D12345678', channel: 2 } };
    const numbered = decoded(
      withSequence(
        legacyStatus({ edgeId: 'E-1', ts: 1_700_000_000_500, status, birth: camera }),
        42,
        'boot-7',
      ),
    );
    for (const payload of [plain, numbered]) {
      const back = throughMailbox(payload);
      assert.deepEqual(back, payload);
      // The same keys in the same order: the same JSON, so every status has one shape.
      assert.equal(JSON.stringify(back), JSON.stringify(payload));
    }
    assert.equal(numbered.seq, 42);
    assert.deepEqual(numbered.birth?.camera, { serial: 'D12345678', channel: 2 });
  });

  it('is well under half the bytes of the object', () => {
    const payload = decoded(legacyStatus({ edgeId: 'E-1', ts: 1_700_000_000_000, status, birth }));
    const packed = JSON.stringify(packTelemetry(payload));
    assert.ok(packed.startsWith(`["${PACKED_STATUS}",`), packed);
    assert.ok(packed.length < 0.45 * JSON.stringify(payload).length, `${packed.length} bytes packed`);
  });

  it('leaves as objects what it cannot pack without losing something', () => {
    const full = decoded(legacyStatus({ edgeId: 'E-1', ts: 1_700_000_000_000, status, birth }));
    const { floor: _floor, ...partialData } = status;
    const cases: [string, TelemetryPayload][] = [
      ['a partial status (a compact update)', { ...full, data: partialData }],
      ['a status with a field more', { ...full, data: { ...status, extra: 1 } }],
      ['a status whose value is an object', { ...full, data: { ...status, floor: { n: 7 } as never } }],
      ['another kind', { ...full, kind: 'heartbeat' }],
      ['a payload with a key more', { ...full, silenceSeconds: 60 }],
      ['a birth with a key more', { ...full, birth: { ...birth, site: 'x' } }],
      ['a birth without a fact', { ...full, birth: { ...birth, model: undefined } }],
      [
        'a camera with a key more',
        { ...full, birth: { ...birth, camera: { serial: 'A1', channel: 1, x: 1 } } },
      ],
      ['a sequence that is not a number', { ...full, seq: '42' as never }],
    ];
    for (const [what, payload] of cases) assert.equal(packTelemetry(payload), undefined, what);
  });

  it('unpacks nothing that is not a packed status', () => {
    const packed = packTelemetry(
      decoded(legacyStatus({ edgeId: 'E-1', ts: 1_700_000_000_000, status, birth })),
    )!;
    const cases: [string, unknown[]][] = [
      ['an empty array', []],
      ['another tag', ['status/2', ...packed.slice(1)]],
      ['an element short', packed.slice(0, 6)],
      ['a status value short', [...packed.slice(0, 5), (packed[5] as unknown[]).slice(1), packed[6]]],
      ['the status not an array', [...packed.slice(0, 5), { floor: 7 }, packed[6]]],
      ['a birth of the wrong length', [...packed.slice(0, 6), ['RV1126']]],
    ];
    for (const [what, value] of cases) assert.equal(unpackTelemetry(value), undefined, what);
  });
});
