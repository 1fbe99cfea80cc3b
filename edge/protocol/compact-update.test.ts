import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pack } from 'msgpackr';
import { decodeCompact, encodeCompact } from './compact.ts';
import { DecodeError } from './errors.ts';
import { UPLINK_QOS, UplinkKind, uplinkTopic } from './protocol.ts';

const report = {
  rollout: 'r-1',
  target: 'edge-package/elenet/2.1.0/elenet.bin',
  name: 'elenet',
  version: '2.1.0',
} as const;
const header = (UplinkKind.update & 0x0f) | 0x10;
const body = { q: 4, t: 1000, r: 'r-1', g: report.target, n: 'elenet', v: '2.1.0', s: 0 };
const refused = (b: Record<string, unknown>, pattern: RegExp) =>
  assert.throws(
    () => decodeCompact(Uint8Array.from([header, ...pack(b)])),
    (e: unknown) => e instanceof DecodeError && e.code === 'INVALID_FIELD' && pattern.test(e.message),
  );

describe('compact update state (kind 8)', () => {
  it('is kind 8 at QoS 1 and round-trips to the canonical UpdateStatePayload', () => {
    assert.equal(UplinkKind.update, 8);
    assert.equal(UPLINK_QOS.update, 1);
    assert.equal(uplinkTopic('E-1', 'update'), 'dh/v1/E-1/up/update');
    const downloading = encodeCompact({
      kind: 'update',
      seq: 3,
      ts: 99,
      ...report,
      state: 'downloading',
      progress: 42.4,
    });
    assert.equal(downloading[0], 0x18);
    assert.deepEqual(decodeCompact(downloading), [
      { method: 'updateState', payload: { ...report, state: 'downloading', progress: 42, seq: 3, ts: 99 } },
    ]);
    const failed = encodeCompact({
      kind: 'update',
      seq: 4,
      ts: 100,
      ...report,
      state: 'failed',
      reason: 'DISK_FULL: no space',
    });
    assert.deepEqual(decodeCompact(failed)[0]?.payload, {
      ...report,
      state: 'failed',
      reason: 'DISK_FULL: no space',
      seq: 4,
      ts: 100,
    });
    for (const state of ['downloaded', 'verified', 'installing', 'healthy', 'rolled_back'] as const)
      assert.equal(
        (
          decodeCompact(encodeCompact({ kind: 'update', seq: 1, ts: 1, ...report, state }))[0]!.payload as {
            state: string;
          }
        ).state,
        state,
      );
  });

  it('refuses a malformed state with a reason naming the field', () => {
    refused({ ...body, s: 7 }, /s \(state\) must be 0\.\.6/);
    refused({ ...body, s: 'healthy' }, /s \(state\)/);
    refused({ ...body, r: '' }, /r \(rollout\)/);
    refused({ ...body, r: '__proto__' }, /r \(rollout\)/);
    refused({ ...body, g: 'elenet.bin' }, /g \(target path\) must be <kind>\/<name>\/<version>\/<fileName>/);
    refused({ ...body, n: 3 }, /n \(name\)/);
    refused({ ...body, v: 'x'.repeat(300) }, /v \(version\)/);
    refused({ ...body, p: 101 }, /p \(progress %\)/);
    refused({ ...body, s: 4, p: 50 }, /progress\) comes with downloading only/);
    const { q: _q, ...noSeq } = body;
    refused(noSeq, /q \(sequence\)/);
  });

  it('cuts a long reason instead of refusing it', () => {
    const long = Uint8Array.from([header, ...pack({ ...body, s: 6, e: 'x'.repeat(1000) })]);
    assert.equal((decodeCompact(long)[0]!.payload as { reason: string }).reason.length, 256);
  });
});
