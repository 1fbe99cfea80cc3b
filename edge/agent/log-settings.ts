/**
 * What the edge configuration's `logs` says (gateway/routes/config-documents.ts checks it), with
 * the agent's defaults, the level in force at a given time (an `override` until its `until`, then
 * the configured level again, by itself), and the level a line of text carries.
 */
import { LOG_LINE_LEVELS, type LogLineLevel } from '../protocol/mod.ts';

/** The `logs` part of the edge configuration (every field optional: scopes merge). */
export interface EdgeLogsConfig {
  readonly level?: LogLineLevel;
  readonly files?: readonly { readonly path: string; readonly source: string }[];
  readonly linesPerSecond?: number;
  readonly bytesPerDay?: number;
  readonly override?: { readonly level: LogLineLevel; readonly until: string };
}

/** The agent's defaults: info and worse, its own lines only, 10 lines/s, 20 MiB a day. */
export const LOG_DEFAULTS = {
  level: 'info',
  linesPerSecond: 10,
  bytesPerDay: 20 * 1024 * 1024,
} as const satisfies Required<Pick<EdgeLogsConfig, 'level' | 'linesPerSecond' | 'bytesPerDay'>>;

/** The level lines must have to be shipped at `now`: the override's until its `until`, else the configured one. */
export function levelAt(config: EdgeLogsConfig | undefined, now: number): LogLineLevel {
  const override = config?.override;
  if (override !== undefined && isLevel(override.level) && Date.parse(override.until) > now)
    return override.level;
  return isLevel(config?.level) ? config.level : LOG_DEFAULTS.level;
}

function isLevel(value: unknown): value is LogLineLevel {
  return typeof value === 'string' && (LOG_LINE_LEVELS as readonly string[]).includes(value);
}

/** Whether a line of `level` is shipped when `threshold` is in force. */
export function atLeast(level: LogLineLevel, threshold: LogLineLevel): boolean {
  return LOG_LINE_LEVELS.indexOf(level) >= LOG_LINE_LEVELS.indexOf(threshold);
}

const PINO_LEVELS: Record<number, LogLineLevel> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const WORDS: Record<string, LogLineLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  fatal: 'fatal',
  crit: 'fatal',
  critical: 'fatal',
  panic: 'fatal',
};
const WORD = /\b(trace|debug|info|notice|warn|warning|error|err|fatal|crit|critical|panic)\b/i;
const JSON_LEVEL = /"level"\s*:\s*(?:(\d{2})|"([a-z]+)")/i;
const GLOG = /^([IWEF])\d{4} /;
const GLOG_LEVELS: Record<string, LogLineLevel> = { I: 'info', W: 'warn', E: 'error', F: 'fatal' };

/**
 * The level a line names: a JSON line's `"level"` (pino's numbers or a name), a glog prefix
 * (`E0130 …`), or the first level word in its first 120 characters (`[WARN]`, `level=error`,
 * `ERROR:`); info when it names none.
 */
export function parseLevel(line: string): LogLineLevel {
  const head = line.slice(0, 120);
  const json = head.startsWith('{') ? JSON_LEVEL.exec(head) : null;
  if (json !== null) {
    const level = json[1] !== undefined ? PINO_LEVELS[Number(json[1])] : WORDS[json[2]!.toLowerCase()];
    if (level !== undefined) return level;
  }
  const glog = GLOG.exec(head);
  if (glog !== null) return GLOG_LEVELS[glog[1]!]!;
  const word = WORD.exec(head);
  return word === null ? 'info' : WORDS[word[1]!.toLowerCase()]!;
}
