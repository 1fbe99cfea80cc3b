/**
 * Thousands of simulated edges in one process, each living its own elevator day
 * (elevator-day.ts) and sending either workload (workloads.ts):
 *
 * - over MQTT, each edge has its own connection and credentials (compact: `dh/v1/<id>/up/<kind>`;
 *   legacy JSON: `dh/v1/<id>/legacy`);
 * - over Kafka, the edges share a few producers, as a gateway box in front of many edges would,
 *   each message keyed by its edge id (compact: `dh-uplink`; legacy: today's `elevator-*` topics).
 *
 * The simulator paces itself: edge i sends its second-s messages at s + i/edges seconds (spread
 * over the second, not all at once), and stops advancing while more than `maxInFlight` messages
 * wait for their broker's acknowledgement, so an overloaded broker slows it down rather than
 * being buried (`stats.behindMs` then grows). Storms on demand: 1% of the fleet raising an alarm
 * within 10 s, or every edge reconnecting within 30 s.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import type { EdgeTransport } from '../protocol/mod.ts';
import {
  type CompactMessage,
  encodeCompact,
  KAFKA_TOPICS,
  legacyQos,
  legacyUplinkTopic,
  UPLINK_QOS,
  uplinkTopic,
} from '../protocol/mod.ts';
import { birthOf, elevatorDay, type Second } from './elevator-day.ts';
import { CompactEdge, LegacyEdge, type LegacyMessage, type Workload } from './workloads.ts';

export interface SimulatorOptions {
  readonly edges: number;
  /** Default mqtt. */
  readonly transport?: EdgeTransport;
  /** Default compact. */
  readonly workload?: Workload;
  /** MQTT broker URL (transport mqtt). */
  readonly url?: string;
  /** Kafka bootstrap brokers (transport kafka). */
  readonly brokers?: readonly string[];
  /** Kafka producers the edges share (default 4). */
  readonly producers?: number;
  /** Edge id of edge i (default `E-000001`…). */
  readonly edgeId?: (i: number) => string;
  /** MQTT password of an edge (the broker must know it; default `sim-<id>`). */
  readonly password?: (edgeId: string) => string;
  /** Simulated seconds per real second (default 1). */
  readonly speed?: number;
  /** MQTT connections opened per second at start (default 500), so the broker is not stormed. */
  readonly connectRate?: number;
  /** Messages sent but not yet acknowledged beyond which the simulator waits (default 20,000). */
  readonly maxInFlight?: number;
  readonly signal?: AbortSignal;
}

type Outgoing = { compact: CompactMessage } | { legacy: LegacyMessage };

interface SimEdge {
  readonly id: string;
  readonly index: number;
  readonly day: Generator<Second>;
  readonly legacy: LegacyEdge | undefined;
  readonly compact: CompactEdge | undefined;
  client: MqttClient | undefined;
  floor: number;
}

export const simulatedEdgeId = (i: number) => `E-${String(i + 1).padStart(6, '0')}`;
export const simulatedPassword = (edgeId: string) => `sim-${edgeId}`;

const TICK_MS = 10;

export class Simulator implements AsyncDisposable {
  readonly stats = {
    connected: 0,
    /** Messages the broker acknowledged (QoS 1, Kafka) or that were written to it (QoS 0). */
    sent: 0,
    publishErrors: 0,
    alarmsRaised: 0,
    inFlight: 0,
    /** How far the simulated fleet lags its schedule (ms). */
    behindMs: 0,
  };
  readonly #o: SimulatorOptions;
  readonly #transport: EdgeTransport;
  readonly #edges: SimEdge[] = [];
  /** Messages acknowledged per edge (what the hub must account for). */
  readonly #sentPerEdge: Uint32Array;
  readonly #producers: Producer[] = [];
  /** Kafka messages of this tick, per producer. */
  #batches: Map<string, { key: string; value: Buffer | string; edge: number }[]>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: SimulatorOptions) {
    this.#o = options;
    this.#transport = options.transport ?? 'mqtt';
    this.#sentPerEdge = new Uint32Array(options.edges);
    if (this.#transport === 'mqtt' && !options.url)
      throw new RangeError('Simulator: transport mqtt needs url');
    if (this.#transport === 'kafka' && !options.brokers?.length)
      throw new RangeError('Simulator: transport kafka needs brokers');
  }

  /** Acknowledged messages per edge, by edge index. */
  sentPerEdge(): number[] {
    return [...this.#sentPerEdge];
  }

  /**
   * Connects the edges (MQTT: at `connectRate` per second), sends their births, and starts their
   * days once they are connected.
   */
  async start(): Promise<this> {
    const { edges, connectRate = 500 } = this.#o;
    const workload = this.#o.workload ?? 'compact';
    const idOf = this.#o.edgeId ?? simulatedEdgeId;
    if (this.#transport === 'kafka') await this.#startProducers();
    const boot = `sim-${process.pid}-${Date.now().toString(36)}`;
    for (let i = 0; i < edges; i++) {
      if (this.#o.signal?.aborted) break;
      const id = idOf(i);
      // Each edge has its own day (seed) and starts at its own minute of the busy hours.
      const from = 7 * 3600 + ((i * 7919) % (12 * 3600));
      const edge: SimEdge = {
        id,
        index: i,
        day: elevatorDay(i + 1, 300, from),
        legacy: workload === 'legacy' ? new LegacyEdge(id, birthOf(id), { boot }) : undefined,
        compact: workload === 'compact' ? new CompactEdge(id, birthOf(id), boot) : undefined,
        client: this.#transport === 'mqtt' ? this.#connect(id) : undefined,
        floor: 1,
      };
      this.#edges.push(edge);
      if (edge.compact) this.#send(edge, { compact: edge.compact.birth(Date.now()) });
      if (this.#transport === 'mqtt' && (i + 1) % connectRate === 0)
        await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    this.#flush();
    // Days start once the fleet is connected (or a minute has passed): a QoS 0 message sent
    // before its edge's connection is up would only count as an error.
    const deadline = Date.now() + 60_000;
    while (this.stats.connected < this.#edges.length && Date.now() < deadline && !this.#o.signal?.aborted)
      await new Promise((resolve) => setTimeout(resolve, 50));
    this.#run();
    return this;
  }

  #connect(id: string): MqttClient {
    const client = mqtt.connect(this.#o.url!, {
      username: id,
      password: (this.#o.password ?? simulatedPassword)(id),
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
    return client;
  }

  async #startProducers(): Promise<void> {
    const kafka = new Kafka({
      clientId: 'devicehub-simulator',
      brokers: [...this.#o.brokers!],
      logLevel: logLevel.NOTHING,
    });
    for (let p = 0; p < (this.#o.producers ?? 4); p++) {
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      this.#producers.push(producer);
      this.#batches.push(new Map());
    }
    this.stats.connected = this.#o.edges;
  }

  /** Paces the fleet's days: events in (second, edge) order, each at its own moment. */
  #run(): void {
    const edges = this.#edges.length;
    const speed = this.#o.speed ?? 1;
    const maxInFlight = this.#o.maxInFlight ?? 20_000;
    const start = Date.now();
    let cursor = 0;
    const tick = () => {
      if (this.#stopped) return;
      const now = Date.now();
      while (this.stats.inFlight < maxInFlight) {
        const second = Math.floor(cursor / edges);
        const i = cursor % edges;
        const due = start + (second * 1000 + (i * 1000) / edges) / speed;
        if (due > now) break;
        this.#advance(this.#edges[i]!, now);
        cursor++;
      }
      const next = start + (Math.floor(cursor / edges) * 1000 + ((cursor % edges) * 1000) / edges) / speed;
      this.stats.behindMs = Math.max(0, now - next);
      this.#flush();
      this.#timer = setTimeout(tick, TICK_MS);
    };
    tick();
  }

  /** 1% of the fleet raises an alarm within `withinMs` (an area power cut). */
  alarmStorm(withinMs = 10_000, fraction = 0.01): void {
    const count = Math.max(1, Math.round(this.#edges.length * fraction));
    for (let k = 0; k < count; k++) {
      const edge = this.#edges[Math.floor((k * this.#edges.length) / count)]!;
      setTimeout(
        () => {
          if (this.#stopped) return;
          this.stats.alarmsRaised++;
          const now = Date.now();
          this.#send(
            edge,
            edge.compact
              ? { compact: edge.compact.alarm('trapped', 'start', edge.floor, now) }
              : { legacy: edge.legacy!.fault('trapped', 'start', edge.floor, now) },
          );
          this.#flush();
        },
        (k * withinMs) / count,
      );
    }
  }

  /** Every edge drops its MQTT connection and reconnects within `withinMs` (MQTT only). */
  reconnectStorm(withinMs = 30_000): void {
    if (this.#transport !== 'mqtt')
      throw new RangeError('reconnectStorm: only edges on MQTT connect one by one');
    this.#edges.forEach((edge, k) => {
      setTimeout(
        () => edge.client?.end(true, {}, () => edge.client?.reconnect()),
        (k * withinMs) / this.#edges.length,
      );
    });
  }

  #advance(edge: SimEdge, now: number): void {
    const next = edge.day.next();
    if (next.done) return;
    const second = next.value;
    edge.floor = second.status.floor;
    if (edge.compact)
      for (const m of edge.compact.second(second, now).messages) this.#send(edge, { compact: m });
    else for (const m of edge.legacy!.second(second, now)) this.#send(edge, { legacy: m });
  }

  #send(edge: SimEdge, out: Outgoing): void {
    this.stats.inFlight++;
    if (edge.client !== undefined) {
      const [topic, payload, qos] =
        'compact' in out
          ? [
              uplinkTopic(edge.id, out.compact.kind),
              Buffer.from(encodeCompact(out.compact)),
              UPLINK_QOS[out.compact.kind],
            ]
          : [legacyUplinkTopic(edge.id), out.legacy.json, legacyQos(out.legacy.msgType)];
      edge.client.publish(topic, payload, { qos }, (error) => this.#acknowledged(edge.index, 1, error));
      return;
    }
    const [topic, value] =
      'compact' in out
        ? [KAFKA_TOPICS.compact, Buffer.from(encodeCompact(out.compact))]
        : [out.legacy.topic, out.legacy.json];
    const batch = this.#batches[edge.index % this.#producers.length]!;
    let messages = batch.get(topic);
    if (messages === undefined) {
      messages = [];
      batch.set(topic, messages);
    }
    messages.push({ key: edge.id, value, edge: edge.index });
  }

  /** Sends this tick's Kafka messages, one batch per producer. */
  #flush(): void {
    this.#batches.forEach((batch, p) => {
      if (batch.size === 0) return;
      this.#batches[p] = new Map();
      const topicMessages = [...batch].map(([topic, messages]) => ({
        topic,
        messages: messages.map(({ key, value }) => ({ key, value })),
      }));
      this.#producers[p]!.sendBatch({ topicMessages, acks: -1 }).then(
        () => {
          for (const messages of batch.values()) for (const m of messages) this.#acknowledged(m.edge, 1);
        },
        (error: unknown) => {
          for (const messages of batch.values()) this.#acknowledged(-1, messages.length, error);
        },
      );
    });
  }

  #acknowledged(edge: number, count: number, error?: unknown): void {
    this.stats.inFlight -= count;
    if (error) {
      this.stats.publishErrors += count;
      return;
    }
    this.stats.sent += count;
    this.#sentPerEdge[edge]! += count;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // Let what is in flight be acknowledged (a few seconds at most), then close.
    const deadline = Date.now() + 5000;
    while (this.stats.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await Promise.all([
      ...this.#edges.map((e) => e.client?.endAsync().catch(() => {})),
      ...this.#producers.map((p) => p.disconnect().catch(() => {})),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
