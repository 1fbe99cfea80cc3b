/**
 * The field checks both decoders (legacy JSON, compact MessagePack) share: integers in their
 * documented ranges, names without control characters, command results bounded in depth and
 * size before anything encodes them. Each throws a `DecodeError` and nothing else — including
 * while describing the value that failed (a BigInt or a 6,000-level array cannot make it throw).
 */
import { DecodeError } from './errors.ts';
import {
  MAX_ERROR_CHARS,
  MAX_NAME_CHARS,
  MAX_RESULT_DEPTH,
  MAX_RESULT_JSON_BYTES,
  NUMBER_RANGE,
} from './limits.ts';

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** A time in ms: a finite number, not negative (the policies' and requests' checks). */
export function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** A plain object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of any value for an error message; never throws, never walks the value. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'nothing';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      if (value instanceof Uint8Array) return `${value.byteLength} bytes of binary`;
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

/** A safe integer within `range`; a BigInt (MessagePack uint64/int64) within it is taken as a number. */
export function intIn(value: unknown, range: Range, what: string): number {
  const n =
    typeof value === 'bigint' && value >= BigInt(range.min) && value <= BigInt(range.max)
      ? Number(value)
      : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < range.min || n > range.max)
    throw new DecodeError(
      'INVALID_FIELD',
      `${what} must be an integer ${range.min}..${range.max}, got ${describe(value)}`,
    );
  return n;
}

export const isIntIn = (value: unknown, range: Range): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= range.min && value <= range.max;

/** A finite number within NUMBER_RANGE. */
export const isNumber = (value: unknown): value is number =>
  typeof value === 'number' &&
  Number.isFinite(value) &&
  value >= NUMBER_RANGE.min &&
  value <= NUMBER_RANGE.max;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The names of Object.prototype's own properties (`__proto__`, `constructor`, `toString`…), taken
 * once. Asked per name of every device message: `name in Object.prototype` made V8 look each
 * string up in its string table, 0.75 µs for a legacy status's six names against 0.39 with the
 * set (a micro-benchmark beside 30,000 other strings; decision 071).
 */
const OBJECT_BUILTINS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * A name: a string of at most `max` UTF-16 code units (at least one when `nonEmpty`), with no
 * control characters, no lone surrogates, and not an object built-in such as `__proto__`
 * (names become keys of the actor's state).
 */
export function isName(value: unknown, max = MAX_NAME_CHARS, nonEmpty = false): value is string {
  return (
    typeof value === 'string' &&
    value.length <= max &&
    (!nonEmpty || value.length > 0) &&
    !CONTROL.test(value) &&
    value.isWellFormed() &&
    !OBJECT_BUILTINS.has(value)
  );
}

// Positional on purpose: called per field of every device message, where an options object per call would allocate.
export function name(value: unknown, what: string, max = MAX_NAME_CHARS, nonEmpty = false): string {
  if (!isName(value, max, nonEmpty))
    throw new DecodeError(
      'INVALID_FIELD',
      `${what} must be a name of ${nonEmpty ? 1 : 0}..${max} characters without control characters, got ${describe(value)}`,
    );
  return value;
}

/** A command's error message: a string cut to MAX_ERROR_CHARS (a number or boolean is written out). */
export function errorText(value: unknown, fallback: string): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : fallback;
  return text.length > MAX_ERROR_CHARS ? text.slice(0, MAX_ERROR_CHARS) : text;
}

/**
 * A command result as the JSON value the mailbox carries: null, booleans, finite numbers,
 * strings, arrays and maps, at most MAX_RESULT_DEPTH deep and MAX_RESULT_JSON_BYTES encoded.
 * Lossless conversions: an integer beyond ±2^53 (MessagePack uint64/int64) becomes its decimal
 * string, binary its base64 string, a MessagePack timestamp its ISO string, a missing value null.
 * Anything else (NaN, ±Infinity, other extension types) is refused.
 */
export function resultValue(value: unknown, what: string): unknown {
  const walk = (v: unknown, depth: number): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'undefined':
        return null;
      case 'number':
        if (!Number.isFinite(v)) throw new DecodeError('INVALID_FIELD', `${what} holds ${describe(v)}`);
        return v;
      case 'bigint':
        return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      case 'object': {
        if (v === null) return null;
        if (v instanceof Uint8Array)
          return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
        if (v instanceof Date) {
          if (Number.isNaN(v.getTime()))
            throw new DecodeError('INVALID_FIELD', `${what} holds an invalid date`);
          return v.toISOString();
        }
        if (depth >= MAX_RESULT_DEPTH)
          throw new DecodeError('TOO_DEEP', `${what} is nested deeper than ${MAX_RESULT_DEPTH} levels`);
        if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null)
          throw new DecodeError('INVALID_FIELD', `${what} holds a value JSON cannot carry`);
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(v))
          Object.defineProperty(out, key, {
            value: walk(item, depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        return out;
      }
      default:
        throw new DecodeError('INVALID_FIELD', `${what} holds ${describe(v)}`);
    }
  };
  const result = walk(value, 0);
  const bytes = Buffer.byteLength(JSON.stringify(result) ?? 'null');
  if (bytes > MAX_RESULT_JSON_BYTES)
    throw new DecodeError('TOO_LARGE', `${what} is ${bytes} bytes as JSON, limit ${MAX_RESULT_JSON_BYTES}`);
  return result;
}
