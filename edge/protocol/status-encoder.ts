/**
 * The agent's status diet: from a full reading every second to what the hub needs — event fields
 * whenever they change, measured values when they move past a deadband, and a full snapshot
 * (counters included) every `snapshotMs`.
 */
import { STATUS_EVENT_FIELDS, type Status } from './normalized.ts';

/** How far a measured value may drift from the last one sent before it is sent again. */
export const DEFAULT_DEADBANDS: Readonly<Partial<Record<keyof Status, number>>> = {
  speed: 0.3,
  load: 10,
  temperature: 1,
  motorAmps: 2,
  levelingMm: 5,
  positionMm: 1500,
  signalDbm: 6,
};

const COUNTERS = new Set<keyof Status>(['runCount', 'runSeconds', 'doorOpenCount']);

export interface StatusUpdate {
  readonly snapshot: boolean;
  readonly status: Partial<Status>;
}

export class StatusEncoder {
  readonly snapshotMs: number;
  readonly #deadbands: Readonly<Partial<Record<keyof Status, number>>>;
  #sent: Status | undefined;
  #lastSnapshot = Number.NEGATIVE_INFINITY;

  constructor(
    options: { snapshotMs?: number; deadbands?: Readonly<Partial<Record<keyof Status, number>>> } = {},
  ) {
    const { snapshotMs = 60_000, deadbands = DEFAULT_DEADBANDS } = options;
    if (!(snapshotMs >= 1000))
      throw new RangeError(`Cannot create status encoder: snapshotMs must be ≥ 1000, got ${snapshotMs}`);
    this.snapshotMs = snapshotMs;
    this.#deadbands = deadbands;
  }

  /** What to send for this reading, or undefined when nothing worth sending changed. */
  next(reading: Status, now: number): StatusUpdate | undefined {
    if (this.#sent === undefined || now - this.#lastSnapshot >= this.snapshotMs) {
      this.#sent = { ...reading };
      this.#lastSnapshot = now;
      return { snapshot: true, status: { ...reading } };
    }
    const sent = this.#sent;
    const changes: Partial<Status> = {};
    let changed = false;
    for (const key of Object.keys(reading) as (keyof Status)[]) {
      if (COUNTERS.has(key)) continue;
      const value = reading[key];
      const band = this.#deadbands[key];
      const moved =
        band === undefined || (STATUS_EVENT_FIELDS as readonly string[]).includes(key)
          ? value !== sent[key]
          : Math.abs((value as number) - (sent[key] as number)) >= band;
      if (moved) {
        (changes as Record<string, unknown>)[key] = value;
        (sent as unknown as Record<string, unknown>)[key] = value;
        changed = true;
      }
    }
    return changed ? { snapshot: false, status: changes } : undefined;
  }
}
