/**
 * The live streams (keys.ts `live`): latest-value events that actors `publish` (wall-screen
 * tiles), one entry per commit per tag group instead of one outbox entry per event — a reader
 * pays one stream entry for a commit's hundreds of tiles — kept LIVE_RETENTION_MS and then
 * trimmed, since a newer value replaces each. They never reach the web backend (that is the
 * outbox's), and nothing acknowledges them: readers tail the stream, and an entry's number `n`
 * (one more than the entry before it) tells a reader that fell behind the trim that it missed
 * some, so it can read the values again from the actors' checkpoints (decision 056).
 */
import type { ChainableCommander } from 'ioredis';
import type { Keyspace } from './keys.ts';
import type { Redis } from './redis.ts';
import { runScript } from './scripts.ts';

/** How long a live entry is kept (ms): a gateway stalled longer than this reads the states again. */
export const LIVE_RETENTION_MS = 2000;

/**
 * Appends `events` (JSON each) to tag group `group`'s live stream as one entry, as a commit does
 * (live.lua; for writers outside a turn, such as the screens benchmark's feed). `retentionMs`:
 * entries older than this are trimmed (default LIVE_RETENTION_MS, as commits do).
 */
export function appendLive(
  target: Redis | ChainableCommander,
  keyspace: Keyspace,
  group: number,
  events: readonly string[],
  retentionMs = LIVE_RETENTION_MS,
): Promise<unknown> {
  return runScript(target, 'live', [keyspace.live(group), keyspace.liveSeq(group)], [retentionMs, ...events]);
}

/** A live entry read back: its number and its events (each still to be checked by its reader). */
export interface LiveEntry {
  readonly n: number;
  readonly events: readonly unknown[];
}

const field = (fields: readonly string[], name: string): string | undefined => {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
};

/** A live entry's number (`n`) without parsing its events, or undefined when it has none. */
export function liveNumber(fields: readonly string[]): number | undefined {
  const n = Number(field(fields, 'n') ?? Number.NaN);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A live entry's events (`e`, a JSON array), or undefined when they are not what live.lua writes. */
export function liveEvents(fields: readonly string[]): readonly unknown[] | undefined {
  const raw = field(fields, 'e');
  if (raw === undefined) return undefined;
  try {
    const events: unknown = JSON.parse(raw);
    return Array.isArray(events) ? events : undefined;
  } catch {
    return undefined;
  }
}

/** A live stream entry's fields (`n`, `e`) read, or undefined when they are not what live.lua writes. */
export function parseLiveEntry(fields: readonly string[]): LiveEntry | undefined {
  const n = liveNumber(fields);
  const events = n === undefined ? undefined : liveEvents(fields);
  return events === undefined ? undefined : { n: n!, events };
}

/**
 * Follows one live stream's numbers: `see(n)` is false when entries between the last one seen and
 * `n` are gone (trimmed before they were read, or the stream started over after Redis lost it).
 */
export class LiveSequence {
  #last: number | undefined;

  /** Starts after entry `n` (the stream's newest when the reader began), or at the first entry seen. */
  constructor(n?: number) {
    this.#last = n;
  }

  see(n: number): boolean {
    const last = this.#last;
    this.#last = n;
    return last === undefined || n === last + 1;
  }
}
