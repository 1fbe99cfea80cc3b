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
 * within 10 s, or every edge reconnecting within 30 s. With `updates` (compact over MQTT) each edge
 * also takes `update` commands from its downlink and runs them (sim-updater.ts).
 *
 * For fleets larger than a process holds (the scale benchmark): `shard` runs only the edges of one
 * broker shard (broker-shard.ts), `reconnect` spreads reconnects with jittered backoff, `quiet`
 * holds QoS 0 messages back while a broker restarts, and `malformed` makes a share of the edges
 * also send messages their link must dead-letter.
 */

import { type Backoff, RECONNECT_BACKOFF } from '../agent/mod.ts';
import type { KafkaClientSecurity } from '../kafka-auth/mod.ts';
import { type EdgeTransport, legacyQos, UPLINK_QOS } from '../protocol/mod.ts';
import { brokerShardOf } from './broker-shard.ts';
import { KafkaProducers } from './kafka-producers.ts';
import { connectEdge, endEdge, publish, publishMalformed, type SimMqttTls } from './mqtt-edges.ts';
import { pace } from './pacing.ts';
import { advance, createSimEdge, type Outgoing, type SimEdge } from './sim-edge.ts';
import { SimLogs, type SimLogsOptions } from './sim-logs.ts';
import { SimUpdater, type SimUpdaterEdge, type SimUpdatesOptions } from './sim-updater.ts';
import { sourceAddressFor } from './source-address.ts';
import type { Workload } from './workloads.ts';

export interface SimulatorOptions {
  readonly edges: number;
  /** Default mqtt. */
  readonly transport?: EdgeTransport;
  /** Default compact. */
  readonly workload?: Workload;
  /** MQTT broker URL (transport mqtt). */
  readonly url?: string;
  /** Several listeners of the same broker instead of `url`: edge i connects to `urls[i mod n]`. */
  readonly urls?: readonly string[];
  /** Kafka bootstrap brokers (transport kafka). */
  readonly brokers?: readonly string[];
  /** SASL_SSL login of the shared Kafka producers and the brokers' CA (none: plaintext). */
  readonly kafkaSecurity?: KafkaClientSecurity;
  /** Kafka producers the edges share (default 4). */
  readonly producers?: number;
  /** Edge id of edge i (default `E-000001`…). */
  readonly edgeId?: (i: number) => string;
  /** MQTT password of an edge (the broker must know it; default `sim-<id>`). */
  readonly password?: (edgeId: string) => string;
  /** TLS of an `mqtts://` broker: the fleet CA, and each edge's certificate for the mTLS listener. */
  readonly mqttTls?: SimMqttTls;
  /** Simulated seconds per real second (default 1). */
  readonly speed?: number;
  /** MQTT connections opened per second at start (default 500), so the broker is not stormed. */
  readonly connectRate?: number;
  /** Messages sent but not yet acknowledged beyond which the simulator waits (default 20,000). */
  readonly maxInFlight?: number;
  /** Edges take `update` commands (compact workload over MQTT): downloads, TUF, simulated installs. */
  readonly updates?: SimUpdatesOptions;
  /** Edges also ship log lines (the `log` kind; MQTT): sim-logs.ts. */
  readonly logs?: SimLogsOptions;
  /** Only the edges of broker shard `index` of `count` (of edge indices 0…edges-1). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** MQTT: the edges' reconnect delays (default: the agent's, `RECONNECT_BACKOFF`: 1 s doubling to 15 s, jittered). */
  readonly reconnect?: Backoff;
  /** MQTT: `share` of the edges also send a malformed QoS 1 message every `everySeconds`. */
  readonly malformed?: { readonly share: number; readonly everySeconds: number };
  readonly signal?: AbortSignal;
}

export const simulatedEdgeId = (i: number) => `E-${String(i + 1).padStart(6, '0')}`;
export const simulatedPassword = (edgeId: string) => `sim-${edgeId}`;

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
    /** Malformed messages the broker acknowledged (with `malformed`; not in the per-edge counts). */
    malformedSent: 0,
    /** QoS 0 messages not sent while `quiet`. */
    quietSkipped: 0,
    /** QoS 1 messages the broker had no subscriber for (PUBACK 0x10), each sent again, as the agent does. */
    unheard: 0,
  };
  /** While true, QoS 0 messages are not sent (a broker restart: only acknowledged ones count). */
  quiet = false;
  /** Each reconnect's downtime (ms), from the connection's drop to its return. */
  readonly reconnectMs: number[] = [];
  #malformed: ReturnType<typeof setInterval> | undefined;
  readonly #o: SimulatorOptions;
  readonly #transport: EdgeTransport;
  readonly #edges: SimEdge[] = [];
  /** Messages acknowledged per edge (what the hub must account for). */
  readonly #sentPerEdge: Uint32Array;
  #kafka: KafkaProducers | undefined;
  /** Runs the edges' `update` commands (with `updates`). */
  readonly updater: SimUpdater | undefined;
  #pace: { stop(): void } | undefined;
  /** The edges' log lines (with `logs`), once the days have started. */
  logs: SimLogs | undefined;
  #stopped = false;
  readonly #acknowledged = (edge: number, count: number, error?: unknown): void => {
    this.stats.inFlight -= count;
    if (error) {
      this.stats.publishErrors += count;
      return;
    }
    this.stats.sent += count;
    this.#sentPerEdge[edge]! += count;
  };

  constructor(options: SimulatorOptions) {
    this.#o = options;
    this.#transport = options.transport ?? 'mqtt';
    this.#sentPerEdge = new Uint32Array(options.edges);
    if (this.#transport === 'mqtt' && !options.url && !options.urls?.length)
      throw new RangeError('Simulator: transport mqtt needs url (or urls)');
    if (this.#transport === 'kafka' && !options.brokers?.length)
      throw new RangeError('Simulator: transport kafka needs brokers');
    if (options.logs !== undefined && this.#transport !== 'mqtt')
      throw new RangeError('Simulator: logs need transport mqtt');
    if (options.updates !== undefined && (this.#transport !== 'mqtt' || options.workload === 'legacy'))
      throw new RangeError('Simulator: updates need the compact workload over MQTT');
    this.updater = options.updates === undefined ? undefined : new SimUpdater(options.updates);
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
    const { edges, connectRate = 500, workload = 'compact' } = this.#o;
    if (this.#transport === 'kafka') {
      this.#kafka = await KafkaProducers.start(this.#o.brokers!, this.#o.producers ?? 4, {
        ...(this.#o.kafkaSecurity === undefined ? {} : { security: this.#o.kafkaSecurity }),
      });
      this.stats.connected = this.#o.edges;
    }
    const boot = `sim-${process.pid}-${Date.now().toString(36)}`;
    const shard = this.#o.shard;
    const idOf = this.#o.edgeId ?? simulatedEdgeId;
    // Paced in small steps (a 20th of a second's worth), not a second's worth at once.
    const step = Math.max(1, Math.ceil(connectRate / 20));
    let opened = 0;
    for (let i = 0; i < edges; i++) {
      if (this.#o.signal?.aborted) break;
      if (shard !== undefined && brokerShardOf(idOf(i), shard.count) !== shard.index) continue;
      const edge = this.#add(i, { workload, boot });
      if (edge.compact) this.#send(edge, { compact: edge.compact.birth(Date.now()) });
      if (this.#transport === 'mqtt' && ++opened % step === 0)
        await new Promise((resolve) => setTimeout(resolve, (step * 1000) / connectRate));
    }
    this.#kafka?.flush(this.#acknowledged);
    // Days start once the fleet is connected (or a minute has passed): a QoS 0 message sent
    // before its edge's connection is up would only count as an error.
    const deadline = Date.now() + 60_000;
    while (this.stats.connected < this.#edges.length && Date.now() < deadline && !this.#o.signal?.aborted)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const send = (edge: SimEdge, out: Outgoing) => this.#send(edge, out);
    this.#pace = pace({
      edges: this.#edges.length,
      speed: this.#o.speed ?? 1,
      maxInFlight: this.#o.maxInFlight ?? 20_000,
      stats: this.stats,
      step: (i, now) => advance(this.#edges[i]!, now, send),
      afterTick: () => this.#kafka?.flush(this.#acknowledged),
    });
    if (this.#o.logs !== undefined) this.logs = new SimLogs(this.#edges, this.#o.logs).start();
    if (this.#o.malformed !== undefined) this.#sendMalformed(this.#o.malformed);
    return this;
  }

  /** Every `everySeconds`, each edge of the malformed `share` sends one (spread over the period). */
  #sendMalformed(o: { share: number; everySeconds: number }): void {
    const bad = this.#edges.filter(
      (e) => Math.floor(e.index * o.share) !== Math.floor((e.index + 1) * o.share),
    );
    const acknowledged = (_edge: number, count: number, error?: unknown) => {
      if (!error) this.stats.malformedSent += count;
    };
    const round = () =>
      bad.forEach((edge, k) => {
        setTimeout(
          () => {
            if (!this.#stopped && edge.client?.connected) publishMalformed(edge, acknowledged);
          },
          (k * o.everySeconds * 1000) / bad.length,
        );
      });
    round();
    this.#malformed = setInterval(round, o.everySeconds * 1000);
  }

  /** Edge `i`, with its own MQTT connection on that transport. */
  #add(i: number, o: { workload: Workload; boot: string }): SimEdge {
    const id = (this.#o.edgeId ?? simulatedEdgeId)(i);
    const password = (this.#o.password ?? simulatedPassword)(id);
    const updater = this.updater;
    const onCommand = updater && ((payload: Buffer) => updater.command(this.#updaterEdge(edge), payload));
    const onUp = (downSince: number | undefined) => {
      if (downSince !== undefined) this.reconnectMs.push(Date.now() - downSince);
    };
    const url = this.#o.urls?.length ? this.#o.urls[i % this.#o.urls.length]! : this.#o.url;
    const client =
      this.#transport === 'mqtt' && url !== undefined
        ? connectEdge(id, {
            url,
            sourceAddress: sourceAddressFor(url, i),
            password,
            stats: this.stats,
            tls: this.#o.mqttTls,
            onCommand,
            reconnect: this.#o.reconnect ?? RECONNECT_BACKOFF,
            onUp,
          })
        : undefined;
    const edge = createSimEdge(i, { ...o, id, client });
    this.#edges.push(edge);
    return edge;
  }

  /** Edge `edge` as the updater sees it: its states and answers go out on its own connection. */
  #updaterEdge(edge: SimEdge): SimUpdaterEdge {
    return {
      id: edge.id,
      report: (u) =>
        this.#send(edge, { compact: { kind: 'update', seq: edge.compact!.nextSeq(), ts: Date.now(), ...u } }),
      answer: (id, outcome) =>
        this.#send(edge, { compact: { kind: 'result', seq: 0, ts: Date.now(), id, ...outcome } }),
    };
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
              ? { compact: edge.compact.alarm({ alarm: 'trapped', phase: 'start', floor: edge.floor }, now) }
              : { legacy: edge.legacy!.fault({ alarm: 'trapped', phase: 'start', floor: edge.floor }, now) },
          );
          this.#kafka?.flush(this.#acknowledged);
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

  /** MQTT: published at once on the edge's connection; Kafka: into this tick's batch. */
  #send(edge: SimEdge, out: Outgoing): void {
    if (this.quiet) {
      const qos = 'compact' in out ? UPLINK_QOS[out.compact.kind] : legacyQos(out.legacy.msgType);
      if (qos === 0) {
        this.stats.quietSkipped++;
        return;
      }
    }
    this.stats.inFlight++;
    if (edge.client !== undefined) publish(edge, out, this.#acknowledged);
    else this.#kafka!.add(edge, out);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pace?.stop();
    clearInterval(this.#malformed);
    this.logs?.stop();
    // Let what is in flight be acknowledged (a few seconds at most), then close.
    const deadline = Date.now() + 5000;
    while ((this.stats.inFlight > 0 || (this.logs?.stats.logLinesInFlight ?? 0) > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await Promise.all([
      ...this.#edges.map((e) => (e.client === undefined ? undefined : endEdge(e.client).catch(() => {}))),
      this.#kafka?.disconnect(),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
