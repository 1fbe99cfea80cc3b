/**
 * Thousands of simulated edges in one process, each with its own MQTT connection and
 * credentials, sending the compact format the agent sends: a birth, status changes and
 * snapshots from its own simulated elevator day (elevator-day.ts), vision and fault events,
 * health. Storms on demand: 1% of the fleet raising an alarm within 10 s, or every edge
 * reconnecting within 30 s.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { type CompactMessage, encodeCompact } from './compact.ts';
import { birthOf, elevatorDay, type Second } from './elevator-day.ts';
import { UPLINK_QOS, uplinkTopic } from './protocol.ts';
import { StatusEncoder } from './status-encoder.ts';

export interface SimulatorOptions {
  readonly url: string;
  readonly edges: number;
  /** Edge id of edge i (default `E-000001`…). */
  readonly edgeId?: (i: number) => string;
  /** Password of an edge (the broker must know it). */
  readonly password: (edgeId: string) => string;
  /** Simulated seconds per real second (default 1). */
  readonly speed?: number;
  /** Connections opened per second at start (default 500), so the broker is not stormed. */
  readonly connectRate?: number;
  readonly signal?: AbortSignal;
}

interface SimEdge {
  readonly id: string;
  readonly client: MqttClient;
  readonly day: Generator<Second>;
  readonly encoder: StatusEncoder;
  seq: number;
  vision: { ebike: boolean; doorBlocked: boolean };
}

export const simulatedEdgeId = (i: number) => `E-${String(i + 1).padStart(6, '0')}`;
export const simulatedPassword = (edgeId: string) => `sim-${edgeId}`;

export class Simulator implements AsyncDisposable {
  readonly stats = { connected: 0, sent: 0, publishErrors: 0, alarmsRaised: 0 };
  readonly #o: SimulatorOptions;
  readonly #edges: SimEdge[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #startedAt = 0;

  constructor(options: SimulatorOptions) {
    this.#o = options;
  }

  async start(): Promise<this> {
    const { edges, url, connectRate = 500 } = this.#o;
    const idOf = this.#o.edgeId ?? simulatedEdgeId;
    for (let i = 0; i < edges; i++) {
      if (this.#o.signal?.aborted) break;
      const id = idOf(i);
      const client = mqtt.connect(url, {
        username: id,
        password: this.#o.password(id),
        clientId: id,
        protocolVersion: 5,
        reconnectPeriod: 2000,
        queueQoSZero: false,
      });
      client.on('connect', () => this.stats.connected++);
      client.on('close', () => {
        if (client.connected === false) this.stats.connected = Math.max(0, this.stats.connected - 1);
      });
      client.on('error', () => {});
      // Each edge has its own day (seed) and starts at its own minute of the busy hours.
      const from = 7 * 3600 + ((i * 7919) % (12 * 3600));
      const edge: SimEdge = {
        id,
        client,
        day: elevatorDay(i + 1, 300, from),
        encoder: new StatusEncoder(),
        seq: 0,
        vision: { ebike: false, doorBlocked: false },
      };
      this.#edges.push(edge);
      this.#send(edge, {
        kind: 'birth',
        seq: 0,
        ts: Date.now(),
        boot: `sim-${process.pid}`,
        birth: birthOf(id),
      });
      if ((i + 1) % connectRate === 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    this.#startedAt = Date.now();
    let simulated = 0;
    this.#timer = setInterval(() => {
      const target = Math.floor(((Date.now() - this.#startedAt) / 1000) * (this.#o.speed ?? 1));
      for (; simulated < target; simulated++) for (const edge of this.#edges) this.#advance(edge);
    }, 100);
    return this;
  }

  /** 1% of the fleet raises an alarm within `withinMs` (an area power cut). */
  alarmStorm(withinMs = 10_000, fraction = 0.01): void {
    const count = Math.max(1, Math.round(this.#edges.length * fraction));
    for (let k = 0; k < count; k++) {
      const edge = this.#edges[Math.floor((k * this.#edges.length) / count)]!;
      setTimeout(
        () => {
          this.stats.alarmsRaised++;
          this.#send(edge, {
            kind: 'alarm',
            seq: 0,
            ts: Date.now(),
            alarm: 'trapped',
            phase: 'start',
            floor: 1,
          });
        },
        (k * withinMs) / count,
      );
    }
  }

  /** Every edge drops its connection and reconnects within `withinMs`. */
  reconnectStorm(withinMs = 30_000): void {
    this.#edges.forEach((edge, k) => {
      setTimeout(
        () => edge.client.end(true, {}, () => edge.client.reconnect()),
        (k * withinMs) / this.#edges.length,
      );
    });
  }

  #advance(edge: SimEdge): void {
    const next = edge.day.next();
    const second = next.done ? undefined : next.value;
    if (second === undefined) return;
    const now = Date.now();
    const update = edge.encoder.next(second.status, now);
    if (update)
      this.#send(edge, { kind: 'status', seq: 0, ts: now, snapshot: update.snapshot, status: update.status });
    for (const event of ['ebike', 'doorBlocked'] as const) {
      if (second.vision[event] !== edge.vision[event])
        this.#send(edge, { kind: 'vision', seq: 0, ts: now, event, active: second.vision[event] });
    }
    edge.vision = second.vision;
    for (const f of second.faults)
      this.#send(edge, {
        kind: 'alarm',
        seq: 0,
        ts: now,
        alarm: f.alarm,
        phase: f.phase,
        floor: second.status.floor,
      });
    if (second.t % 300 === 0) this.#send(edge, { kind: 'health', seq: 0, ts: now, health: second.health });
  }

  #send(edge: SimEdge, message: CompactMessage): void {
    const bytes = encodeCompact({ ...message, seq: ++edge.seq } as CompactMessage);
    edge.client.publish(
      uplinkTopic(edge.id, message.kind),
      Buffer.from(bytes),
      { qos: UPLINK_QOS[message.kind] },
      (error) => {
        if (error) this.stats.publishErrors++;
        else this.stats.sent++;
      },
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#edges.map((e) => e.client.endAsync().catch(() => {})));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
