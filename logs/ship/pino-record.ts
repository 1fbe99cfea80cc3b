/**
 * A pino JSON line as a LogRecord: level numbers become names (10 trace … 60 fatal; another
 * number the nearest name below it), `service`, `host`, `nodeId`, `edgeId` and `tunnelId` are
 * lifted, `msg` is normalised (normalizeLine), and every other field goes into `fields` — flat:
 * a nested object's fields as dotted names (`err.message`, `err.stack`), at most 4 levels down,
 * an array or deeper object as its JSON; string values normalised too (a stack becomes one line
 * with `\x0a` between its lines). `time` and `v` are pino's own and dropped as fields.
 */
import { type LogLevel, type LogRecord, normalizeLine } from '../mod.ts';

const LEVELS: readonly (readonly [number, LogLevel])[] = [
  [60, 'fatal'],
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [20, 'debug'],
  [10, 'trace'],
];

const LIFTED = new Set(['service', 'host', 'nodeId', 'edgeId', 'tunnelId']);
const SKIPPED = new Set(['time', 'level', 'msg', 'v']);
/** A field value's bound (a line's is 8 KiB; a stack trace may take most of that). */
const MAX_FIELD_BYTES = 4096;
const MAX_FIELDS = 64;
const MAX_DEPTH = 4;

/** The level name for a pino level number (or name). */
export function pinoLevel(level: unknown): LogLevel {
  if (typeof level === 'string') {
    const found = LEVELS.find(([, name]) => name === level);
    if (found) return found[1];
  }
  if (typeof level === 'number') for (const [n, name] of LEVELS) if (level >= n) return name;
  return 'info';
}

/**
 * The record of one pino line, or undefined when it is not a JSON object. `fallbackService`
 * is used when the line has no string `service`.
 */
export function pinoLineToRecord(line: string, fallbackService = 'unknown'): LogRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  const record: LogRecord = {
    time: typeof o.time === 'number' && Number.isFinite(o.time) ? o.time : Date.now(),
    level: pinoLevel(o.level),
    msg: normalizeLine(typeof o.msg === 'string' ? o.msg : o.msg === undefined ? '' : String(o.msg)),
    service: typeof o.service === 'string' && o.service !== '' ? o.service : fallbackService,
  };
  for (const key of LIFTED) {
    const v = o[key];
    if (key !== 'service' && (typeof v === 'string' || typeof v === 'number'))
      (record as unknown as Record<string, string>)[key] = normalizeLine(String(v), 256);
  }
  const fields: Record<string, string | number | boolean> = {};
  let count = 0;
  const add = (name: string, value: unknown, depth: number): void => {
    if (count >= MAX_FIELDS || value === undefined || value === null) return;
    if (typeof value === 'number' || typeof value === 'boolean') {
      fields[name] = value;
      count++;
    } else if (typeof value === 'string') {
      fields[name] = normalizeLine(value, MAX_FIELD_BYTES);
      count++;
    } else if (typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH) {
      for (const [k, v] of Object.entries(value)) add(`${name}.${k}`, v, depth + 1);
    } else {
      fields[name] = normalizeLine(JSON.stringify(value) ?? String(value), MAX_FIELD_BYTES);
      count++;
    }
  };
  for (const [key, value] of Object.entries(o)) {
    if (SKIPPED.has(key) || LIFTED.has(key)) continue;
    add(key, value, 1);
  }
  if (count > 0) record.fields = fields;
  return record;
}
