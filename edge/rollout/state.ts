/**
 * The rollout actor's state, and the summary of it the API shows and the outbox events carry.
 * Members are compact records (members.ts); the counts are computed from them when needed.
 */
import { countByWave, type MemberRecord, type WaveCounts } from './members.ts';
import type { CheckedSpec, HealthEventKind, RolloutStatus } from './spec.ts';

/** Events and exposure (edge-ms) of one side of the health comparison. */
export interface HealthSide {
  events: number;
  exposureMs: number;
  /** Edges on this side now (exposure grows by this many edge-ms per ms). */
  edges: number;
  byKind: Partial<Record<HealthEventKind, number>>;
}

export interface HealthTally {
  readonly updated: HealthSide;
  readonly control: HealthSide;
  /** When the exposures were last brought up to date (ms). */
  readonly at: number;
}

export interface RolloutState {
  /** Empty before `create`. */
  readonly id: string;
  readonly spec: CheckedSpec | null;
  readonly status: RolloutStatus;
  /** Why it is paused, aborted or rolled back. */
  readonly reason?: string;
  readonly createdAt: number;
  readonly by?: string;
  readonly updatedAt: number;
  /** The wave being admitted or held (index into spec.waves); `waves.length` once all are through. */
  readonly wave: number;
  /** When every member of the current wave had finished (its hold started); 0 before. */
  readonly waveDoneAt: number;
  /** IANA time zones of the members, referenced by index. */
  readonly zones: readonly string[];
  readonly members: Readonly<Record<string, MemberRecord>>;
  /** The rate limit's token bucket: admissions available and when it was filled. */
  readonly bucket: { readonly tokens: number; readonly at: number };
  /** Failures and finished edges at the last resume: the error threshold counts from there. */
  readonly errorBase: { readonly failed: number; readonly finished: number };
  readonly health: HealthTally;
  /** The health test's last outcome (shown while running, the reason when it paused). */
  readonly healthTest?: HealthVerdictSummary;
  /** Whether the tick timer is armed. */
  readonly ticking: boolean;
  /** The current wave's counts in the last `rollout.wave` progress event. */
  readonly lastProgress?: string;
}

export interface HealthVerdictSummary {
  readonly updatedEvents: number;
  readonly updatedHours: number;
  readonly controlEvents: number;
  readonly controlHours: number;
  readonly ratio: number;
  readonly pValue: number;
  readonly significant: boolean;
}

export function emptySide(): HealthSide {
  return { events: 0, exposureMs: 0, edges: 0, byKind: {} };
}

export function initialRolloutState(): RolloutState {
  return {
    id: '',
    spec: null,
    status: 'running',
    createdAt: 0,
    updatedAt: 0,
    wave: 0,
    waveDoneAt: 0,
    zones: [],
    members: {},
    bucket: { tokens: 0, at: 0 },
    errorBase: { failed: 0, finished: 0 },
    health: { updated: emptySide(), control: emptySide(), at: 0 },
    ticking: false,
  };
}

/** What the API shows and `rollout.state` carries. */
export interface RolloutSummary {
  readonly id: string;
  readonly status: RolloutStatus;
  readonly reason?: string;
  readonly wave: number;
  readonly waveName?: string;
  readonly members: number;
  readonly waves: readonly (WaveCounts & { readonly name: string })[];
  readonly health?: HealthVerdictSummary;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export function summarize(state: RolloutState): RolloutSummary {
  const waves = state.spec?.waves ?? [];
  const counts = countByWave(state.members, waves.length);
  return {
    id: state.id,
    status: state.status,
    ...(state.reason === undefined ? {} : { reason: state.reason }),
    wave: state.wave,
    ...(waves[state.wave] === undefined ? {} : { waveName: waves[state.wave]!.name }),
    members: Object.keys(state.members).length,
    waves: counts.map((c, i) => ({ name: waves[i]!.name, ...c })),
    ...(state.healthTest === undefined ? {} : { health: state.healthTest }),
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}
