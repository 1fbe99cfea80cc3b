/**
 * One simulated day of one elevator, second by second: the ground truth of the simulator and of
 * the diet benchmark: ~300 trips, door cycles, people, load; e-bike and blocked-door
 * sightings; two faults. Deterministic for a seed. Vision changes fall on 5-second boundaries,
 * when the legacy elenet reports.
 */
import type { Birth, Health, Status, Vision } from '../protocol/mod.ts';

export interface Second {
  readonly t: number;
  readonly status: Status;
  readonly vision: Vision;
  readonly peopleCount: number;
  readonly health: Health;
  /** Faults starting or ending this second. */
  readonly faults: readonly { alarm: string; phase: 'start' | 'end' }[];
}

export const DAY_SECONDS = 86_400;

export function birthOf(edgeId: string): Birth {
  return {
    model: 'RV1126-ELEV',
    firmware: '3.2.14',
    registrationCode: `3110${edgeId.replace(/\D/g, '').padStart(12, '0')}`,
    buildingId: 'B-0007',
    elevatorNo: 'A2',
    camera: { serial: cameraSerialOf(edgeId), channel: 1 },
  };
}

const SERIAL_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * A simulated edge's Ezviz camera serial: 9 characters [A-Z0-9] from the edge id's FNV-1a hash
 * (the shape the Ezviz stand-in knows), the same for the same edge every time.
 */
export function cameraSerialOf(edgeId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < edgeId.length; i++) h = Math.imul(h ^ edgeId.charCodeAt(i), 0x01000193) >>> 0;
  let serial = '';
  for (let i = 0; i < 9; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
    serial += SERIAL_CHARS[((h ^ (h >>> 15)) >>> 0) % SERIAL_CHARS.length];
  }
  return serial;
}

/** A small seeded generator (mulberry32): the same sequence for a seed in every run and process. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'door'; door: Status['door']; left: number; next: Phase }
  | { kind: 'run'; to: number; left: number };

/** Doors open (2 s), stay open `openSeconds`, close (3 s), then `next`. */
function doorCycle(openSeconds: number, next: Phase): Phase {
  const closing: Phase = { kind: 'door', door: 'closing', left: 3, next };
  const open: Phase = { kind: 'door', door: 'open', left: openSeconds, next: closing };
  return { kind: 'door', door: 'opening', left: 2, next: open };
}

/** The day's random draws, made before the first second: trip starts and event windows. */
interface DayPlan {
  /** Trip start times, ascending (a second is looked up once, in order: a cursor, not a set). */
  readonly starts: Int32Array;
  readonly ebike: readonly Window[];
  readonly blocked: readonly Window[];
  readonly faults: readonly { alarm: string; window: Window }[];
}

type Window = readonly [number, number];

function planDay(rand: () => number, trips: number): DayPlan {
  // Trip start times, denser in the day (07:00–22:00).
  const starts = new Set<number>();
  while (starts.size < trips) {
    const t = rand() < 0.85 ? 7 * 3600 + Math.floor(rand() * 15 * 3600) : Math.floor(rand() * DAY_SECONDS);
    starts.add(t - (t % 40));
  }
  const windows = (count: number, length: number): Window[] =>
    Array.from({ length: count }, () => {
      const start = Math.floor((rand() * (DAY_SECONDS - length)) / 5) * 5;
      return [start, start + length] as const;
    });
  const ebike = windows(4, 30);
  const blocked = windows(6, 15);
  const faults = [
    { alarm: 'trapped', window: windows(1, 300)[0]! },
    { alarm: 'overspeed', window: windows(1, 60)[0]! },
  ];
  return { starts: Int32Array.from(starts).sort(), ebike, blocked, faults };
}

/** The car: where it is, what it does, and the counters it reports. */
interface Car {
  floor: number;
  phase: Phase;
  people: number;
  target: number;
  runCount: number;
  runSeconds: number;
  doorOpenCount: number;
}

const FLOORS = 18;

/** Starts a trip when one is `due` this second and the car is idle. */
function maybeStartTrip(car: Car, due: boolean, rand: () => number): void {
  if (car.phase.kind !== 'idle' || !due) return;
  car.target = 1 + Math.floor(rand() * FLOORS);
  if (car.target === car.floor) car.target = car.floor === 1 ? 2 : 1;
  car.people = 1 + Math.floor(rand() * 4);
  car.doorOpenCount++;
  car.phase = doorCycle(6, { kind: 'run', to: car.target, left: 2 });
}

function statusOf(car: Car, t: number): Status {
  const running = car.phase.kind === 'run';
  const door: Status['door'] = car.phase.kind === 'door' ? car.phase.door : 'closed';
  return {
    running,
    floor: car.floor,
    door,
    direction: running ? (car.target > car.floor ? 'up' : 'down') : 'idle',
    hasPerson: car.people > 0,
    brakeEngaged: !running,
    safetyCircuitClosed: door === 'closed',
    maintenance: false,
    faultCode: 0,
    speed: running ? 1.5 : 0,
    load: car.people * 9,
    temperature: Math.round((24 + 2 * Math.sin((2 * Math.PI * t) / DAY_SECONDS)) * 10) / 10,
    motorAmps: running ? 12.4 : 0.5,
    levelingMm: 3,
    positionMm: (car.floor - 1) * 3000,
    signalDbm: -67 - (Math.floor(t / 3600) % 3) * 4,
    runCount: car.runCount,
    runSeconds: car.runSeconds,
    doorOpenCount: car.doorOpenCount,
  };
}

function inWindow(windows: readonly Window[], t: number): boolean {
  for (const [a, b] of windows) if (t >= a && t < b) return true;
  return false;
}

type FaultEdge = Second['faults'][number];
const NO_FAULTS: readonly FaultEdge[] = Object.freeze([]);

/** The faults starting or ending at `t` (most seconds: none, the one shared empty list). */
function faultsAt(plan: DayPlan, t: number): readonly FaultEdge[] {
  let out: FaultEdge[] | undefined;
  for (const f of plan.faults) {
    const phase = t === f.window[0] ? 'start' : t === f.window[1] ? 'end' : undefined;
    if (phase === undefined) continue;
    out = out ?? [];
    out.push({ alarm: f.alarm, phase });
  }
  return out ?? NO_FAULTS;
}

function secondOf(car: Car, plan: DayPlan, t: number): Second {
  return {
    t,
    status: statusOf(car, t),
    vision: { ebike: inWindow(plan.ebike, t), doorBlocked: inWindow(plan.blocked, t) },
    peopleCount: car.people,
    health: {
      uptimeSeconds: 3_600_000 + t,
      cpuPercent: 30 + (t % 17),
      memoryFreeMb: 212,
      diskFreeMb: 1480,
      elenetAlive: true,
      litefcccoreAlive: true,
    },
    faults: faultsAt(plan, t),
  };
}

/** Advances the car by one second: doors count down, a run moves a floor every 2 s. */
function advance(car: Car): void {
  const phase = car.phase;
  if (phase.kind === 'door') {
    phase.left--;
    if (phase.left === 0) car.phase = phase.next;
  } else if (phase.kind === 'run') {
    phase.left--;
    if (phase.left > 0) return;
    car.floor += car.target > car.floor ? 1 : -1;
    if (car.floor !== car.target) {
      phase.left = 2;
      return;
    }
    car.runCount++;
    car.doorOpenCount++;
    car.phase = doorCycle(5, { kind: 'idle' });
    car.people = 0;
  }
}

/** Yields the day second by second, from second `from` (the elevator idle at floor 1 then). */
export function* elevatorDay(seed = 1, trips = 300, from = 0): Generator<Second> {
  const rand = mulberry32(seed);
  const plan = planDay(rand, trips);
  const car: Car = {
    floor: 1,
    phase: { kind: 'idle' },
    people: 0,
    target: 1,
    runCount: 12_000,
    runSeconds: 430_000,
    doorOpenCount: 25_000,
  };
  const { starts } = plan;
  let next = 0; // the first trip start not before t
  for (let t = from; t < DAY_SECONDS; t++) {
    while (next < starts.length && starts[next]! < t) next++;
    maybeStartTrip(car, starts[next] === t, rand);
    if (car.phase.kind === 'run') car.runSeconds++;
    yield secondOf(car, plan, t);
    advance(car);
  }
}
