/**
 * The on-device agent (Node 22 on the RV1126, armv7l, little memory). elenet and litefcccore hand
 * it their data on a local HTTP endpoint (today's JSON, or canonical values); it sends the compact
 * format over MQTT with its own credentials (or Kafka, keyed by its id), keeps what the broker has
 * not acknowledged in a bounded on-disk queue, polls its configuration (ETag) and moves to another
 * broker or transport when told, without losing what it buffered.
 *
 * The class puts the parts together: readings.ts (status and vision into messages, today's JSON),
 * forwarder.ts (the disk queue and the broker connection), config.ts (polling the configuration),
 * commands.ts (commands from the hub) and health.ts (the box's own health).
 */
import { randomBytes } from 'node:crypto';
import {
  type AlarmReading,
  type Birth,
  type CompactMessage,
  DEFAULT_RECOGNITION_POLICY,
  type Health,
  type Status,
  type Vision,
} from '../protocol/mod.ts';
import { type AgentLogStats, AgentLogs, teeLogger } from './agent-logs.ts';
import { type CommandExecutor, CommandRunner } from './commands.ts';
import { ConfigPoller, type EdgeConfig } from './config.ts';
import { AgentCredentials } from './credentials.ts';
import { every } from './every.ts';
import { Forwarder } from './forwarder.ts';
import { type AgentFrames, type FrameStats, type FrameUploader, frameUploader } from './frame-uploader.ts';
import { HealthProbe } from './health.ts';
import { AgentHttpClient, type AgentTls } from './http-client.ts';
import { type Logger, silentLogger } from './logger.ts';
import { Readings } from './readings.ts';
import { CertificateRenewal } from './renewal.ts';
import { type AgentUpdates, agentUpdater, updateExecutor } from './updates/agent-updater.ts';
import type { Updater } from './updates/updater.ts';
import { brokerName, type DownlinkState, parseBroker, type UplinkOptions } from './uplink.ts';

export interface EdgeAgentOptions {
  readonly edgeId: string;
  readonly password: string;
  readonly birth: Birth;
  /** Where the queue lives (survives restarts). */
  readonly dataDir: string;
  /** The broker to use until the configuration names one: `mqtt://…` or `kafka://host:port,…`. */
  readonly brokerUrl?: string;
  /** Base URL of the configuration service; no polling without it. */
  readonly configUrl?: string;
  /** TLS of an `mqtts://` broker: the fleet CA, and the edge's certificate for the mTLS listener. */
  readonly brokerTls?: UplinkOptions['brokerTls'];
  /**
   * What the configuration service's certificate must chain to (the fleet CA, PEM), and the
   * edge's client certificate if it presents one; none: the system's CAs. `http:` only to loopback.
   */
  readonly configTls?: AgentTls;
  readonly pollMs?: number;
  /**
   * Ask the configuration service to hold each poll this long until something changes
   * (`?wait=`; default 30): a change reaches the edge at once, and polls then follow each other
   * after at most a second instead of `pollMs`. 0 turns long-polling off.
   */
  readonly longPollSeconds?: number;
  readonly maxQueueBytes?: number;
  /** Log shipping (the configuration's `logs`): how often files are read (default 2000 ms). */
  readonly logTickMs?: number;
  /** What the agent can do when the hub asks: command type → executor (the tunnel executor is issue 5). */
  readonly executors?: Readonly<Record<string, CommandExecutor>>;
  /** Backoff of a refused downlink subscription (default 1 s doubling to 60 s; `UplinkOptions`). */
  readonly downlinkRetry?: UplinkOptions['downlinkRetry'];
  /** Delays between reconnect attempts and between tries of a send that failed (default 1 s doubling to 15 s, jittered; reconnect.ts). */
  readonly reconnect?: UplinkOptions['reconnect'];
  /** Updates (the `update` command, A/B slots under `<dataDir>/slots`); none: the agent takes no updates. */
  readonly updates?: AgentUpdates;
  /**
   * Vision frames (issue 17): on the start of an alarm of `kinds`, the candidate JPEGs elenet left
   * in `source` are queued on disk and uploaded to the gateway (`url`, default `configUrl`); the
   * alarm names them. None (or no gateway URL): alarms name no frames, as on a legacy edge.
   */
  readonly frames?: AgentFrames;
  readonly logger?: Logger;
}

export interface AgentStats {
  sent: number;
  queued: number;
  dropped: number;
  brokerUrl: string | undefined;
  configVersion: number | undefined;
  /** The downlink subscription on the current broker (undefined before the first connection). */
  downlink: DownlinkState | undefined;
  /** Vision frames queued and uploaded (undefined without `frames`). */
  frames?: FrameStats;
  /** Log shipping: the level in force, lines shipped, filtered and dropped (budget, queue). */
  logs: AgentLogStats;
}

/** What a new configuration changes: the status snapshot period, log shipping, and the broker (switched to at once). */
async function applyConfig(
  config: EdgeConfig,
  parts: { readings: Readings; forwarder: Forwarder; logs: AgentLogs; log: Logger },
): Promise<void> {
  const { readings, forwarder, log } = parts;
  if (config.snapshotSeconds) readings.setSnapshotSeconds(config.snapshotSeconds);
  parts.logs.configure(config.logs);
  const from = forwarder.stats.brokerUrl;
  if (config.broker !== undefined && brokerName(config.broker) !== from) {
    log.info({ from, to: brokerName(config.broker), version: config.version }, 'switching broker');
    await forwarder.connect(config.broker);
  }
}

export class EdgeAgent implements AsyncDisposable {
  readonly #o: EdgeAgentOptions;
  readonly #log: Logger;
  readonly #boot = randomBytes(4).toString('hex');
  readonly #stop = new AbortController();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  readonly #readings: Readings;
  readonly #forwarder: Forwarder;
  readonly #config: ConfigPoller;
  readonly #credentials: AgentCredentials;
  readonly #renewal: CertificateRenewal | undefined;
  readonly #updater: Updater | undefined;
  readonly #frames: FrameUploader | undefined;
  readonly #logs: AgentLogs;

  constructor(options: EdgeAgentOptions) {
    const base = (options.logger ?? silentLogger).child({ edgeId: options.edgeId });
    this.#logs = new AgentLogs({
      dataDir: options.dataDir,
      send: (batch) => this.#forwarder.sendLog(batch),
      queueDropped: () => this.#forwarder.logQueue.dropped,
      log: base,
      ...(options.logTickMs === undefined ? {} : { tickMs: options.logTickMs }),
    });
    // The agent's own lines are shipped too (source `agent`), at the configured level.
    const log = teeLogger(base, (level, fields, msg) => this.#logs.own(level, fields, msg));
    const signal = this.#stop.signal;
    const send = (message: CompactMessage) => this.#forwarder.send(message);
    this.#updater = agentUpdater(options, {
      send,
      health: () => ({
        connected: this.#forwarder.stats.downlink?.subscribed === true,
        lastInput: this.#readings.lastInput,
      }),
      config: () => this.#config.config?.updates,
      log,
      signal,
    });
    const update: Record<string, CommandExecutor> =
      this.#updater === undefined ? {} : { update: updateExecutor(this.#updater) };
    const executors = { ...options.executors, ...update };
    const commands = new CommandRunner({ executors, send, log });
    const onCommand = (payload: Buffer) => void commands.handle(payload);
    this.#o = options;
    this.#log = log;
    this.#credentials = new AgentCredentials({ dataDir: options.dataDir, password: options.password, log });
    const credentials = this.#credentials;
    this.#frames = frameUploader(options, { password: () => credentials.password, log, signal });
    const frames = this.#frames;
    const kinds = new Set(options.frames?.kinds ?? Object.keys(DEFAULT_RECOGNITION_POLICY.kinds));
    this.#readings = new Readings(options.edgeId, send, {
      visionEvent: (alarm, now) => (kinds.has(alarm) ? frames?.capture(now) : undefined),
    });
    this.#renewal =
      options.configUrl === undefined || options.brokerTls?.cert === undefined
        ? undefined
        : new CertificateRenewal(
            {
              ...options,
              configUrl: options.configUrl,
              http: new AgentHttpClient(options.configTls),
              password: () => credentials.password,
              log,
              signal,
            },
            { cert: String(options.brokerTls.cert), key: String(options.brokerTls.key) },
          );
    const brokerTls = { ...options.brokerTls, ...this.#renewal?.identity };
    this.#forwarder = new Forwarder({
      ...options,
      brokerTls,
      password: credentials.password,
      onCommand,
      log,
      signal,
    });
    this.#config = new ConfigPoller({
      ...options,
      password: () => credentials.password,
      longPollSeconds: options.longPollSeconds ?? 30,
      signal,
    });
  }

  get stats(): AgentStats {
    const frames = this.#frames?.stats;
    return {
      ...this.#forwarder.stats,
      configVersion: this.#config.config?.version,
      logs: this.#logs.stats,
      ...(frames === undefined ? {} : { frames }),
    };
  }

  async start(): Promise<this> {
    const { birth, configUrl, brokerUrl, pollMs = 60_000, longPollSeconds = 30 } = this.#o;
    const silenceSeconds = Math.round(this.#readings.snapshotMs / 1000);
    this.#forwarder.send({ kind: 'birth', seq: 0, ts: Date.now(), boot: this.#boot, birth, silenceSeconds });
    // An update the last run left (journal): resumed, or rolled back, before any broker is reached.
    await this.#updater?.resume();
    this.#frames?.kick(); // what an earlier run left queued
    this.#logs.start();
    if (configUrl)
      await this.pollConfig().catch((err: unknown) =>
        this.#log.warn({ err }, 'configuration not reachable; using the last known broker'),
      );
    if (this.#forwarder.stats.brokerUrl === undefined && brokerUrl)
      await this.#forwarder.connect(parseBroker(brokerUrl));
    const o = { signal: this.#stop.signal, log: this.#log, timers: this.#timers };
    if (configUrl) every(longPollSeconds > 0 ? Math.min(pollMs, 1000) : pollMs, () => this.pollConfig(), o);
    const health = new HealthProbe(this.#o.dataDir);
    const report = async () =>
      this.health(await health.measure(this.#readings.lastInput, this.#forwarder.stats.downlink));
    every((this.#config.config?.healthSeconds ?? 300) * 1000, report, o);
    return this;
  }

  /** A full status reading (litefcccore, every second): sent as changes, deadbands, snapshots. */
  status(reading: Status, now = Date.now()): void {
    this.#readings.status(reading, now);
  }

  /** The vision state (elenet): sent as start/end events. */
  vision(state: Vision, now = Date.now()): void {
    this.#readings.vision(state, now);
  }

  /** An alarm starting or ending (from litefcccore). */
  alarm(reading: AlarmReading, now = Date.now()): void {
    this.#readings.alarm(reading, now);
  }

  health(health: Health, now = Date.now()): void {
    this.#readings.health(health, now);
  }

  /** Today's JSON, as elenet and litefcccore send it to Kafka: translated, not forwarded. */
  legacy(json: string): void {
    this.#readings.legacy(json);
  }

  /**
   * Polls the configuration once (If-None-Match); applies a new broker. New credentials are saved
   * and used for the next poll at once — the service's answer to it confirms them — and then for a
   * new broker connection, which takes over from the old one without losing what is queued.
   */
  async pollConfig(): Promise<void> {
    const config = await this.#config.poll();
    const parts = { readings: this.#readings, forwarder: this.#forwarder, logs: this.#logs, log: this.#log };
    if (config !== undefined) await applyConfig(config, parts);
    const rotated = this.#credentials.adopt(config?.credentials);
    if (rotated) {
      await this.#config.poll({ hold: false });
      const broker = this.#forwarder.broker;
      this.#forwarder.useCredentials({ password: this.#credentials.password });
      if (this.#credentials.takeBrokerSwitch() && broker !== undefined) await this.#forwarder.connect(broker);
    }
    await this.#renewIfDue(rotated);
  }

  /** A new certificate when two thirds of the current one's life have passed, or after a rotation. */
  async #renewIfDue(rotated: boolean): Promise<void> {
    if (this.#renewal === undefined || !this.#renewal.due(Date.now(), rotated)) return;
    const identity = await this.#renewal.renew().catch((err: unknown) => {
      this.#log.warn({ err }, 'certificate not renewed; the current one still works, trying again later');
      return undefined;
    });
    if (identity === undefined) return;
    this.#forwarder.useCredentials({ brokerTls: { ...this.#o.brokerTls, ...identity } });
    const broker = this.#forwarder.broker;
    if (broker !== undefined) await this.#forwarder.connect(broker);
  }

  /** The A/B updater (undefined without `updates`). */
  get updater(): Updater | undefined {
    return this.#updater;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    for (const t of this.#timers) clearTimeout(t);
    await this.#updater?.running;
    await this.#logs.close();
    await this.#forwarder.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
