/**
 * The status and vision pipeline: what elenet and litefcccore hand the agent becomes compact
 * messages — a status reading (every second) as changes, deadbands and periodic snapshots
 * (StatusEncoder), the vision state as start/end events, alarms and health as they come — and
 * today's JSON is translated into the same calls. It also notes when each program last handed
 * over something (their liveness in health reports, health.ts).
 */
import {
  type AlarmReading,
  type CompactMessage,
  decodeLegacy,
  type Health,
  type Status,
  StatusEncoder,
  type Vision,
  type VisionEventRef,
  visionRefOf,
} from '../protocol/mod.ts';
import type { LastInput } from './health.ts';

export class Readings {
  readonly #edgeId: string;
  readonly #send: (message: CompactMessage) => void;
  #encoder = new StatusEncoder();
  #vision: Vision = { ebike: false, doorBlocked: false };
  readonly #lastInput = { elenet: 0, litefcccore: 0 };
  readonly #visionEvent: ((alarm: string, now: number) => VisionEventRef | undefined) | undefined;

  /**
   * `send`: where the messages go (numbered and queued by the forwarder); `visionEvent`: the
   * candidate frames an alarm start names (queued for upload; none: the alarm names no frames).
   */
  constructor(
    edgeId: string,
    send: (message: CompactMessage) => void,
    o: { visionEvent?: (alarm: string, now: number) => VisionEventRef | undefined } = {},
  ) {
    this.#edgeId = edgeId;
    this.#send = send;
    this.#visionEvent = o.visionEvent;
  }

  /** When each program last handed the agent something. */
  get lastInput(): LastInput {
    return this.#lastInput;
  }

  /** The snapshot period: the longest the agent stays silent about its status (ms). */
  get snapshotMs(): number {
    return this.#encoder.snapshotMs;
  }

  /** A new snapshot period from the configuration (a fresh encoder: the next status is full). */
  setSnapshotSeconds(seconds: number): void {
    this.#encoder = new StatusEncoder({ snapshotMs: seconds * 1000 });
  }

  status(reading: Status, now: number): void {
    this.#lastInput.litefcccore = now;
    const update = this.#encoder.next(reading, now);
    if (update)
      this.#send({ kind: 'status', seq: 0, ts: now, snapshot: update.snapshot, status: update.status });
  }

  vision(state: Vision, now: number): void {
    this.#lastInput.elenet = now;
    for (const event of ['ebike', 'doorBlocked'] as const) {
      if (state[event] !== this.#vision[event])
        this.#send({ kind: 'vision', seq: 0, ts: now, event, active: state[event] });
    }
    this.#vision = { ...state };
  }

  /** An alarm; a start names its vision event (`named`, or the frames captured now), if any. */
  alarm(reading: AlarmReading, now: number, named?: VisionEventRef): void {
    const { alarm, phase, floor } = reading;
    const vision = phase === 'start' ? (named ?? this.#visionEvent?.(alarm, now)) : undefined;
    this.#send({ kind: 'alarm', seq: 0, ts: now, alarm, phase, floor, ...vision });
  }

  health(health: Health, now: number): void {
    this.#send({ kind: 'health', seq: 0, ts: now, health });
  }

  /** Today's JSON, as elenet and litefcccore send it to Kafka: translated, not forwarded. */
  legacy(json: string): void {
    for (const m of decodeLegacy(json, this.#edgeId)) {
      if (m.method === 'commandResult' || m.method === 'updateState') continue; // legacy edges send none
      const ts = m.payload.ts ?? Date.now();
      if (m.method === 'alarm') {
        const { alarm, phase } = m.payload;
        this.alarm(
          { alarm, phase, floor: Number(m.payload.data?.floor ?? 0) },
          ts,
          visionRefOf(m.payload.data),
        );
      } else if (m.payload.kind === 'status') {
        this.status(m.payload.data as unknown as Status, ts);
      } else if (m.payload.kind === 'vision') {
        this.vision(m.payload.data as unknown as Vision, ts);
      } else if (m.payload.kind === 'heartbeat') {
        this.health(m.payload.data as unknown as Health, ts);
      }
    }
  }
}
