/**
 * Actors the test suite and benchmarks run on real hub nodes (loaded with --actors-module).
 */
import { fileURLToPath } from 'node:url';
import { type ActorContext, defineActor } from '../define.ts';
import { TerminalError } from '../errors.ts';

export interface CounterState {
  readonly count: number;
  readonly lastSeq: number;
  /** Messages that arrived with a seq other than lastSeq + 1 (order broken or message lost). */
  readonly outOfOrder: number;
  /** Messages whose seq was already applied (double application). */
  readonly duplicates: number;
  readonly handledBy: readonly string[];
}

function add(state: CounterState, payload: { seq: number }, ctx: ActorContext): CounterState {
  const seq = payload.seq;
  const handledBy = state.handledBy.includes(process.pid.toString())
    ? state.handledBy
    : [...state.handledBy, process.pid.toString()];
  if (seq <= state.lastSeq) return { ...state, duplicates: state.duplicates + 1, handledBy };
  void ctx;
  return {
    count: state.count + 1,
    lastSeq: seq,
    outOfOrder: state.outOfOrder + (seq === state.lastSeq + 1 ? 0 : 1),
    duplicates: state.duplicates,
    handledBy,
  };
}

export const counterActor = defineActor({
  type: 'counter',
  initialState: (): CounterState => ({ count: 0, lastSeq: 0, outOfOrder: 0, duplicates: 0, handledBy: [] }),
  handlers: {
    add,
    /** Like add, but takes `ms` to finish (to catch a node mid-turn). */
    async slowAdd(state: CounterState, payload: { seq: number; ms: number }, ctx: ActorContext) {
      ctx.log.info({ seq: payload.seq }, 'slowAdd started');
      await new Promise((resolve) => setTimeout(resolve, payload.ms));
      return add(state, payload, ctx);
    },
    /** Fails every time unless `ok` is true. */
    /** Kills the hub process that handles it: a message that takes nodes down with it. */
    crash(state: CounterState): CounterState {
      process.kill(process.pid, 'SIGKILL');
      return state;
    },
    flaky(
      state: CounterState,
      payload: { seq: number; ok?: boolean; terminal?: boolean },
      ctx: ActorContext,
    ) {
      if (payload.terminal) throw new TerminalError('refused for good');
      if (!payload.ok) throw new Error('poisoned payload');
      return add(state, payload, ctx);
    },
    /**
     * Asynchronous, and fails its first `failures` attempts (counted per message id), or for good
     * when `terminal`; emits `counter.later` with the attempt that succeeded.
     */
    async laterFlaky(
      state: CounterState,
      payload: { seq: number; failures?: number; terminal?: boolean },
      ctx: ActorContext,
    ) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const attempt = (laterAttempts.get(ctx.messageId) ?? 0) + 1;
      laterAttempts.set(ctx.messageId, attempt);
      if (payload.terminal) throw new TerminalError('refused for good, later');
      if (attempt <= (payload.failures ?? 0)) throw new Error(`attempt ${attempt} failed`);
      ctx.emit({ type: 'counter.later', seq: payload.seq, attempt });
      return add(state, payload, ctx);
    },
  },
});

/** laterFlaky's attempts so far, by message id (in the process that handles them). */
const laterAttempts = new Map<string, number>();

export interface AlarmClockState {
  readonly armed: number;
  readonly rang: number;
  readonly rangAt: number | null;
  readonly armedBy: number | null;
}

export const alarmClockActor = defineActor({
  type: 'clock',
  initialState: (): AlarmClockState => ({ armed: 0, rang: 0, rangAt: null, armedBy: null }),
  handlers: {
    arm(state: AlarmClockState, payload: { delayMs: number }, ctx: ActorContext): AlarmClockState {
      ctx.setTimer('ring', payload.delayMs, { armedAt: ctx.now });
      return { ...state, armed: state.armed + 1, armedBy: process.pid };
    },
    disarm(state: AlarmClockState, _payload: unknown, ctx: ActorContext): AlarmClockState {
      ctx.cancelTimer('ring');
      return state;
    },
  },
  timers: {
    ring(state: AlarmClockState, _data: unknown, ctx: ActorContext): AlarmClockState {
      return { ...state, rang: state.rang + 1, rangAt: ctx.now };
    },
  },
});

export const actors = [counterActor, alarmClockActor];

/** This module's path, for `devicehub node --actors-module`. */
export const TEST_ACTORS_MODULE = fileURLToPath(import.meta.url);
