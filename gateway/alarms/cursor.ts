/**
 * The alarm history's page cursor: opaque to clients, base64url of the last row's (at, eventId)
 * — the order the history is read in (newest first), so the next page starts strictly after it
 * whatever partition it lies in.
 */

export interface AlarmCursor {
  /** The last row's `at`, ms since the epoch. */
  readonly at: number;
  readonly eventId: string;
}

export function encodeCursor(c: AlarmCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.eventId])).toString('base64url');
}

/** The cursor `s` stands for, or undefined when it is not one this gateway handed out. */
export function decodeCursor(s: string): AlarmCursor | undefined {
  if (s.length > 400 || !/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, eventId] = value as unknown[];
    if (typeof at !== 'number' || !Number.isSafeInteger(at) || Math.abs(at) > 8.64e15) return undefined;
    if (typeof eventId !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(eventId)) return undefined;
    return { at, eventId };
  } catch {
    return undefined;
  }
}
