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

/** How a field is compared, per field: a counter (left to snapshots), on any change, past a band. */
const COUNTER = -1;
const ON_CHANGE = -2;

/** A field's rule: COUNTER, ON_CHANGE or its deadband (≥ 0); a field it does not name: ON_CHANGE. */
function rulesOf(deadbands: Readonly<Partial<Record<keyof Status, number>>>): Map<string, number> {
  const rules = new Map<string, number>();
  for (const [key, band] of Object.entries(deadbands)) if (band !== undefined) rules.set(key, band);
  for (const key of STATUS_EVENT_FIELDS) rules.set(key, ON_CHANGE);
  for (const key of COUNTERS) rules.set(key, COUNTER);
  return rules;
}

export interface StatusUpdate {
  readonly snapshot: boolean;
  readonly status: Partial<Status>;
}

export class StatusEncoder {
  readonly snapshotMs: number;
  readonly #phaseMs: number;
  /** Per field, decided once here rather than for every field of every reading. */
  readonly #rules: Map<string, number>;
  #sent: Status | undefined;
  #lastSnapshot = Number.NEGATIVE_INFINITY;

  constructor(
    options: {
      snapshotMs?: number;
      deadbands?: Readonly<Partial<Record<keyof Status, number>>>;
      /**
       * The periodic snapshots come this much sooner after the first one (0 ≤ phaseMs <
       * snapshotMs; default 0). A fleet's agents booted at different times, so their snapshots
       * are spread over the period; simulated edges whose days all start in one second get the
       * same spread from a phase each.
       */
      phaseMs?: number;
    } = {},
  ) {
    const { snapshotMs = 60_000, deadbands = DEFAULT_DEADBANDS, phaseMs = 0 } = options;
    if (!(snapshotMs >= 1000))
      throw new RangeError(`Cannot create status encoder: snapshotMs must be ≥ 1000, got ${snapshotMs}`);
    if (!(phaseMs >= 0 && phaseMs < snapshotMs))
      throw new RangeError(
        `Cannot create status encoder: phaseMs must be in [0, ${snapshotMs}), got ${phaseMs}`,
      );
    this.snapshotMs = snapshotMs;
    this.#phaseMs = phaseMs;
    this.#rules = rulesOf(deadbands);
  }

  /** What to send for this reading, or undefined when nothing worth sending changed. */
  next(reading: Status, now: number): StatusUpdate | undefined {
    if (this.#sent === undefined || now - this.#lastSnapshot >= this.snapshotMs) {
      this.#lastSnapshot = this.#sent === undefined ? now - this.#phaseMs : now;
      this.#sent = { ...reading };
      return { snapshot: true, status: { ...reading } };
    }
    const sent = this.#sent;
    const changes: Partial<Status> = {};
    let changed = false;
    const rules = this.#rules;
    for (const key in reading) {
      const rule = rules.get(key) ?? ON_CHANGE;
      if (rule === COUNTER) continue;
      const value = reading[key as keyof Status];
      const last = sent[key as keyof Status];
      const moved =
        rule === ON_CHANGE ? value !== last : Math.abs((value as number) - (last as number)) >= rule;
      if (moved) {
        (changes as Record<string, unknown>)[key] = value;
        (sent as unknown as Record<string, unknown>)[key] = value;
        changed = true;
      }
    }
    return changed ? { snapshot: false, status: changes } : undefined;
  }
}
