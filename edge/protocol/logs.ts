/**
 * The `log` kind (code 6): a batch of an edge's log lines, compressed. One header byte (protocol
 * version, kind 6) as every compact message, then a MessagePack map `{t, c, n, u, z}`: `t` the
 * batch's time (ms), `c` the codec (1 = raw deflate), `n` how many lines, `u` their bytes before
 * compression, `z` the compressed MessagePack array of lines `[dt, level, source, msg]` (`dt` ms
 * after `t`, `level` an index in LOG_LINE_LEVELS, `msg` a string, or binary when the line was not
 * UTF-8). A batch carries no sequence number: logs never reach the edge actor, whose gap counting
 * is for the other kinds. The edge id is the topic's or the Kafka key's, never the payload's.
 *
 * The decoder refuses before it inflates what it can (size, header, `n`, `u`), then inflates with
 * a hard output bound, so a zip bomb costs at most LOG_LIMITS.maxInflatedBytes of memory; every
 * refusal is a DecodeError with its code, as for the other kinds.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { pack, unpack } from 'msgpackr';
import { describe, intIn } from './checks.ts';
import { DecodeError } from './errors.ts';
import { INT_RANGE, LOG_LIMITS, TIMESTAMP_RANGE } from './limits.ts';
import { lineBytes } from './log-budget.ts';
import { PROTOCOL_VERSION, UplinkKind } from './protocol.ts';

/** Levels in wire order (the index is what travels): the same names as pino's and logs/'s. */
export const LOG_LINE_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLineLevel = (typeof LOG_LINE_LEVELS)[number];

/** One line of an edge's log. */
export interface LogLine {
  /** ms since the epoch. */
  readonly time: number;
  readonly level: LogLineLevel;
  /** What wrote it: `elenet`, `litefcccore`, `agent`, … (1–64 of `[A-Za-z0-9_.-]`). */
  readonly source: string;
  /** The line without its newline; bytes when it is not valid UTF-8 (the hub escapes them). */
  readonly msg: string | Uint8Array;
}

export interface LogBatch {
  /** The batch's time (ms): when the agent packed it. */
  readonly time: number;
  readonly lines: LogLine[];
}

/** The one codec today (`c`): raw deflate (RFC 1951), node:zlib's deflateRaw. */
const CODEC_DEFLATE_RAW = 1;
const HEADER = (PROTOCOL_VERSION << 4) | UplinkKind.log;
const SOURCE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Whether a compact message's header says `log` (the links route it to the log shipper, not a mailbox). */
export function isLogMessage(bytes: Uint8Array): boolean {
  return bytes.byteLength > 0 && bytes[0] === HEADER;
}

/** Whether `source` may name a log's writer. */
export function isLogSource(source: unknown): source is string {
  return typeof source === 'string' && SOURCE.test(source);
}

/** A line's msg within maxLineBytes: cut (a string on a character boundary) and marked `…[cut N bytes]`. */
function wireMsg(msg: string | Uint8Array): string | Uint8Array {
  const bytes =
    typeof msg === 'string' ? Buffer.from(msg) : Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  if (bytes.byteLength <= LOG_LIMITS.maxLineBytes) return msg;
  let end = LOG_LIMITS.maxLineBytes - 32; // room for the marker
  if (typeof msg === 'string') while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  const out = Buffer.concat([bytes.subarray(0, end), Buffer.from(`…[cut ${bytes.byteLength - end} bytes]`)]);
  return typeof msg === 'string' ? out.toString('utf8') : out;
}

function checkLine(line: LogLine): void {
  if (!isLogSource(line.source))
    throw new RangeError(
      `Cannot encode a log line: source must be 1–64 of [A-Za-z0-9_.-], got ${describe(line.source)}`,
    );
  if (!LOG_LINE_LEVELS.includes(line.level))
    throw new RangeError(
      `Cannot encode a log line: level must be one of ${LOG_LINE_LEVELS.join(', ')}, got ${describe(line.level)}`,
    );
  if (!Number.isSafeInteger(line.time) || line.time < TIMESTAMP_RANGE.min || line.time > TIMESTAMP_RANGE.max)
    throw new RangeError(
      `Cannot encode a log line: time must be ms since the epoch, got ${describe(line.time)}`,
    );
}

/**
 * One `log` message holding `lines` (1..maxLines), each longer than maxLineBytes cut and marked.
 * Throws RangeError when they do not fit one message (use encodeLogBatches to split).
 */
export function encodeLogBatch(lines: readonly LogLine[], options: { time?: number } = {}): Uint8Array {
  if (lines.length === 0 || lines.length > LOG_LIMITS.maxLines)
    throw new RangeError(`Cannot encode a log batch: 1..${LOG_LIMITS.maxLines} lines, got ${lines.length}`);
  for (const line of lines) checkLine(line);
  const time = options.time ?? lines[0]!.time;
  const raw = pack(
    lines.map((l) => [l.time - time, LOG_LINE_LEVELS.indexOf(l.level), l.source, wireMsg(l.msg)]),
  );
  if (raw.byteLength > LOG_LIMITS.maxInflatedBytes)
    throw new RangeError(
      `Cannot encode a log batch: ${raw.byteLength} bytes before compression, limit ${LOG_LIMITS.maxInflatedBytes}`,
    );
  const body = pack({
    t: time,
    c: CODEC_DEFLATE_RAW,
    n: lines.length,
    u: raw.byteLength,
    z: deflateRawSync(raw),
  });
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = HEADER;
  out.set(body, 1);
  if (out.byteLength > LOG_LIMITS.maxMessageBytes)
    throw new RangeError(
      `Cannot encode a log batch: ${out.byteLength} bytes compressed, limit ${LOG_LIMITS.maxMessageBytes}`,
    );
  return out;
}

/** Rough bytes a line takes before compression (MessagePack adds a few). */
const rawBytes = (l: LogLine) => Math.min(lineBytes(l.msg), LOG_LIMITS.maxLineBytes) + l.source.length + 16;

/**
 * `lines` as as few `log` messages as fit the limits, in order: packed greedily up to maxLines
 * and ¾ of maxInflatedBytes, and a group whose compressed message is over maxMessageBytes split
 * in halves until it fits (one line always does: it is cut to maxLineBytes first).
 */
export function encodeLogBatches(lines: readonly LogLine[], options: { time?: number } = {}): Uint8Array[] {
  const out: Uint8Array[] = [];
  const emit = (group: readonly LogLine[]): void => {
    try {
      out.push(encodeLogBatch(group, options));
    } catch (error) {
      if (group.length <= 1 || !(error instanceof RangeError) || !/compress/.test(error.message)) throw error;
      const half = Math.ceil(group.length / 2);
      emit(group.slice(0, half));
      emit(group.slice(half));
    }
  };
  let group: LogLine[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = rawBytes(line);
    if (
      group.length > 0 &&
      (group.length >= LOG_LIMITS.maxLines || bytes + size > (LOG_LIMITS.maxInflatedBytes * 3) / 4)
    ) {
      emit(group);
      group = [];
      bytes = 0;
    }
    group.push(line);
    bytes += size;
  }
  if (group.length > 0) emit(group);
  return out;
}

function unpackOrRefuse(bytes: Uint8Array, what: string): unknown {
  try {
    return unpack(bytes);
  } catch {
    throw new DecodeError('INVALID_FIELD', `${what} is not MessagePack`);
  }
}

function inflate(z: Uint8Array, expected: number): Buffer {
  let raw: Buffer;
  try {
    raw = inflateRawSync(z, { maxOutputLength: LOG_LIMITS.maxInflatedBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      throw new DecodeError(
        'TOO_LARGE',
        `z inflates past ${LOG_LIMITS.maxInflatedBytes} bytes (a zip bomb is refused)`,
      );
    throw new DecodeError('INVALID_FIELD', 'z is not raw deflate data');
  }
  if (raw.byteLength !== expected)
    throw new DecodeError('INVALID_FIELD', `z inflates to ${raw.byteLength} bytes, u says ${expected}`);
  return raw;
}

function decodeLine(value: unknown, i: number, time: number): LogLine {
  if (!Array.isArray(value) || value.length !== 4)
    throw new DecodeError(
      'INVALID_FIELD',
      `line ${i} must be [dt, level, source, msg], got ${describe(value)}`,
    );
  const [dt, lvl, source, msg] = value as unknown[];
  const at = time + intIn(dt, INT_RANGE, `line ${i} dt`);
  if (at < TIMESTAMP_RANGE.min || at > TIMESTAMP_RANGE.max)
    throw new DecodeError(
      'INVALID_FIELD',
      `line ${i} time ${at} is outside ${TIMESTAMP_RANGE.min}..${TIMESTAMP_RANGE.max}`,
    );
  const level = LOG_LINE_LEVELS[intIn(lvl, { min: 0, max: LOG_LINE_LEVELS.length - 1 }, `line ${i} level`)]!;
  if (!isLogSource(source))
    throw new DecodeError(
      'INVALID_FIELD',
      `line ${i} source must be 1–64 of [A-Za-z0-9_.-], got ${describe(source)}`,
    );
  const size =
    typeof msg === 'string' ? Buffer.byteLength(msg) : msg instanceof Uint8Array ? msg.byteLength : -1;
  if (size < 0)
    throw new DecodeError('INVALID_FIELD', `line ${i} msg must be a string or bytes, got ${describe(msg)}`);
  if (size > LOG_LIMITS.maxLineBytes + 64)
    throw new DecodeError('TOO_LARGE', `line ${i} msg is ${size} bytes, limit ${LOG_LIMITS.maxLineBytes}`);
  return { time: at, level, source, msg: msg as string | Uint8Array };
}

/** Decodes one `log` message; throws DecodeError (TOO_LARGE, BAD_HEADER, INVALID_FIELD) and nothing else. */
export function decodeLogBatch(bytes: Uint8Array): LogBatch {
  if (bytes.byteLength > LOG_LIMITS.maxMessageBytes)
    throw new DecodeError(
      'TOO_LARGE',
      `log message of ${bytes.byteLength} bytes, limit ${LOG_LIMITS.maxMessageBytes}`,
    );
  if (bytes.byteLength < 2) throw new DecodeError('BAD_HEADER', 'log message shorter than 2 bytes');
  if (bytes[0]! >> 4 !== PROTOCOL_VERSION)
    throw new DecodeError(
      'BAD_HEADER',
      `protocol version ${bytes[0]! >> 4}, this hub speaks ${PROTOCOL_VERSION}`,
    );
  if (bytes[0] !== HEADER)
    throw new DecodeError('BAD_HEADER', `kind ${bytes[0]! & 0x0f} is not log (${UplinkKind.log})`);
  const b = unpackOrRefuse(bytes.subarray(1), 'body');
  if (typeof b !== 'object' || b === null || Object.getPrototypeOf(b) !== Object.prototype)
    throw new DecodeError('INVALID_FIELD', `body is not a map but ${describe(b)}`);
  const { t, c, n, u, z } = b as Record<string, unknown>;
  const time = intIn(t, TIMESTAMP_RANGE, 't (batch time)');
  if (c !== CODEC_DEFLATE_RAW)
    throw new DecodeError('INVALID_FIELD', `c (codec) must be ${CODEC_DEFLATE_RAW}, got ${describe(c)}`);
  const count = intIn(n, { min: 1, max: LOG_LIMITS.maxLines }, 'n (lines)');
  const size = intIn(u, INT_RANGE, 'u (bytes before compression)');
  if (size > LOG_LIMITS.maxInflatedBytes)
    throw new DecodeError(
      'TOO_LARGE',
      `u says ${size} bytes before compression, limit ${LOG_LIMITS.maxInflatedBytes}`,
    );
  if (!(z instanceof Uint8Array))
    throw new DecodeError('INVALID_FIELD', `z must be bytes, got ${describe(z)}`);
  const lines = unpackOrRefuse(inflate(z, size), 'z (lines)');
  if (!Array.isArray(lines) || lines.length !== count)
    throw new DecodeError('INVALID_FIELD', `z must hold n = ${count} lines, got ${describe(lines)}`);
  return { time, lines: lines.map((line, i) => decodeLine(line, i, time)) };
}
