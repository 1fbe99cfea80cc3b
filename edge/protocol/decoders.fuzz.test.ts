/**
 * Property-based fuzzing of every decoder (fast-check): for any input, the compact decoder, the
 * legacy JSON decoder (command results included) and the framing accounting return a value or
 * throw their typed error — nothing else — and every message a decoder returns can be enqueued
 * (bus encodeEntry takes it). Inputs: arbitrary bytes, valid messages with fields replaced by
 * BigInts, huge and non-finite numbers, deep nesting, huge strings, binary, dates; arbitrary JSON
 * and JSON texts no JavaScript value stringifies to (6,000 levels, 1e400, lone surrogates).
 * The counts of what was tried go to the test's diagnostics.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import { encodeEntry } from '../../bus/mod.ts';
import { decodeCompact } from './compact.ts';
import { DecodeError } from './errors.ts';
import { kafkaProduceBytes, mqttPublishBytes } from './framing.ts';
import { decodeLegacy } from './legacy.ts';
import { legacyCommandResult, legacyFault, legacyHeartbeat, withSequence } from './legacy-encoder.ts';
import { MAX_DEVICE_MESSAGE_BYTES } from './limits.ts';
import type { HubMessage } from './normalized.ts';
import { PROTOCOL_VERSION, parseUplinkTopic, UplinkKind } from './protocol.ts';
import {
  bodyOf,
  compactBytes,
  FUZZ_EDGE as EDGE,
  KEYS,
  KIND,
  nasty,
  nested,
  VALID,
  VALID_HEALTH,
} from './testdata/fuzz-inputs.ts';

const RUNS = Number(process.env.DEVICEHUB_FUZZ_RUNS ?? 1500);

/** Outcomes of one property: decoded, or refused per DecodeError code. */
class Tally {
  tried = 0;
  decoded = 0;
  readonly refused: Record<string, number> = {};

  /** Runs `decode`; a DecodeError is a refusal, anything else fails the property. */
  take(decode: () => HubMessage[]): void {
    this.tried++;
    let messages: HubMessage[];
    try {
      messages = decode();
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      this.refused[error.code] = (this.refused[error.code] ?? 0) + 1;
      return;
    }
    this.decoded++;
    for (const m of messages)
      encodeEntry({ address: `edge/${EDGE}`, method: m.method, payload: { ...m.payload, via: 'mqtt' } }, 0);
  }

  report(t: TestContext, what: string): void {
    t.diagnostic(
      `${what}: ${this.tried} inputs tried, ${this.decoded} decoded (and enqueueable), refused ${JSON.stringify(this.refused)}`,
    );
  }
}

describe('decoders under fuzzing', { timeout: 120_000 }, () => {
  it('compact: arbitrary bytes decode or are refused with a DecodeError', (t) => {
    const tally = new Tally();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), KIND, fc.boolean(), (bytes, kind, withHeader) => {
        // Half of them behind a valid header, so the body decoder gets the bytes.
        if (withHeader && bytes.length > 0) bytes[0] = (PROTOCOL_VERSION << 4) | UplinkKind[kind];
        tally.take(() => decodeCompact(bytes));
      }),
      { numRuns: RUNS * 2 },
    );
    tally.report(t, 'compact, arbitrary bytes');
    assert.ok(tally.tried >= RUNS * 2);
  });

  it('compact: valid messages with nasty fields decode to enqueueable messages or are refused', (t) => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID),
        fc.dictionary(fc.constantFrom(...KEYS), nasty, { maxKeys: 3 }),
        (valid, replaced) => {
          const bytes = compactBytes(
            (PROTOCOL_VERSION << 4) | UplinkKind[valid.kind],
            Object.assign(bodyOf(valid), replaced),
          );
          if (bytes !== undefined) tally.take(() => decodeCompact(bytes));
        },
      ),
      { numRuns: RUNS },
    );
    tally.report(t, 'compact, nasty fields');
    assert.ok(tally.decoded > 0 && Object.keys(tally.refused).length > 1, 'both outcomes were reached');
  });

  it('compact: the cases that broke the link are refused or taken, never thrown', () => {
    const header = (kind: UplinkKind) => (PROTOCOL_VERSION << 4) | UplinkKind[kind];
    // The 16-byte message: q as a MessagePack uint64 beyond 2^53.
    const uint64Seq = Uint8Array.from([
      header('alarm'),
      ...[0x82, 0xa1, 0x71, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x74, 0x01],
    ]);
    assert.equal(uint64Seq.length, 16);
    const refused = (bytes: Uint8Array | undefined, code: string) =>
      assert.throws(
        () => decodeCompact(bytes!),
        (e: unknown) => e instanceof DecodeError && e.code === code,
      );
    refused(uint64Seq, 'INVALID_FIELD');
    refused(compactBytes(header('alarm'), { ...bodyOf(VALID[3]!), q: 1e300 }), 'INVALID_FIELD');
    refused(compactBytes(header('alarm'), { ...bodyOf(VALID[3]!), t: -1 }), 'INVALID_FIELD');
    refused(
      compactBytes(header('result'), { ...bodyOf(VALID[5]!), r: '\u0001'.repeat(12_000) }),
      'TOO_LARGE',
    );
    refused(compactBytes(header('result'), { ...bodyOf(VALID[5]!), r: nested(40, 1) }), 'TOO_DEEP');
    refused(compactBytes(header('result'), { ...bodyOf(VALID[5]!), r: Number.NaN }), 'INVALID_FIELD');
    refused(Uint8Array.from([header('result'), ...new Uint8Array(6000).fill(0x91)]), 'INVALID_FIELD');
    refused(compactBytes(header('alarm'), { ...bodyOf(VALID[3]!), a: '__proto__' }), 'INVALID_FIELD');
    // A small uint64 q is a number like any other; a 64-bit result is kept as its decimal string.
    const small = compactBytes(header('alarm'), { ...bodyOf(VALID[3]!), q: 7n });
    assert.equal((decodeCompact(small!)[0]!.payload as { seq: number }).seq, 7);
    const big = compactBytes(header('result'), { ...bodyOf(VALID[5]!), r: { n: 2n ** 64n - 1n } });
    assert.deepEqual((decodeCompact(big!)[0]!.payload as { result: unknown }).result, {
      n: '18446744073709551615',
    });
  });

  it('legacy: arbitrary text and arbitrary JSON decode or are refused with a DecodeError', (t) => {
    const tally = new Tally();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 500 }),
          fc.string({ unit: 'binary', maxLength: 500 }),
          fc.json({ maxDepth: 6 }),
          fc
            .jsonValue({ maxDepth: 4 })
            .map((v) => JSON.stringify({ msgType: 'heartbeat', deviceId: EDGE, v })),
        ),
        (text) => tally.take(() => decodeLegacy(text, EDGE)),
      ),
      { numRuns: RUNS },
    );
    tally.report(t, 'legacy, arbitrary text and JSON');
    assert.ok(tally.tried >= RUNS);
  });

  it('legacy: valid messages with nasty JSON fields decode to enqueueable messages or are refused', (t) => {
    const tally = new Tally();
    const valid = [
      legacyCommandResult(EDGE, 1, { id: 'c-1', ok: true, result: { out: 'ok' } }),
      legacyCommandResult(EDGE, 1, { id: 'c-2', ok: false, error: 'no' }),
      withSequence(legacyFault({ edgeId: EDGE, ts: 1, alarm: 'trapped', phase: 'start', floor: 3 }), 1, 'b1'),
      legacyHeartbeat({ edgeId: EDGE, ts: 1, health: VALID_HEALTH, firmware: '3.2.14' }),
    ];
    // JSON texts: deep nesting no JavaScript value stringifies, numbers past float64, lone surrogates.
    const fragment = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc.nat(8000).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
      fc.nat(3000).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
      fc.constantFrom('1e300', '1e400', '-1e400', '123456789012345678901234567890', '9007199254740993'),
      fc.constantFrom('"\\ud800"', '"\\u0000"', '"__proto__"', '"constructor"', '{"__proto__":{"x":1}}'),
      fc.nat(20_000).map((n) => JSON.stringify('\u0001'.repeat(n))),
    );
    const FIELDS = ['result', 'errorMessage', 'commandId', 'success', 'timestamp', 'seqNo', 'bootId'];
    const MORE = ['faultType', 'currentFloor', 'cpuPercent', 'uptimeSeconds', 'deviceId', 'msgType'];
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.constantFrom(...FIELDS, ...MORE),
        fragment,
        (json, field, value) => {
          // A later duplicate key wins in JSON.parse: the field is replaced by the raw fragment.
          const text = `${json.slice(0, -1)},"${field}":${value}}`;
          tally.take(() => decodeLegacy(text, EDGE));
        },
      ),
      { numRuns: RUNS },
    );
    tally.report(t, 'legacy, nasty fields');
    assert.ok(tally.decoded > 0 && (tally.refused.TOO_LARGE ?? 0) > 0, 'both outcomes were reached');
  });

  it('legacy: a 6,000-level command result is refused, not a stack overflow', () => {
    const deep = `${'['.repeat(6000)}${']'.repeat(6000)}`;
    const text = `${legacyCommandResult(EDGE, 1, { id: 'c-1', ok: true }).slice(0, -1)},"result":${deep}}`;
    assert.ok(Buffer.byteLength(text) <= MAX_DEVICE_MESSAGE_BYTES);
    assert.throws(
      () => decodeLegacy(text, EDGE),
      (e: unknown) => e instanceof DecodeError && e.code === 'TOO_DEEP',
    );
    assert.throws(
      () => decodeLegacy(`{"msgType":"heartbeat","deviceId":${deep},"timestamp":1}`, EDGE),
      (e: unknown) => e instanceof DecodeError && e.code === 'EDGE_MISMATCH',
    );
  });

  it('framing and topics: any size gives a byte count or a RangeError, any topic parses or not', (t) => {
    let tried = 0;
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.oneof(fc.nat(), fc.double(), fc.integer()),
        fc.constantFrom(0 as const, 1 as const),
        (topic, size, qos) => {
          tried++;
          for (const frame of [
            () => mqttPublishBytes(topic, size, qos),
            () => kafkaProduceBytes({ topic, key: EDGE, valueBytes: size }),
          ])
            try {
              const bytes = frame();
              assert.ok(Number.isSafeInteger(bytes) && bytes > size);
            } catch (error) {
              assert.ok(error instanceof RangeError, String(error));
            }
          const route = parseUplinkTopic(topic);
          if (route !== undefined) assert.match(topic, /^dh\/v1\//);
        },
      ),
      { numRuns: RUNS },
    );
    t.diagnostic(`framing and topics: ${tried} inputs tried`);
  });
});
