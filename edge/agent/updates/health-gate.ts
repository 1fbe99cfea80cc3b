/**
 * The health gate after a slot switch: the new version counts as healthy once the agent is
 * connected with its downlink granted (its own heartbeat: commands can reach it) and every program
 * that must feed the local input — elenet or litefcccore when updated, and whichever fed it before
 * the switch — has handed it something since the switch. Checked every `pollMs` until the
 * deadline; no answer by then is HEALTH_TIMEOUT.
 */
import type { UpdateTarget } from '../../protocol/mod.ts';
import { UpdateError } from './errors.ts';
import { abortableDelay } from './spread.ts';

/** The programs on the box that feed the agent's local input. */
export const PROGRAMS = ['elenet', 'litefcccore'] as const;
export type Program = (typeof PROGRAMS)[number];

/** What the gate reads of the running agent. */
export interface HealthSignals {
  /** The broker connection is up and the downlink subscription granted. */
  readonly connected: boolean;
  /** When each program last handed the agent something (ms). */
  readonly lastInput: Readonly<Record<Program, number>>;
}

/** The programs alive now (fed within `withinMs`): they must feed again after the switch. */
export function feedingNow(s: HealthSignals, now: number, withinMs = 60_000): Program[] {
  return PROGRAMS.filter((p) => s.lastInput[p] > 0 && now - s.lastInput[p] < withinMs);
}

/** What the gate waits for, and whether it has it. */
export function healthyNow(
  s: HealthSignals,
  o: { targets: readonly UpdateTarget[]; feeding: readonly string[]; switchedAt: number },
): { healthy: boolean; waiting: string[] } {
  const programs = new Set<string>(o.feeding);
  for (const t of o.targets) if ((PROGRAMS as readonly string[]).includes(t.name)) programs.add(t.name);
  const waiting = [...programs].filter((p) => !(s.lastInput[p as Program] >= o.switchedAt));
  if (!s.connected) waiting.unshift('the broker (downlink)');
  return { healthy: waiting.length === 0, waiting };
}

/** Resolves once healthy; throws HEALTH_TIMEOUT at `deadline` (ms since the epoch). */
export async function healthGate(
  read: () => HealthSignals,
  o: {
    targets: readonly UpdateTarget[];
    feeding: readonly string[];
    switchedAt: number;
    deadline: number;
    signal: AbortSignal;
    pollMs?: number;
  },
): Promise<void> {
  for (;;) {
    const { healthy, waiting } = healthyNow(read(), o);
    if (healthy) return;
    const left = o.deadline - Date.now();
    if (left <= 0)
      throw new UpdateError(
        'HEALTH_TIMEOUT',
        `not healthy by the deadline; waiting for ${waiting.join(', ')}`,
      );
    o.signal.throwIfAborted();
    // An abort ends the wait; the next turn throws it. (abortableDelay removes its listener: the
    // agent's stop signal does not gather one per poll over a day-long gate.)
    await abortableDelay(Math.min(o.pollMs ?? 200, left), o.signal).catch(() => undefined);
  }
}
