/**
 * The rollout actor (`rollout/<id>`): a rollout's durable state, so it goes on after the gateway
 * or the hub node holding it dies. Its messages come from the gateway (create, join, pause,
 * resume, abort, rollback) and from its members' edge actors (edgeState, health) as mail, which
 * is at least once: every handler here is idempotent (a repeated create or join adds nothing, a
 * repeated or older report moves nothing, an operator action in the state it asks for is a
 * no-op). The waves advance in the `tick` timer (tick.ts).
 */
import { type ActorContext, defineActor, TerminalError } from '../../actors/mod.ts';
import { isValidEdgeId } from '../protocol/mod.ts';
import { assign, ENROLMENT_MS, enrol, sinceOf } from './assign.ts';
import { advance, moved, recorded, restarted, sideOf } from './health.ts';
import { afterReport, isFinished, M, type MemberRecord } from './members.ts';
import {
  type CheckedSpec,
  type CreateRollout,
  checkSpec,
  type EdgeStateMessage,
  HEALTH_EVENT_KINDS,
  type HealthMessage,
  type JoinRollout,
  type OperatorAction,
  ROLLOUT_ID,
  type RolloutMember,
  RolloutSpecError,
} from './spec.ts';
import { initialRolloutState, type RolloutState } from './state.ts';
import { changeStatus, tick } from './tick.ts';
import { tally, waveOf } from './waves.ts';
import { isTimeZone } from './windows.ts';

/** Most members one create or join may carry (the mailbox's 64 KiB limits it first). */
export const MAX_MEMBERS_PER_MESSAGE = 2000;

function created(state: RolloutState, what: string): CheckedSpec {
  if (state.spec === null) throw new TerminalError(`${what}: rollout not created`, { code: 'NO_ROLLOUT' });
  return state.spec;
}

/** Adds the members not there yet (checked first, all or none), enrols them and starts the tick. */
function addMembers(
  state: RolloutState,
  list: readonly RolloutMember[] | undefined,
  ctx: ActorContext,
): RolloutState {
  const spec = state.spec!;
  if (list === undefined || list.length === 0) return state;
  if (!Array.isArray(list) || list.length > MAX_MEMBERS_PER_MESSAGE)
    throw new TerminalError(`members must be an array of at most ${MAX_MEMBERS_PER_MESSAGE}`);
  for (const m of list) {
    if (!isValidEdgeId(m?.edgeId))
      throw new TerminalError(`invalid member edgeId ${JSON.stringify(m?.edgeId)}`);
    if (m.timeZone !== undefined && !isTimeZone(m.timeZone))
      throw new TerminalError(`member ${m.edgeId}: unknown time zone ${JSON.stringify(m.timeZone)}`);
  }
  const fresh = list.filter((m) => state.members[m.edgeId] === undefined);
  if (fresh.length === 0) return ensureTicking(state, ctx);
  // In place: every check is done above, and copying 50,000 records per batch of 500 costs more than the batch.
  const members = state.members as Record<string, MemberRecord>;
  const zones = [...state.zones];
  let health = advance(state.health, ctx.now);
  const last = spec.waves.length - 1;
  const nowS = sinceOf(state.createdAt, ctx.now);
  for (const m of fresh) {
    const zone = m.timeZone ?? 'UTC';
    let z = zones.indexOf(zone);
    if (z < 0) z = zones.push(zone) - 1;
    // A member that joins late goes into the current wave or a later one.
    const wave = Math.min(last, Math.max(waveOf(spec.waves, ctx.id, m), state.wave));
    const delivery = (m.delivery ?? spec.delivery) === 'pull' ? 1 : 0;
    members[m.edgeId] = [wave, M.pending, 0, nowS, z, delivery];
    health = moved(health, undefined, M.pending);
    enrol(ctx, m.edgeId, ctx.now + ENROLMENT_MS);
  }
  let next: RolloutState = { ...state, members, zones, health, updatedAt: ctx.now };
  if (next.status === 'completed') {
    next = changeStatus({ ...next, wave: last, waveDoneAt: 0 }, ctx, 'running');
  }
  return ensureTicking(next, ctx);
}

function ensureTicking(state: RolloutState, ctx: ActorContext): RolloutState {
  if (state.ticking || !['running', 'paused', 'rolling_back'].includes(state.status)) return state;
  ctx.setTimer('tick', 0);
  return { ...state, ticking: true };
}

export const rolloutActor = defineActor({
  type: 'rollout',
  initialState: initialRolloutState,
  logFields: (id) => ({ rollout: id }),
  handlers: {
    create(state: RolloutState, p: CreateRollout, ctx: ActorContext): RolloutState {
      if (!ROLLOUT_ID.test(ctx.id)) throw new TerminalError(`create: rollout id must match ${ROLLOUT_ID}`);
      if (state.spec !== null) return addMembers(state, p?.members, ctx);
      let spec: CheckedSpec;
      try {
        spec = checkSpec(p?.spec);
      } catch (error) {
        if (error instanceof RolloutSpecError)
          throw new TerminalError(`create: ${error.message}`, { code: error.code });
        throw error;
      }
      const base: RolloutState = {
        ...state,
        id: ctx.id,
        spec,
        createdAt: ctx.now,
        updatedAt: ctx.now,
        ...(p.by === undefined ? {} : { by: p.by }),
        health: { ...state.health, at: ctx.now },
        bucket: { tokens: 0, at: 0 },
      };
      const next = changeStatus(addMembers(base, p.members, ctx), ctx, 'running');
      ctx.emit({
        type: 'rollout.wave',
        rollout: ctx.id,
        wave: 0,
        name: spec.waves[0]!.name,
        phase: 'started',
      });
      return ensureTicking(next, ctx);
    },

    join(state: RolloutState, p: JoinRollout, ctx: ActorContext): RolloutState | undefined {
      created(state, 'join');
      if (state.status === 'aborted' || state.status === 'rolling_back' || state.status === 'rolled_back')
        return undefined;
      return addMembers(state, p?.members, ctx);
    },

    edgeState(state: RolloutState, p: EdgeStateMessage, ctx: ActorContext): RolloutState | undefined {
      created(state, 'edgeState');
      const r = state.members[p?.edgeId];
      if (r === undefined) {
        ctx.log.warn(
          { edgeId: p?.edgeId, state: p?.state },
          'report from an edge not in the rollout; ignored',
        );
        return undefined;
      }
      const to = afterReport(r[1], p.state);
      if (to === undefined) return undefined;
      const since = isFinished(to) || to === M.reverted ? sinceOf(state.createdAt, ctx.now) : r[3];
      const health = moved(advance(state.health, ctx.now), r[1], to);
      // The members table is replaced in place: a report is one record of 50,000, and nothing throws past here.
      (state.members as Record<string, MemberRecord>)[p.edgeId] = [r[0], to, r[2], since, r[4], r[5]];
      return { ...state, health, updatedAt: ctx.now };
    },

    health(state: RolloutState, p: HealthMessage, ctx: ActorContext): RolloutState | undefined {
      const spec = created(state, 'health');
      if (!(HEALTH_EVENT_KINDS as readonly string[]).includes(p?.event))
        throw new TerminalError(`health: event must be one of ${HEALTH_EVENT_KINDS.join(', ')}`);
      if (spec.health?.events !== undefined && !spec.health.events.includes(p.event)) return undefined;
      if (state.status !== 'running' && state.status !== 'paused') return undefined;
      const r = state.members[p.edgeId];
      const side = r === undefined ? undefined : sideOf(r[1]);
      if (side === undefined) return undefined;
      return { ...state, health: recorded(advance(state.health, ctx.now), side, p.event) };
    },

    pause(state: RolloutState, p: OperatorAction, ctx: ActorContext): RolloutState | undefined {
      created(state, 'pause');
      if (state.status !== 'running') return undefined;
      return changeStatus(
        state,
        ctx,
        'paused',
        `paused by ${p?.by ?? 'an operator'}${p?.reason ? `: ${p.reason}` : ''}`,
      );
    },

    resume(state: RolloutState, _p: OperatorAction, ctx: ActorContext): RolloutState | undefined {
      created(state, 'resume');
      if (state.status !== 'paused') return undefined;
      // The threshold and the health comparison count afresh from here.
      const { healthTest: _, ...rest } = state;
      const next = changeStatus(
        { ...rest, errorBase: tally(state.members), health: restarted(state.health, ctx.now) },
        ctx,
        'running',
      );
      return ensureTicking(next, ctx);
    },

    abort(state: RolloutState, p: OperatorAction, ctx: ActorContext): RolloutState | undefined {
      created(state, 'abort');
      if (state.status !== 'running' && state.status !== 'paused') return undefined;
      ctx.cancelTimer('tick');
      const next = changeStatus(
        state,
        ctx,
        'aborted',
        `aborted by ${p?.by ?? 'an operator'}${p?.reason ? `: ${p.reason}` : ''}`,
      );
      return { ...next, ticking: false };
    },

    rollback(state: RolloutState, p: OperatorAction, ctx: ActorContext): RolloutState | undefined {
      const spec = created(state, 'rollback');
      if (state.status === 'rolling_back' || state.status === 'rolled_back') return undefined;
      const members: Record<string, MemberRecord> = { ...state.members };
      let health = advance(state.health, ctx.now);
      const canGoBack = spec.target.kind === 'packages' || spec.target.previousVersion !== undefined;
      for (const id in members) {
        const r = members[id]!;
        // Edges that took (or may have taken) the update; failed and rolled back ones kept their slot.
        const touched = (r[1] >= M.assigned && r[1] <= M.healthy) || r[1] === M.timedOut;
        if (!touched || !canGoBack) continue;
        members[id] = assign(ctx, {
          spec,
          edgeId: id,
          record: r,
          attempt: r[2] + 1,
          createdAt: state.createdAt,
          rollback: true,
        });
        health = moved(health, r[1], M.rollbackSent);
      }
      const reason = `rolled back by ${p?.by ?? 'an operator'}${p?.reason ? `: ${p.reason}` : ''}`;
      const next = changeStatus({ ...state, members, health }, ctx, 'rolling_back', reason);
      return ensureTicking(next, ctx);
    },
  },
  timers: { tick },
});
