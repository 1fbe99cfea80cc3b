/**
 * Inputs the fuzz tests share (decoders.fuzz.test.ts, mqtt-fuzz.test.ts): values no decoder field
 * expects (BigInt, huge and non-finite numbers, deep nesting, huge strings, binary, dates), valid
 * compact bodies of every kind to put them in, and MessagePack framing.
 */
import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { birthOf } from '../../sim/elevator-day.ts';
import { type CompactMessage, encodeCompact } from '../compact.ts';
import { UplinkKind } from '../protocol.ts';

export const FUZZ_EDGE = 'E-fuzz';

/** `depth` levels of arrays and maps around `leaf`. */
export const nested = (depth: number, leaf: unknown): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};

/** Values a MessagePack body may hold that no decoder field expects. */
export const nasty = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(), // NaN and ±Infinity included
  fc.constantFrom(1e300, -1e300, 2 ** 53, 2 ** 32, -(2 ** 31) - 1, Number.MAX_VALUE, -0, 0.5),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('__proto__', 'constructor', 'a\u0000b', '\ud800', ''),
  fc.nat(20_000).map((n) => 'x'.repeat(n)),
  fc.nat(12_000).map((n) => '\u0001'.repeat(n)), // six times longer as JSON
  fc.uint8Array({ maxLength: 200 }),
  fc.date({ noInvalidDate: false }),
  fc.nat(200).map((d) => nested(d, 1)),
  fc.anything({
    maxDepth: 3,
    withBigInt: true,
    withDate: true,
    withTypedArray: true,
    withNullPrototype: true,
  }),
);

export const KIND = fc.constantFrom(...(Object.keys(UplinkKind) as UplinkKind[]));
export const KEYS = [
  ...['q', 't', 'b', 'm', 'fw', 'rg', 'bi', 'en', 'sl', 'x', 'r', 'e', 'i', 'o', 'a', 'p', 'f'],
  ...['d', 'v', 'bk', 'sc', 'mm', 'fc', 's', 'l', 'tc', 'ma', 'lv', 'ps', 'sg', 'rc', 'rs', 'dc'],
  ...['u', 'c', 'mf', 'df', 'ea', 'la', 'g', 'n'],
];

export const VALID_HEALTH = {
  uptimeSeconds: 1,
  cpuPercent: 2,
  memoryFreeMb: 3,
  diskFreeMb: 4,
  elenetAlive: true,
  litefcccoreAlive: true,
};

/** A valid compact body of each kind, to replace fields of (so decoding gets past the first check). */
export const VALID: CompactMessage[] = [
  { kind: 'birth', seq: 1, ts: 1, boot: 'b1', birth: birthOf(FUZZ_EDGE), silenceSeconds: 60 },
  { kind: 'status', seq: 2, ts: 2, snapshot: false, status: { floor: 3, door: 'open', speed: 1.5 } },
  { kind: 'vision', seq: 3, ts: 3, event: 'ebike', active: true },
  { kind: 'alarm', seq: 4, ts: 4, alarm: 'trapped', phase: 'start', floor: 3 },
  { kind: 'health', seq: 5, ts: 5, health: VALID_HEALTH },
  { kind: 'result', seq: 6, ts: 6, id: 'c-1', ok: true, result: { out: 'ok' } },
  {
    kind: 'update',
    seq: 7,
    ts: 7,
    rollout: 'r-1',
    target: 'edge-package/elenet/2.1.0/elenet.bin',
    name: 'elenet',
    version: '2.1.0',
    state: 'downloading',
    progress: 10,
  },
];
export const bodyOf = (m: CompactMessage) => unpack(encodeCompact(m).subarray(1)) as Record<string, unknown>;

/** Packs a body behind a header; undefined when msgpackr cannot pack the value at all. */
export function compactBytes(header: number, body: unknown): Uint8Array | undefined {
  let packed: Uint8Array;
  try {
    packed = pack(body);
  } catch {
    return undefined;
  }
  const out = new Uint8Array(packed.length + 1);
  out[0] = header;
  out.set(packed, 1);
  return out;
}
