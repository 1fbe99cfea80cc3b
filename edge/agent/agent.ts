/**
 * The on-device agent (Node 22 on the RV1126, armv7l, little memory). elenet and litefcccore hand
 * it their data on a local HTTP endpoint (today's JSON, or canonical values); it sends the compact
 * format over MQTT with its own credentials (or Kafka, keyed by its id), keeps what the broker has
 * not acknowledged in a bounded on-disk queue, polls its configuration (ETag) and moves to another
 * broker or transport when told, without losing what it buffered.
 */
import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import { freemem, uptime } from 'node:os';
import {
  type Birth,
  type CompactMessage,
  type DownlinkCommand,
  decodeLegacy,
  encodeCompact,
  type Health,
  type Status,
  StatusEncoder,
  UPLINK_QOS,
  uplinkTopic,
  type Vision,
} from '../protocol/mod.ts';
import { DiskQueue } from './disk-queue.ts';
import { AgentError } from './errors.ts';
import { type Logger, silentLogger } from './logger.ts';
import {
  type BrokerConfig,
  brokerName,
  type DownlinkState,
  openUplink,
  parseBroker,
  type Uplink,
  type UplinkOptions,
} from './uplink.ts';

/** What `GET /v1/config/edge/{edgeId}` returns (the gateway, `gateway/routes/config.ts`). */
export interface EdgeConfig {
  readonly version?: number;
  readonly broker?: BrokerConfig;
  readonly snapshotSeconds?: number;
  readonly healthSeconds?: number;
}

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
  readonly pollMs?: number;
  /**
   * Ask the configuration service to hold each poll this long until something changes
   * (`?wait=`; default 30): a change reaches the edge at once, and polls then follow each other
   * after at most a second instead of `pollMs`. 0 turns long-polling off.
   */
  readonly longPollSeconds?: number;
  readonly maxQueueBytes?: number;
  /** What the agent can do when the hub asks: command type → executor (the tunnel executor is issue 5). */
  readonly executors?: Readonly<Record<string, CommandExecutor>>;
  /** Backoff of a refused downlink subscription (default 1 s doubling to 60 s; `UplinkOptions`). */
  readonly downlinkRetry?: UplinkOptions['downlinkRetry'];
  readonly logger?: Logger;
}

/** Runs one command; the signal aborts at the command's deadline. Its value is the result. */
export type CommandExecutor = (
  args: Readonly<Record<string, unknown>>,
  signal: AbortSignal,
) => Promise<unknown>;

export interface AgentStats {
  sent: number;
  queued: number;
  dropped: number;
  brokerUrl: string | undefined;
  configVersion: number | undefined;
  /** The downlink subscription on the current broker (undefined before the first connection). */
  downlink: DownlinkState | undefined;
}

export class EdgeAgent implements AsyncDisposable {
  readonly #o: EdgeAgentOptions;
  readonly #log: Logger;
  readonly #queue: DiskQueue;
  readonly #boot = randomBytes(4).toString('hex');
  readonly #stop = new AbortController();
  #encoder = new StatusEncoder();
  #seq = 0;
  #uplink: Uplink | undefined;
  #brokerUrl: string | undefined;
  #pumping = false;
  #etag: string | undefined;
  #config: EdgeConfig | undefined;
  #vision: Vision = { ebike: false, doorBlocked: false };
  /** When each program last handed the agent something (its liveness in health reports). */
  readonly #lastInput = { elenet: 0, litefcccore: 0 };
  #cpu = process.cpuUsage();
  #cpuAt = Date.now();
  #sent = 0;
  #timers: ReturnType<typeof setTimeout>[] = [];
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Command ids already taken (a redelivered command runs once). */
  readonly #seenCommands = new Set<string>();
  /** Highest fencing epoch seen from the hub: a command from a stale owner is ignored. */
  #epoch = 0;
  /** Clients still trying to reach their broker (ended on stop). */
  readonly #connecting = new Set<{ end(force?: boolean): unknown }>();

  constructor(options: EdgeAgentOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ edgeId: options.edgeId });
    this.#queue = new DiskQueue(options.dataDir, { maxBytes: options.maxQueueBytes });
  }

  get #longPoll(): number {
    return this.#o.longPollSeconds ?? 30;
  }

  get stats(): AgentStats {
    return {
      sent: this.#sent,
      queued: this.#queue.length,
      dropped: this.#queue.dropped,
      brokerUrl: this.#brokerUrl,
      configVersion: this.#config?.version,
      downlink: this.#uplink === undefined ? undefined : { ...this.#uplink.downlink },
    };
  }

  async start(): Promise<this> {
    this.#send({
      kind: 'birth',
      seq: 0,
      ts: Date.now(),
      boot: this.#boot,
      birth: this.#o.birth,
      silenceSeconds: Math.round(this.#encoder.snapshotMs / 1000),
    });
    if (this.#o.configUrl)
      await this.pollConfig().catch((err: unknown) =>
        this.#log.warn({ err }, 'configuration not reachable; using the last known broker'),
      );
    if (this.#brokerUrl === undefined && this.#o.brokerUrl)
      await this.#connect(parseBroker(this.#o.brokerUrl));
    if (this.#o.configUrl) {
      const pollMs = this.#o.pollMs ?? 60_000;
      this.#every(this.#longPoll > 0 ? Math.min(pollMs, 1000) : pollMs, () => this.pollConfig());
    }
    this.#every((this.#config?.healthSeconds ?? 300) * 1000, async () =>
      this.health(await this.#ownHealth()),
    );
    return this;
  }

  // ── Inputs ────────────────────────────────────────────────────────────────────────────────

  /** A full status reading (litefcccore, every second): sent as changes, deadbands, snapshots. */
  status(reading: Status, now = Date.now()): void {
    this.#lastInput.litefcccore = now;
    const update = this.#encoder.next(reading, now);
    if (update)
      this.#send({ kind: 'status', seq: 0, ts: now, snapshot: update.snapshot, status: update.status });
  }

  /** The vision state (elenet): sent as start/end events. */
  vision(state: Vision, now = Date.now()): void {
    this.#lastInput.elenet = now;
    for (const event of ['ebike', 'doorBlocked'] as const) {
      if (state[event] !== this.#vision[event])
        this.#send({ kind: 'vision', seq: 0, ts: now, event, active: state[event] });
    }
    this.#vision = { ...state };
  }

  alarm(alarm: string, phase: 'start' | 'end', floor: number, now = Date.now()): void {
    this.#send({ kind: 'alarm', seq: 0, ts: now, alarm, phase, floor });
  }

  health(health: Health, now = Date.now()): void {
    this.#send({ kind: 'health', seq: 0, ts: now, health });
  }

  /** Today's JSON, as elenet and litefcccore send it to Kafka: translated, not forwarded. */
  legacy(json: string): void {
    for (const m of decodeLegacy(json, this.#o.edgeId)) {
      if (m.method === 'commandResult') continue; // legacy edges send none
      const ts = m.payload.ts ?? Date.now();
      if (m.method === 'alarm') {
        this.alarm(m.payload.alarm, m.payload.phase, Number(m.payload.data?.floor ?? 0), ts);
      } else if (m.payload.kind === 'status') {
        this.status(m.payload.data as unknown as Status, ts);
      } else if (m.payload.kind === 'vision') {
        this.vision(m.payload.data as unknown as Vision, ts);
      } else if (m.payload.kind === 'heartbeat') {
        this.health(m.payload.data as unknown as Health, ts);
      }
    }
  }

  // ── Configuration ─────────────────────────────────────────────────────────────────────────

  /** Polls the configuration once (If-None-Match); applies a new broker. */
  async pollConfig(): Promise<void> {
    const wait = this.#etag === undefined ? 0 : this.#longPoll;
    const url = `${this.#o.configUrl}/v1/config/edge/${encodeURIComponent(this.#o.edgeId)}${wait > 0 ? `?wait=${wait}` : ''}`;
    const headers: Record<string, string> = {
      authorization: `Basic ${Buffer.from(`${this.#o.edgeId}:${this.#o.password}`).toString('base64')}`,
    };
    if (this.#etag) headers['if-none-match'] = this.#etag;
    const response = await fetch(url, {
      headers,
      signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout((wait + 10) * 1000)]),
    });
    if (response.status === 304) return;
    if (!response.ok)
      throw new AgentError('CONFIG_UNAVAILABLE', `configuration: HTTP ${response.status} from ${url}`);
    const config = (await response.json()) as EdgeConfig;
    this.#etag = response.headers.get('etag') ?? undefined;
    this.#config = config;
    if (config.snapshotSeconds)
      this.#encoder = new StatusEncoder({ snapshotMs: config.snapshotSeconds * 1000 });
    if (config.broker !== undefined && brokerName(config.broker) !== this.#brokerUrl) {
      this.#log.info(
        { from: this.#brokerUrl, to: brokerName(config.broker), version: config.version },
        'switching broker',
      );
      await this.#connect(config.broker);
    }
  }

  /** The box's own health: uptime, CPU of the agent, free memory and disk, the programs' liveness. */
  async #ownHealth(): Promise<Health> {
    const now = Date.now();
    const cpu = process.cpuUsage(this.#cpu);
    const cpuPercent = Math.round(((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.#cpuAt)) * 100);
    this.#cpu = process.cpuUsage();
    this.#cpuAt = now;
    const disk = await statfs(this.#o.dataDir).catch(() => undefined);
    const alive = (at: number) => now - at < 60_000;
    return {
      uptimeSeconds: Math.round(uptime()),
      cpuPercent,
      memoryFreeMb: Math.round(freemem() / 2 ** 20),
      diskFreeMb: disk ? Math.round((disk.bavail * disk.bsize) / 2 ** 20) : 0,
      elenetAlive: alive(this.#lastInput.elenet),
      litefcccoreAlive: alive(this.#lastInput.litefcccore),
      downlinkSubscribed: this.#uplink?.downlink.subscribed ?? false,
      downlinkFailures: this.#uplink?.downlink.failures ?? 0,
    };
  }

  // ── Commands ──────────────────────────────────────────────────────────────────────────────

  async #command(payload: Buffer): Promise<void> {
    let command: DownlinkCommand;
    try {
      command = JSON.parse(payload.toString('utf8')) as DownlinkCommand;
      if (typeof command.id !== 'string' || typeof command.type !== 'string')
        throw new AgentError('UNREADABLE_COMMAND', 'no id or type');
    } catch (err) {
      this.#log.warn({ err }, 'unreadable command ignored');
      return;
    }
    if (this.#seenCommands.has(command.id)) return;
    if (command.epoch < this.#epoch) {
      this.#log.warn(
        { commandId: command.id, epoch: command.epoch, seen: this.#epoch },
        'command from a stale hub owner ignored',
      );
      return;
    }
    this.#epoch = command.epoch;
    this.#seenCommands.add(command.id);
    if (this.#seenCommands.size > 1000)
      this.#seenCommands.delete(this.#seenCommands.values().next().value as string);
    const reply = (ok: boolean, value?: { result?: unknown; error?: string }) =>
      this.#send({ kind: 'result', seq: 0, ts: Date.now(), id: command.id, ok, ...value });
    const executor = this.#o.executors?.[command.type];
    if (executor === undefined) return reply(false, { error: `no executor for "${command.type}"` });
    const left = command.deadline - Date.now();
    if (left <= 0) return reply(false, { error: 'deadline passed' });
    try {
      reply(true, { result: await executor(command.args ?? {}, AbortSignal.timeout(left)) });
    } catch (error) {
      reply(false, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  // ── Sending ───────────────────────────────────────────────────────────────────────────────

  #send(message: CompactMessage): void {
    const withSeq = { ...message, seq: ++this.#seq } as CompactMessage;
    this.#queue.push({
      topic: uplinkTopic(this.#o.edgeId, message.kind),
      qos: UPLINK_QOS[message.kind],
      payload: encodeCompact(withSeq),
    });
    void this.#pump();
  }

  /** Connects to `broker`; once connected it becomes the broker, and the previous one is closed. */
  async #connect(broker: BrokerConfig): Promise<void> {
    const uplink = await openUplink(broker, {
      edgeId: this.#o.edgeId,
      password: this.#o.password,
      onCommand: (payload) => void this.#command(payload),
      onConnect: () => void this.#pump(),
      log: this.#log,
      pending: this.#connecting,
      downlinkRetry: this.#o.downlinkRetry,
    });
    const previous = this.#uplink;
    this.#uplink = uplink;
    this.#brokerUrl = brokerName(broker);
    if (previous) void previous.close().catch(() => {});
    void this.#pump();
  }

  /** Sends the queue's head until it is empty or the broker is gone, in order. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        const uplink = this.#uplink;
        const head = this.#queue.peek();
        if (!uplink?.connected || head === undefined || this.#stop.signal.aborted) return;
        try {
          await uplink.send(head);
        } catch (err) {
          this.#log.warn({ err }, 'send failed; keeping the message, trying again shortly');
          this.#retry ??= setTimeout(() => {
            this.#retry = undefined;
            void this.#pump();
          }, 1000);
          return;
        }
        if (uplink !== this.#uplink && head.qos === 0) continue; // switched mid-send: send again on the new broker
        this.#queue.shift();
        this.#sent++;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #every(ms: number, fn: () => Promise<void>): void {
    const run = async () => {
      await fn().catch((err: unknown) => this.#log.warn({ err }, 'periodic task failed'));
      if (!this.#stop.signal.aborted) this.#timers.push(setTimeout(run, ms));
    };
    this.#timers.push(setTimeout(run, ms));
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    for (const t of this.#timers) clearTimeout(t);
    clearTimeout(this.#retry);
    for (const c of this.#connecting) c.end(true);
    await this.#uplink?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
