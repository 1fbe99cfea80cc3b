/**
 * What one edge sends for each second of its day (elevator-day.ts), in either workload:
 *
 * - legacy: today's verbose JSON, everything all the time: status every second, a detection
 *   every 5 s, a heartbeat every 10 s, faults as they start and end;
 * - compact: DeviceHub's agent: a birth, status on change (deadbands) plus a snapshot a minute,
 *   vision events as they start and end, faults, health every 5 minutes.
 *
 * The simulator and the diet benchmark both send exactly this.
 */
import {
  type Birth,
  type CompactMessage,
  KAFKA_TOPICS,
  legacyDetection,
  legacyFault,
  legacyHeartbeat,
  legacyStatus,
  StatusEncoder,
  withSequence,
} from '../protocol/mod.ts';
import type { Second } from './elevator-day.ts';

export type Workload = 'legacy' | 'compact';

export interface LegacyMessage {
  /** The Kafka topic today's edges send it to. */
  readonly topic: string;
  readonly msgType: 'elevatorStatus' | 'detection' | 'heartbeat' | 'fault';
  readonly json: string;
}

/** A legacy edge; with `sequence`, each message carries `seqNo`/`bootId` (as some firmware does). */
export class LegacyEdge {
  readonly id: string;
  readonly #birth: Birth;
  readonly #boot: string | undefined;
  #seq = 0;

  constructor(id: string, birth: Birth, sequence?: { boot: string }) {
    this.id = id;
    this.#birth = birth;
    this.#boot = sequence?.boot;
  }

  /** Messages sent so far. */
  get seq(): number {
    return this.#seq;
  }

  #message(topic: string, msgType: LegacyMessage['msgType'], json: string): LegacyMessage {
    this.#seq++;
    return {
      topic,
      msgType,
      json: this.#boot === undefined ? json : withSequence(json, this.#seq, this.#boot),
    };
  }

  second(s: Second, now: number): LegacyMessage[] {
    const out = [
      this.#message(KAFKA_TOPICS.status, 'elevatorStatus', legacyStatus(this.id, now, s.status, this.#birth)),
    ];
    if (s.t % 5 === 0)
      out.push(
        this.#message(
          KAFKA_TOPICS.detection,
          'detection',
          legacyDetection(this.id, now, s.vision, s.peopleCount),
        ),
      );
    if (s.t % 10 === 0)
      out.push(
        this.#message(
          KAFKA_TOPICS.heartbeat,
          'heartbeat',
          legacyHeartbeat(this.id, now, s.health, this.#birth.firmware),
        ),
      );
    for (const f of s.faults) out.push(this.fault(f.alarm, f.phase, s.status.floor, now));
    return out;
  }

  fault(alarm: string, phase: 'start' | 'end', floor: number, now: number): LegacyMessage {
    return this.#message(KAFKA_TOPICS.fault, 'fault', legacyFault(this.id, now, alarm, phase, floor));
  }
}

/** A DeviceHub agent's edge. */
export class CompactEdge {
  readonly id: string;
  readonly #birth: Birth;
  readonly #boot: string;
  readonly #encoder: StatusEncoder;
  #vision = { ebike: false, doorBlocked: false };
  #seq = 0;

  constructor(id: string, birth: Birth, boot: string, encoder = new StatusEncoder({ snapshotMs: 60_000 })) {
    this.id = id;
    this.#birth = birth;
    this.#boot = boot;
    this.#encoder = encoder;
  }

  get seq(): number {
    return this.#seq;
  }

  birth(now: number): CompactMessage {
    const silenceSeconds = Math.round(this.#encoder.snapshotMs / 1000);
    return { kind: 'birth', seq: ++this.#seq, ts: now, boot: this.#boot, birth: this.#birth, silenceSeconds };
  }

  /** What the second brings; `snapshot` tells whether a full status went out. */
  second(s: Second, now: number): { messages: CompactMessage[]; snapshot: boolean } {
    const messages: CompactMessage[] = [];
    const update = this.#encoder.next(s.status, now);
    if (update)
      messages.push({
        kind: 'status',
        seq: ++this.#seq,
        ts: now,
        snapshot: update.snapshot,
        status: update.status,
      });
    for (const event of ['ebike', 'doorBlocked'] as const) {
      if (s.vision[event] !== this.#vision[event])
        messages.push({ kind: 'vision', seq: ++this.#seq, ts: now, event, active: s.vision[event] });
    }
    this.#vision = s.vision;
    for (const f of s.faults) messages.push(this.alarm(f.alarm, f.phase, s.status.floor, now));
    if (s.t % 300 === 0) messages.push({ kind: 'health', seq: ++this.#seq, ts: now, health: s.health });
    return { messages, snapshot: update?.snapshot === true };
  }

  alarm(alarm: string, phase: 'start' | 'end', floor: number, now: number): CompactMessage {
    return { kind: 'alarm', seq: ++this.#seq, ts: now, alarm, phase, floor };
  }
}
