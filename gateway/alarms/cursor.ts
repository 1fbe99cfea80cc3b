/**
 * The alarm history's page cursor: opaque to clients, base64url of the last row's (recorded_at,
 * event id) — the order the history is read in (newest first, the partition key first, so the
 * next page also prunes the months after it). recorded_at is carried in microseconds, the
 * column's own precision: a millisecond would skip or repeat rows that share one.
 */

export interface AlarmCursor {
  /** The last row's `recorded_at`, µs since the epoch. */
  readonly recordedUs: number;
  readonly eventId: string;
}

/** Tells this cursor format from the (at ms, id) pairs handed out before it. */
const TAG = 'r';

export function encodeCursor(c: AlarmCursor): string {
  return Buffer.from(JSON.stringify([TAG, c.recordedUs, c.eventId])).toString('base64url');
}

/** The cursor `s` stands for, or undefined when it is not one this gateway handed out. */
export function decodeCursor(s: string): AlarmCursor | undefined {
  if (s.length > 400 || !/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3 || value[0] !== TAG) return undefined;
    const [, us, eventId] = value as unknown[];
    if (typeof us !== 'number' || !Number.isSafeInteger(us) || us < 0) return undefined;
    if (typeof eventId !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(eventId)) return undefined;
    return { recordedUs: us, eventId };
  } catch {
    return undefined;
  }
}

/** µs since the epoch as an exact timestamptz literal (ISO 8601 with six decimals, UTC). */
export function microsIso(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}
