/**
 * The `log` kind: lines round-trip (text, binary, cut), batches split to fit, and everything bad
 * is a DecodeError with its code — zip bombs (by `u` and by what actually inflates), garbage,
 * wrong headers, too many lines, malformed lines — plus a fast-check pass over arbitrary bytes
 * and mutated valid batches.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { decodeCompact } from './compact.ts';
import { DecodeError } from './errors.ts';
import { LOG_LIMITS } from './limits.ts';
import { decodeLogBatch, encodeLogBatch, encodeLogBatches, isLogMessage, type LogLine } from './logs.ts';
import { PROTOCOL_VERSION, UplinkKind } from './protocol.ts';

const T = 1_780_000_000_000;
const HEADER = (PROTOCOL_VERSION << 4) | UplinkKind.log;
const line = (i: number, msg: string | Uint8Array = `line ${i}`): LogLine => ({
  time: T + i,
  level: 'info',
  source: 'elenet',
  msg,
});

/** A log message with the body given as it is (for bad input). */
function raw(body: unknown, header = HEADER): Uint8Array {
  const b = pack(body);
  const out = new Uint8Array(b.byteLength + 1);
  out[0] = header;
  out.set(b, 1);
  return out;
}

/** A body whose `z` holds `lines` (any value) as they are. */
function bodyWith(lines: unknown, extra: Record<string, unknown> = {}): Uint8Array {
  const inner = pack(lines);
  return raw({
    t: T,
    c: 1,
    n: Array.isArray(lines) ? lines.length : 1,
    u: inner.byteLength,
    z: deflateRawSync(inner),
    ...extra,
  });
}

function refused(bytes: Uint8Array, code: DecodeError['code'], text?: RegExp): void {
  assert.throws(
    () => decodeLogBatch(bytes),
    (e: unknown) =>
      e instanceof DecodeError && e.code === code && (text === undefined || text.test(e.message)),
  );
}

describe('edge/protocol logs', () => {
  it('round-trips lines of every level, text and binary, in order, with their times and sources', () => {
    const lines: LogLine[] = [
      { time: T, level: 'trace', source: 'agent', msg: 'starting' },
      { time: T + 5, level: 'debug', source: 'elenet', msg: 'frame 12 ✓ 电梯' },
      { time: T - 1000, level: 'warn', source: 'litefcccore', msg: 'late line' },
      { time: T + 7, level: 'error', source: 'elenet', msg: new Uint8Array([0xff, 0x00, 0x41]) },
      { time: T + 9, level: 'fatal', source: 'a.b_c-d', msg: '' },
    ];
    const bytes = encodeLogBatch(lines, { time: T + 10 });
    assert.ok(isLogMessage(bytes));
    assert.equal(bytes[0], 0x16);
    const batch = decodeLogBatch(bytes);
    assert.equal(batch.time, T + 10);
    assert.deepEqual(
      batch.lines.map((l) => ({ ...l, msg: typeof l.msg === 'string' ? l.msg : [...l.msg] })),
      lines.map((l) => ({ ...l, msg: typeof l.msg === 'string' ? l.msg : [...l.msg] })),
    );
  });

  it('compresses repetitive lines (1000 pino-like lines fit one message)', () => {
    const lines = Array.from({ length: 1000 }, (_, i) =>
      line(i, `{"level":30,"msg":"status sent","floor":${i % 20},"edgeId":"E-1"}`),
    );
    const messages = encodeLogBatches(lines);
    assert.equal(messages.length, 1);
    assert.ok(messages[0]!.byteLength < LOG_LIMITS.maxMessageBytes);
    assert.equal(decodeLogBatch(messages[0]!).lines.length, 1000);
  });

  it('cuts a line over maxLineBytes and marks it; a string is cut on a character boundary', () => {
    const long = '电'.repeat(5000); // 15,000 bytes
    const [decoded] = decodeLogBatch(encodeLogBatch([line(0, long)])).lines;
    const msg = decoded!.msg as string;
    assert.equal(typeof msg, 'string');
    assert.ok(Buffer.byteLength(msg) <= LOG_LIMITS.maxLineBytes, `${Buffer.byteLength(msg)} bytes`);
    assert.match(msg, /^电+…\[cut \d+ bytes\]$/);
    const cut = Number(/cut (\d+) bytes/.exec(msg)![1]);
    assert.equal(Buffer.byteLength(msg.replace(/….*$/, '')) + cut, 15000);
  });

  it('splits incompressible lines into several messages, each within the limits, nothing lost', () => {
    const lines = Array.from({ length: 40 }, (_, i) => line(i, randomBytes(3000)));
    const messages = encodeLogBatches(lines);
    assert.ok(messages.length >= 8, `${messages.length} messages`);
    for (const m of messages) assert.ok(m.byteLength <= LOG_LIMITS.maxMessageBytes);
    const back = messages.flatMap((m) => decodeLogBatch(m).lines);
    assert.equal(back.length, 40);
    assert.deepEqual(
      back.map((l) => l.time),
      lines.map((l) => l.time),
    );
    assert.throws(() => encodeLogBatch(lines), /compressed, limit/);
  });

  it('refuses bad lines at the encoder with the field named', () => {
    assert.throws(() => encodeLogBatch([]), /1\.\.1000 lines/);
    assert.throws(() => encodeLogBatch([{ ...line(0), source: 'no spaces' }]), /source/);
    assert.throws(() => encodeLogBatch([{ ...line(0), level: 'loud' as 'info' }]), /level/);
    assert.throws(() => encodeLogBatch([{ ...line(0), time: Number.NaN }]), /time/);
  });

  it('refuses a zip bomb: by u before inflating, and by what inflates whatever u says', () => {
    const bomb = deflateRawSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 }); // 8 MiB of zeros: ~8 KiB
    assert.ok(bomb.byteLength < 12_000, `${bomb.byteLength}`);
    refused(raw({ t: T, c: 1, n: 1, u: 8 * 1024 * 1024, z: bomb }), 'TOO_LARGE', /u says/);
    const before = process.memoryUsage().arrayBuffers;
    refused(raw({ t: T, c: 1, n: 1, u: 100, z: bomb }), 'TOO_LARGE', /zip bomb/);
    // The inflate stopped at its bound: nothing near 8 MiB was held.
    assert.ok(process.memoryUsage().arrayBuffers - before < 4 * 1024 * 1024);
  });

  it('refuses garbage, wrong headers and malformed bodies, each with its code', () => {
    refused(new Uint8Array(LOG_LIMITS.maxMessageBytes + 1).fill(HEADER), 'TOO_LARGE');
    refused(new Uint8Array([HEADER]), 'BAD_HEADER');
    refused(raw({ t: T }, (2 << 4) | UplinkKind.log), 'BAD_HEADER', /version 2/);
    refused(raw({ t: T }, (PROTOCOL_VERSION << 4) | UplinkKind.status), 'BAD_HEADER', /not log/);
    refused(new Uint8Array([HEADER, 0x82, 0xa1]), 'INVALID_FIELD', /not MessagePack/);
    refused(raw([1, 2, 3]), 'INVALID_FIELD', /not a map/);
    refused(raw({ t: -1, c: 1, n: 1, u: 1, z: new Uint8Array(1) }), 'INVALID_FIELD', /^t /);
    refused(raw({ t: T, c: 2, n: 1, u: 1, z: new Uint8Array(1) }), 'INVALID_FIELD', /codec/);
    refused(raw({ t: T, c: 1, n: 0, u: 1, z: new Uint8Array(1) }), 'INVALID_FIELD', /^n /);
    refused(raw({ t: T, c: 1, n: 1001, u: 1, z: new Uint8Array(1) }), 'INVALID_FIELD', /^n /);
    refused(raw({ t: T, c: 1, n: 1, u: 3, z: 'abc' }), 'INVALID_FIELD', /z must be bytes/);
    refused(
      raw({ t: T, c: 1, n: 1, u: 3, z: randomBytes(64) }),
      'INVALID_FIELD',
      /deflate|inflates to|MessagePack/,
    );
    refused(
      raw({ t: T, c: 1, n: 1, u: 3, z: deflateRawSync(Buffer.from([0xc1, 0xc1, 0xc1])) }),
      'INVALID_FIELD',
    );
    refused(bodyWith([[0, 2, 'elenet', 'x']], { u: 1 }), 'INVALID_FIELD', /u says 1/);
    refused(bodyWith([[0, 2, 'elenet', 'x']], { n: 2 }), 'INVALID_FIELD', /n = 2/);
    refused(bodyWith({ not: 'lines' }), 'INVALID_FIELD', /hold n = 1 lines/);
    refused(bodyWith([[0, 2, 'elenet']]), 'INVALID_FIELD', /line 0 must be/);
    refused(bodyWith([[0, 6, 'elenet', 'x']]), 'INVALID_FIELD', /line 0 level/);
    refused(bodyWith([[0, 2, '../etc', 'x']]), 'INVALID_FIELD', /line 0 source/);
    refused(bodyWith([[0, 2, 'elenet', 42]]), 'INVALID_FIELD', /line 0 msg/);
    refused(bodyWith([[1.5, 2, 'elenet', 'x']]), 'INVALID_FIELD', /line 0 dt/);
    refused(bodyWith([[-T - 1, 2, 'elenet', 'x']]), 'INVALID_FIELD', /line 0 dt/);
    refused(bodyWith([[1000, 2, 'elenet', 'x']], { t: 4_102_444_800_000 }), 'INVALID_FIELD', /line 0 time/);
    refused(bodyWith([[0, 2, 'elenet', 'x'.repeat(20_000)]]), 'TOO_LARGE', /line 0 msg/);
  });

  it('is not a mailbox message: decodeCompact leaves it to the log path', () => {
    assert.throws(
      () => decodeCompact(encodeLogBatch([line(0)])),
      (e: unknown) => e instanceof DecodeError && e.code !== 'INTERNAL',
    );
  });

  it('throws nothing but DecodeError for arbitrary and mutated input (fast-check)', () => {
    const valid = encodeLogBatch(Array.from({ length: 20 }, (_, i) => line(i, `message ${i}`)));
    const codes: Record<string, number> = {};
    const take = (bytes: Uint8Array) => {
      try {
        decodeLogBatch(bytes);
        codes.decoded = (codes.decoded ?? 0) + 1;
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        codes[error.code] = (codes[error.code] ?? 0) + 1;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (tail) => take(Uint8Array.of(HEADER, ...tail))),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: valid.byteLength - 1 }),
        fc.integer({ min: 0, max: 255 }),
        (at, byte) => {
          const copy = Uint8Array.from(valid);
          copy[at] = byte;
          take(copy);
          take(copy.subarray(0, at));
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), (dt, level, source, msg) =>
        take(bodyWith([[dt, level, source, msg]])),
      ),
      { numRuns: 300 },
    );
    assert.ok((codes.INVALID_FIELD ?? 0) > 0);
  });
});
