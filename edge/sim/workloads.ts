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
  type AlarmReading,
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
      this.#message(
        KAFKA_TOPICS.status,
        'elevatorStatus',
        legacyStatus({ edgeId: this.id, ts: now, status: s.status, birth: this.#birth }),
      ),
    ];
    if (s.t % 5 === 0)
      out.push(
        this.#message(
          KAFKA_TOPICS.detection,
          'detection',
          legacyDetection({ edgeId: this.id, ts: now, vision: s.vision, peopleCount: s.peopleCount }),
        ),
      );
    if (s.t % 10 === 0)
      out.push(
        this.#message(
          KAFKA_TOPICS.heartbeat,
          'heartbeat',
          legacyHeartbeat({ edgeId: this.id, ts: now, health: s.health, firmware: this.#birth.firmware }),
        ),
      );
    for (const f of s.faults) out.push(this.fault({ ...f, floor: s.status.floor }, now));
    return out;
  }

  fault(reading: AlarmReading, now: number): LegacyMessage {
    return this.#message(KAFKA_TOPICS.fault, 'fault', legacyFault({ ...reading, edgeId: this.id, ts: now }));
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

  /** `boot`: the agent's boot id; `encoder` (default: a snapshot every 60 s) makes its status messages. */
  constructor(id: string, birth: Birth, options: { boot: string; encoder?: StatusEncoder }) {
    this.id = id;
    this.#birth = birth;
    this.#boot = options.boot;
    this.#encoder = options.encoder ?? new StatusEncoder({ snapshotMs: 60_000 });
  }

  get seq(): number {
    return this.#seq;
  }

  /** The next sequence number, for a message made elsewhere (the updater's `update` states). */
  nextSeq(): number {
    return ++this.#seq;
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
    for (const f of s.faults) messages.push(this.alarm({ ...f, floor: s.status.floor }, now));
    if (s.t % 300 === 0) messages.push({ kind: 'health', seq: ++this.#seq, ts: now, health: s.health });
    return { messages, snapshot: update?.snapshot === true };
  }

  alarm(reading: AlarmReading, now: number): CompactMessage {
    const { alarm, phase, floor } = reading;
    return { kind: 'alarm', seq: ++this.#seq, ts: now, alarm, phase, floor };
  }
}
