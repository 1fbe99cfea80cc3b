/**
 * A rollout as the API shows it: the definition the database keeps, with the live state its
 * actor checkpointed (read through the actors' read-state): the waves with their progress, the
 * health comparison's numbers, the counts. Before the actor's first checkpoint: the definition
 * with zero counts and `live: false`.
 */
import { readActorState } from '../../actors/mod.ts';
import type { Bus } from '../../bus/mod.ts';
import { type HealthSide, type RolloutState, summarize } from '../../edge/rollout/mod.ts';
import { rolloutAddress } from './members-send.ts';
import type { RolloutView } from './schemas.ts';
import type { RolloutRow } from './store.ts';

const HOUR = 3_600_000;

export async function readRolloutState(bus: Bus, id: string): Promise<RolloutState | undefined> {
  const persisted = await readActorState<RolloutState>(bus, rolloutAddress(id));
  return persisted?.state.spec ? persisted.state : undefined;
}

export function rolloutView(row: RolloutRow, state: RolloutState | undefined): RolloutView {
  const request = row.request as {
    target?: unknown;
    waves?: {
      name: string;
      percent?: number;
      buildings?: string[];
      successPercent?: number;
      holdSeconds?: number;
    }[];
  };
  const summary = state === undefined ? undefined : summarize(state);
  const specWaves = state?.spec?.waves ?? [];
  const requested = request.waves ?? [];
  const waves = requested.map((w, i) => {
    const counts = summary?.waves[i] ?? {
      members: 0,
      pending: 0,
      inFlight: 0,
      healthy: 0,
      failed: 0,
      reverted: 0,
    };
    const spec = specWaves[i];
    return {
      index: i,
      name: w.name,
      state: waveState(state, i),
      successPercent: spec?.successPercent ?? w.successPercent ?? 95,
      holdSeconds: spec === undefined ? (w.holdSeconds ?? 0) : spec.holdMs / 1000,
      percent: w.percent ?? null,
      buildings: w.buildings ?? null,
      ...counts,
    };
  });
  const total = { members: 0, pending: 0, inFlight: 0, healthy: 0, failed: 0, reverted: 0 };
  for (const w of waves) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += w[k];
  const test = state?.healthTest;
  return {
    id: row.id,
    name: row.name,
    status: state?.status ?? row.status,
    reason: state?.reason ?? null,
    filter: row.filter,
    target: request.target ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    members: summary?.members ?? row.members,
    currentWave: state === undefined ? null : state.wave < waves.length ? state.wave : null,
    counts: summary === undefined ? { ...total, members: row.members, pending: row.members } : total,
    waves,
    health: {
      updated: side(state?.health.updated),
      notUpdated: side(state?.health.control),
      ratio: test?.ratio ?? null,
      pValue: test?.pValue ?? null,
      alpha: state?.spec?.health?.alpha ?? 0.01,
      significant: test?.significant ?? false,
    },
    live: state !== undefined,
  };
}

function waveState(state: RolloutState | undefined, i: number): string {
  if (state === undefined || i > state.wave) return 'waiting';
  if (i < state.wave) return 'passed';
  return state.waveDoneAt > 0 ? 'holding' : 'running';
}

function side(s: HealthSide | undefined) {
  const edgeHours = (s?.exposureMs ?? 0) / HOUR;
  const events = s?.events ?? 0;
  return { edges: s?.edges ?? 0, events, edgeHours, rate: edgeHours > 0 ? events / edgeHours : null };
}
