/**
 * A LogRecord as a VictoriaLogs row and back. The row's fields: `_time` (ISO, ms), `_msg`,
 * `level`, `service`, `host`, `edgeId`, `nodeId`, `tunnelId`, `rid` (a random id, the page
 * tiebreak) and the record's other `fields` under their own names — one that would clash with
 * those (or start with `_`, VictoriaLogs' own) is kept as `fields.<name>` and read back as `<name>`.
 * VictoriaLogs keeps every value as a string: numbers and booleans of `fields` come back as strings.
 */
import { randomBytes } from 'node:crypto';
import { RID_FIELD } from './logsql.ts';
import { normalizeLine } from './normalize.ts';
import { isLogLevel, type LogRecord, LogStoreError } from './types.ts';

/** The fields of a LogRecord a row has under their own names. */
const OWN = ['level', 'service', 'host', 'edgeId', 'nodeId', 'tunnelId'] as const;
const RESERVED = new Set<string>([...OWN, RID_FIELD]);
const RENAMED_PREFIX = 'fields.';
const MAX_FIELDS = 100;
const MAX_ROW_BYTES = 128 * 1024;
const MAX_NAME_LENGTH = 128;

/** The stream fields (VictoriaLogs keeps and indexes lines per stream): see decision 036. */
export const STREAM_FIELDS = ['service', 'host', 'edgeId'] as const;

function isReserved(name: string): boolean {
  return RESERVED.has(name) || name.startsWith('_');
}

/** `count` random ids of 16 letters a–p (64 bits each). */
export function randomRids(count: number): string[] {
  const bytes = randomBytes(count * 8);
  const rids: string[] = [];
  for (let r = 0; r < count; r++) {
    let rid = '';
    for (let i = r * 8; i < r * 8 + 8; i++) {
      const b = bytes[i] as number;
      rid += String.fromCharCode(97 + (b >> 4), 97 + (b & 15));
    }
    rids.push(rid);
  }
  return rids;
}

/** The row of `record` as one JSON line; throws REJECTED for a record that is not one. */
export function toRow(record: LogRecord, rid: string, index: number): string {
  const bad = (what: string) => new LogStoreError('REJECTED', `record ${index}: ${what}`);
  if (!Number.isFinite(record.time)) throw bad('time is not a time (ms since the epoch)');
  if (!isLogLevel(record.level)) throw bad(`level ${JSON.stringify(record.level)} is not a level`);
  if (typeof record.service !== 'string' || record.service === '') throw bad('service is missing');
  const row: Record<string, string | number | boolean> = {
    _time: new Date(record.time).toISOString(),
    _msg: normalizeLine(typeof record.msg === 'string' ? record.msg : String(record.msg)),
  };
  for (const name of OWN) {
    const value = record[name];
    if (value !== undefined && value !== '') row[name] = value;
  }
  row[RID_FIELD] = rid;
  // Bounded well below VictoriaLogs' -insert.maxLineSizeBytes (256 KiB; a longer line is skipped
  // whole) and its fields per line: what does not fit is left out and counted in `fields.dropped`.
  let bytes = Buffer.byteLength(row._msg as string) + 256;
  let kept = 0;
  let dropped = 0;
  for (const [name, value] of Object.entries(record.fields ?? {})) {
    if (value === undefined || value === null) continue;
    const text = typeof value === 'string' ? normalizeLine(value) : value;
    const size = name.length + (typeof text === 'string' ? Buffer.byteLength(text) : 24) + 8;
    if (kept >= MAX_FIELDS || bytes + size > MAX_ROW_BYTES || name.length > MAX_NAME_LENGTH) {
      dropped++;
      continue;
    }
    row[isReserved(name) ? `${RENAMED_PREFIX}${name}` : name] = text;
    bytes += size;
    kept++;
  }
  if (dropped > 0) row[`${RENAMED_PREFIX}dropped`] = dropped;
  return JSON.stringify(row);
}

/** The row VictoriaLogs returned (one JSON line) as a record, and its cursor parts. */
export function fromRow(line: string): { record: LogRecord; time: string; rid: string } {
  const row = JSON.parse(line) as Record<string, string>;
  const time = row._time ?? '';
  const record: LogRecord = {
    time: Date.parse(time),
    level: isLogLevel(row.level) ? row.level : 'info',
    msg: row._msg ?? '',
    service: row.service ?? '',
  };
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(row)) {
    if (name === 'level' || name === 'service' || name === RID_FIELD || name.startsWith('_')) continue;
    if (name === 'host' || name === 'edgeId' || name === 'nodeId' || name === 'tunnelId') {
      record[name] = value;
    } else if (name.startsWith(RENAMED_PREFIX) && isReserved(name.slice(RENAMED_PREFIX.length))) {
      fields[name.slice(RENAMED_PREFIX.length)] = value;
    } else {
      fields[name] = value;
    }
  }
  if (Object.keys(fields).length > 0) record.fields = fields;
  return { record, time, rid: row[RID_FIELD] ?? '' };
}
