/**
 * The `clips` bench's alarms: a plan (a steady rate of alarms over the fleet plus a storm — a share
 * of the fleet raising an alarm within 10 s, as in an area's power cut), the same for every run of
 * a bench (seeded), and its sender: each alarm's start and end go to the edge's actor through the
 * bus (`alarm` messages, as a link would enqueue them), stamped with the send time.
 */

import { mulberry32 } from '../edge/mod.ts';

/** Alarm kinds that get a clip (the bench's clip policy) and ones that do not. */
export const CLIP_KINDS = ['trapped', 'door_open_moving', 'ebike'] as const;
export const OTHER_KINDS = ['smoke', 'overspeed'] as const;

export interface PlannedAlarm {
  readonly edge: number;
  readonly alarm: string;
  /** Offsets from the run's start (ms). */
  readonly startMs: number;
  readonly endMs: number;
  readonly storm: boolean;
}

export interface AlarmPlanOptions {
  readonly edges: number;
  /** Seconds during which alarms start (the steady rate; the storm falls inside). */
  readonly seconds: number;
  /** Steady alarms per second over the whole fleet. */
  readonly steadyPerSecond: number;
  /** Share of the fleet (%) whose alarm starts within `stormSpreadS` from `stormAtS`. */
  readonly stormPercent: number;
  readonly stormAtS: number;
  readonly stormSpreadS?: number;
  /** Seconds from the storm's last start until power is back and its alarms end (default 20). */
  readonly stormLastsS?: number;
  /** How long an alarm lasts: uniform in this range (s). */
  readonly lastsS?: readonly [number, number];
  readonly seed?: number;
}

/**
 * The alarms of a run, by start time. Storm alarms are `trapped` (a power cut strands
 * passengers), on distinct edges, and end together when the power is back; steady ones are spread evenly over the seconds, a fifth of them
 * of kinds that get no clip. No edge has two alarms of one kind open at once.
 */
export function planAlarms(o: AlarmPlanOptions): PlannedAlarm[] {
  const next = mulberry32(o.seed ?? 16);
  const [shortest, longest] = o.lastsS ?? [5, 15];
  const lasts = () => Math.round((shortest + next() * (longest - shortest)) * 1000);
  const spreadMs = (o.stormSpreadS ?? 10) * 1000;
  const alarms: PlannedAlarm[] = [];
  const busyUntil = new Map<string, number>();
  const place = (edge: number, alarm: string, startMs: number, storm: boolean) => {
    const key = `${edge}/${alarm}`;
    if ((busyUntil.get(key) ?? -1) >= startMs) return false;
    const endMs = startMs + lasts();
    busyUntil.set(key, endMs);
    alarms.push({ edge, alarm, startMs, endMs, storm });
    return true;
  };
  const stormEdges = Math.round((o.edges * o.stormPercent) / 100);
  const picked = new Set<number>();
  while (picked.size < Math.min(stormEdges, o.edges)) picked.add(Math.floor(next() * o.edges));
  // The power comes back `stormLastsS` after the cut's last alarm: the storm's alarms end within 5 s.
  const restoredMs = o.stormAtS * 1000 + spreadMs + (o.stormLastsS ?? 20) * 1000;
  for (const edge of picked) {
    const startMs = Math.round(o.stormAtS * 1000 + next() * spreadMs);
    busyUntil.set(`${edge}/trapped`, restoredMs + 5000);
    alarms.push({
      edge,
      alarm: 'trapped',
      startMs,
      endMs: Math.round(restoredMs + next() * 5000),
      storm: true,
    });
  }
  const steady = Math.floor(o.seconds * o.steadyPerSecond);
  for (let k = 0; k < steady; k++) {
    const startMs = Math.round(((k + next()) / o.steadyPerSecond) * 1000);
    const kinds = next() < 0.2 ? OTHER_KINDS : CLIP_KINDS;
    const alarm = kinds[Math.floor(next() * kinds.length)]!;
    // A busy edge (its alarm of this kind still open) passes the alarm to the next edge.
    for (let edge = Math.floor(next() * o.edges), tries = 0; tries < 10; tries++, edge = (edge + 1) % o.edges)
      if (place(edge, alarm, startMs, false)) break;
  }
  return alarms.sort((a, b) => a.startMs - b.startMs);
}

/** An alarm as sent: its start and end as the actor stamped them (ms, wall clock). */
export interface SentAlarm extends PlannedAlarm {
  readonly edgeId: string;
  sentStartAt?: number;
  sentEndAt?: number;
}

type AlarmMessage = { alarm: string; phase: 'start' | 'end'; ts: number };

/**
 * Sends the plan's starts and ends at their times (a timer per 50 ms slot); `done` resolves once
 * the last end is sent. `sent()` says how many messages went so far.
 */
export function sendAlarms(
  plan: readonly PlannedAlarm[],
  o: {
    edgeId: (i: number) => string;
    send: (edgeId: string, message: AlarmMessage) => Promise<unknown>;
    signal?: AbortSignal;
  },
) {
  const alarms: SentAlarm[] = plan.map((a) => ({ ...a, edgeId: o.edgeId(a.edge) }));
  const events = alarms
    .flatMap((a) => [
      { at: a.startMs, a, phase: 'start' as const },
      { at: a.endMs, a, phase: 'end' as const },
    ])
    .sort((x, y) => x.at - y.at);
  let sent = 0;
  const started = Date.now();
  const done = (async () => {
    let i = 0;
    while (i < events.length && o.signal?.aborted !== true) {
      const wait = started + events[i]!.at - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 50)));
      const due: Promise<unknown>[] = [];
      for (; i < events.length && started + events[i]!.at <= Date.now(); i++) {
        const { a, phase } = events[i]!;
        const ts = Date.now();
        if (phase === 'start') a.sentStartAt = ts;
        else a.sentEndAt = ts;
        due.push(o.send(a.edgeId, { alarm: a.alarm, phase, ts }).then(() => sent++));
      }
      await Promise.all(due);
    }
  })();
  return { alarms, started, done, sent: () => sent };
}
