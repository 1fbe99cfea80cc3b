/**
 * LogsQL (VictoriaLogs' query language) built from a LogQuery or a TailFilter, never from text
 * spliced in: every value a caller gives (edge id, service, words) goes in as a quoted string
 * literal (`quote`), so `text: 'x" OR *'` searches for those characters and nothing else.
 * Pages are keyset pages: newest first by (`_time`, `rid`), and the cursor is the last
 * (`_time`, `rid`) a page returned, so the next page starts right after it whatever was written
 * meanwhile (no gaps, no repeats; an offset would shift under new lines).
 */
import {
  isLogLevel,
  type LogQuery,
  LogStoreError,
  levelsAtLeast,
  MAX_QUERY_LIMIT,
  type TailFilter,
} from './types.ts';

/** The field each record gets with a random id (letters only: natural and plain order agree). */
export const RID_FIELD = 'rid';

/** A LogsQL string literal of `value` (JSON's escapes are a subset of the Go ones LogsQL reads). */
export function quote(value: string): string {
  return JSON.stringify(value.toWellFormed());
}

/** A page boundary: the `_time` (as VictoriaLogs wrote it) and `rid` of the last record. */
export interface Cursor {
  time: string;
  rid: string;
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const RID = /^[a-z]{1,64}$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.time, cursor.rid])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 2 ||
    typeof parsed[0] !== 'string' ||
    typeof parsed[1] !== 'string' ||
    !TIME.test(parsed[0]) ||
    !RID.test(parsed[1])
  ) {
    throw new LogStoreError('BAD_QUERY', 'cursor is not one this store returned');
  }
  return { time: parsed[0], rid: parsed[1] };
}

/**
 * `time` with all nine fraction digits. VictoriaLogs writes `_time` without trailing zeros
 * (`…:49Z`, `…:49.12Z`) and reads a time filter at the precision it is written in:
 * `_time:<=…:49Z` is everything up to the end of that second, so a cursor at a whole second (or
 * a whole 10 ms) would take the newer records of that second back in and pages would go round.
 */
export function fullPrecision(time: string): string {
  const dot = time.indexOf('.');
  const fraction = dot === -1 ? '' : time.slice(dot + 1, -1);
  return `${dot === -1 ? time.slice(0, -1) : time.slice(0, dot)}.${fraction.padEnd(9, '0')}Z`;
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The filters a tail and a query share, joined by AND (LogsQL's space). */
function commonFilters(filter: TailFilter): string[] {
  const parts: string[] = [];
  // edgeId and service are stream fields: a stream filter reads only the matching streams.
  const stream: string[] = [];
  if (filter.service !== undefined) stream.push(`service=${quote(filter.service)}`);
  if (filter.edgeId !== undefined) stream.push(`edgeId=${quote(filter.edgeId)}`);
  if (stream.length > 0) parts.push(`{${stream.join(', ')}}`);
  if (filter.level !== undefined) {
    if (!isLogLevel(filter.level))
      throw new LogStoreError('BAD_QUERY', `level ${JSON.stringify(filter.level)} is not a level`);
    if (filter.level !== 'trace')
      parts.push(`level:in(${levelsAtLeast(filter.level).map(quote).join(', ')})`);
  }
  for (const word of (filter.text ?? '').split(/\s+/)) {
    // Each word, case-insensitively, as a phrase of the message (quoted: no operator, no wildcard).
    if (word !== '') parts.push(`_msg:i(${quote(word)})`);
  }
  return parts;
}

/** Checks a LogQuery (BAD_QUERY naming what is wrong). */
export function checkQuery(q: LogQuery): void {
  const bad = (message: string) => new LogStoreError('BAD_QUERY', message);
  if (!Number.isFinite(q.from) || !Number.isFinite(q.to))
    throw bad('from and to must be times (ms since the epoch)');
  if (q.from > q.to) throw bad('from is after to');
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_QUERY_LIMIT)
    throw bad(`limit must be a whole number from 1 to ${MAX_QUERY_LIMIT}`);
}

/**
 * The LogsQL of one page: the records of `q` (from and to inclusive) older than its cursor,
 * newest first, `limit + 1` of them (one more says whether there is a next page).
 */
export function pageQuery(q: LogQuery): string {
  checkQuery(q);
  const parts = [`_time:[${isoTime(q.from)}, ${isoTime(q.to)}]`, ...commonFilters(q)];
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    const time = fullPrecision(c.time);
    parts.push(`_time:<=${time}`, `(_time:<${time} OR ${RID_FIELD}:<${quote(c.rid)})`);
  }
  return `${parts.join(' ')} | sort by (_time desc, ${RID_FIELD} desc) limit ${q.limit + 1}`;
}

/** The LogsQL of a live tail (filters only: a tail may not sort or limit). */
export function tailQuery(filter: TailFilter): string {
  const parts = commonFilters(filter);
  return parts.length > 0 ? parts.join(' ') : '*';
}
