/**
 * A hub node: joins the cluster, takes the leases of the shards the hash ring gives it, runs
 * turns over their mailboxes, fires their durable timers, trims what is done, and hands its
 * shards off when the ring changes or when it stops.
 *
 *   await using node = await startHubNode({ redis, keyspace, actors: [counter] });
 *
 * Timing (defaults): heartbeat and lease maintenance every `tickMs` = 250 ms; a node counts as
 * dead and its leases expire `leaseMs` = 1500 ms after its last heartbeat/renewal. A node that
 * misses that deadline (paused, partitioned) is fenced: its commits are refused.
 */
import { randomUUID } from 'node:crypto';
import {
  CONSUMER_GROUP,
  claimPending,
  ensureLayout,
  execOrThrow,
  groupByTag,
  type Keyspace,
  type MailboxEntry,
  openPipeline,
  type Redis,
  runScript,
  shardMask,
  toError,
} from '../bus/mod.ts';
import { type ActorSlot, ActorTable } from './actor-table.ts';
import type { ActorDefinition } from './define.ts';
import { ConfigError } from './errors.ts';
import { Histogram, type HistogramJSON } from './histogram.ts';
import { acquireLeases, releaseLeases, renewLeases } from './leases.ts';
import { type Logger, silentLogger } from './logger.ts';
import { heartbeat, leave } from './membership.ts';
import { HashRing } from './ring.ts';
import { checkpointShards, runTurn, type TurnOptions, type TurnView, turnView } from './turn.ts';

export interface HubNodeOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any state and handler types
  readonly actors: readonly ActorDefinition<any, any, any>[];
  readonly nodeId?: string;
  readonly logger?: Logger;
  readonly leaseMs?: number;
  readonly tickMs?: number;
  /** Most entries read per shard per turn. */
  readonly readCount?: number;
  /** Attempts of a failing handler before its message is dead-lettered. */
  readonly maxAttempts?: number;
  /**
   * Longest time an actor's applied messages wait before its state is checkpointed to Redis
   * (default 5000 ms). Messages with effects (timers, outbox events) checkpoint at once. Until
   * the checkpoint they stay pending in the mailbox and a new owner replays them.
   */
  readonly checkpointMs?: number;
  /** Actors idle this long are passivated (dropped from memory). */
  readonly idleMs?: number;
  readonly timerIntervalMs?: number;
  /**
   * Shortest time between the starts of two turns (default 20 ms). Batching a few ms of
   * messages into one read and one commit costs that much latency and saves most of the
   * per-turn overhead; 0 reads again as soon as a turn is done.
   */
  readonly turnIntervalMs?: number;
  readonly trimIntervalMs?: number;
  /**
   * How often a turn reads every held shard instead of only those marked ready (default 1000 ms):
   * finds entries appended without the ready signal (e.g. by hand with XADD).
   */
  readonly sweepIntervalMs?: number;
  readonly statsIntervalMs?: number;
  /** Record each actor's first handled message after a takeover (failover benchmark). */
  readonly traceResume?: boolean;
  /**
   * Longest wait of a graceful stop for its hand-off (default `leaseMs`: by then the leases have
   * expired and the other nodes take the shards anyway, and a late commit would be fenced). Past
   * it, `stop` resolves saying which shards it still held (e.g. Redis is gone).
   */
  readonly stopTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What a graceful stop did: the shards it handed back, and those it could not. */
export interface HubNodeStopped {
  readonly released: number;
  /** Shards whose leases were not released (they move when the leases expire); empty when all were. */
  readonly stillHeld: readonly number[];
}

export interface NodeStats {
  readonly node: string;
  readonly pid: number;
  readonly at: number;
  readonly shards: number;
  readonly actors: number;
  readonly read: number;
  readonly handled: number;
  readonly deadLettered: number;
  readonly duplicatesSkipped: number;
  readonly fencedCommits: number;
  readonly turns: number;
  readonly cpuMicros: number;
  readonly rssBytes: number;
  readonly latencyMs: HistogramJSON;
}

interface Owned {
  readonly shard: number;
  readonly epoch: number;
  /** `>` for new entries, or the history cursor while replaying pending entries. */
  from: string;
  releasing: boolean;
}

export class HubNode implements AsyncDisposable {
  readonly id: string;
  readonly #redis: Redis;
  readonly #keyspace: Keyspace;
  readonly #log: Logger;
  readonly #definitions: Map<string, ActorDefinition>;
  readonly #actors: ActorTable;
  readonly #owned = new Map<number, Owned>();
  readonly #latency = new Histogram();
  readonly #opts: Required<
    Omit<HubNodeOptions, 'redis' | 'keyspace' | 'actors' | 'nodeId' | 'logger' | 'signal'>
  >;
  readonly #turnOptions: TurnOptions;
  readonly #stop = new AbortController();
  readonly #timeouts = new Set<ReturnType<typeof setTimeout>>();
  #members: readonly string[] = [];
  #ring: { key: string; shards: Set<number> } | undefined;
  #loop: Promise<void> | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  #wake: (() => void) | undefined;
  #tickRunning: Promise<void> | undefined;
  #nextSweep = 0;
  /** What the next turn reads; rebuilt after any change of the held shards. */
  #view: TurnView | undefined;
  #stopped: Promise<HubNodeStopped> | undefined;
  #traced = new Set<number>();
  #tracedAddresses = new Set<string>();
  #counters = { read: 0, handled: 0, deadLettered: 0, duplicatesSkipped: 0, fencedCommits: 0, turns: 0 };

  constructor(options: HubNodeOptions) {
    const {
      leaseMs = 1500,
      tickMs = 250,
      readCount = 100,
      maxAttempts = 3,
      idleMs = 300_000,
      timerIntervalMs = 200,
      turnIntervalMs = 20,
      checkpointMs = 5000,
      trimIntervalMs = 5000,
      sweepIntervalMs = 1000,
      statsIntervalMs = 1000,
      traceResume = false,
      stopTimeoutMs = leaseMs,
    } = options;
    if (!(tickMs > 0 && leaseMs >= 3 * tickMs)) {
      throw new ConfigError(
        `Cannot start hub node: leaseMs must be ≥ 3 × tickMs, got leaseMs=${leaseMs} tickMs=${tickMs}`,
      );
    }
    for (const [name, value] of Object.entries({ readCount, maxAttempts })) {
      if (!Number.isInteger(value) || value < 1)
        throw new ConfigError(`Cannot start hub node: ${name} must be an integer ≥ 1, got ${value}`);
    }
    this.id = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(this.id))
      throw new ConfigError(`Cannot start hub node: invalid nodeId "${this.id}"`);
    this.#redis = options.redis;
    this.#keyspace = options.keyspace;
    this.#log = (options.logger ?? silentLogger).child({ nodeId: this.id });
    this.#definitions = new Map();
    for (const definition of options.actors) {
      if (this.#definitions.has(definition.type))
        throw new ConfigError(`Cannot start hub node: actor type "${definition.type}" registered twice`);
      this.#definitions.set(definition.type, definition);
    }
    this.#actors = new ActorTable(this.#keyspace, this.#log);
    this.#opts = {
      leaseMs,
      tickMs,
      readCount,
      maxAttempts,
      idleMs,
      timerIntervalMs,
      turnIntervalMs,
      checkpointMs,
      trimIntervalMs,
      sweepIntervalMs,
      statsIntervalMs,
      traceResume,
      stopTimeoutMs,
    };
    this.#turnOptions = {
      redis: this.#redis,
      keyspace: this.#keyspace,
      nodeId: this.id,
      definitions: this.#definitions,
      actors: this.#actors,
      log: this.#log,
      latencyMs: this.#latency,
      readCount,
      maxAttempts,
      checkpointMs,
      onHandled: traceResume ? (slot, entry, now) => this.#trace(slot, entry, now) : undefined,
    };
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Joins the cluster and starts working; resolves after the first placement round. */
  async start(): Promise<this> {
    await ensureLayout(this.#redis, this.#keyspace);
    await this.#tick();
    this.#loop = this.#runLoop();
    this.#every(this.#opts.tickMs, () => this.#tick());
    this.#every(this.#opts.timerIntervalMs, () => this.#fireTimers());
    this.#every(this.#opts.trimIntervalMs, () => this.#trim());
    this.#every(this.#opts.statsIntervalMs, () => this.#publishStats());
    this.#log.info({ shards: this.#owned.size, members: this.#members }, 'hub node started');
    return this;
  }

  /**
   * Graceful stop: finish the turn in flight, commit, hand every shard back, leave — within
   * `stopTimeoutMs`; what was not handed back by then is logged and returned.
   */
  async stop(): Promise<void> {
    await this.stopWithReport();
  }

  /** `stop`, resolving to what it handed back and what it could not. */
  stopWithReport(): Promise<HubNodeStopped> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  get ownedShards(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  get members(): readonly string[] {
    return this.#members;
  }

  stats(): NodeStats {
    const cpu = process.cpuUsage();
    return {
      node: this.id,
      pid: process.pid,
      at: Date.now(),
      shards: this.#owned.size,
      actors: this.#actors.size,
      ...this.#counters,
      cpuMicros: cpu.user + cpu.system,
      rssBytes: process.memoryUsage.rss(),
      latencyMs: this.#latency.toJSON(),
    };
  }

  async #shutdown(): Promise<HubNodeStopped> {
    this.#stop.abort();
    for (const t of this.#timeouts) clearTimeout(t);
    this.#wake?.();
    const held = [...this.#owned.values()];
    let step = 'finishing the turn in flight';
    const handOff = async () => {
      await this.#loop;
      await this.#tickRunning;
      step = 'checkpointing';
      await checkpointShards(this.#turnOptions, held);
      step = 'releasing leases';
      await releaseLeases(this.#redis, this.#keyspace, this.id, held);
      step = 'leaving';
      await leave(this.#redis, this.#keyspace, this.id);
      await this.#publishStats();
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      handOff().then(
        () => undefined,
        (error: unknown) => toError(error),
      ),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.#opts.stopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#owned.clear();
    if (outcome === undefined) {
      this.#log.info({ released: held.length }, 'hub node stopped');
      return { released: held.length, stillHeld: [] };
    }
    // Before the release, every shard is still held; after it (only `leave` failed), none is.
    const released = step === 'leaving';
    const stillHeld = released ? [] : held.map((o) => o.shard).sort((a, b) => a - b);
    this.#log.warn(
      {
        ...(outcome === 'timeout' ? { timeoutMs: this.#opts.stopTimeoutMs } : { err: outcome }),
        step,
        shardsStillHeld: stillHeld.length,
        shards: stillHeld,
      },
      `hub node stopped without handing off ${stillHeld.length} shard(s) (${outcome === 'timeout' ? `still ${step} after ${this.#opts.stopTimeoutMs} ms` : `failed while ${step}`}); they move to other nodes when the leases expire`,
    );
    return { released: released ? held.length : 0, stillHeld };
  }

  #every(ms: number, fn: () => Promise<void>): void {
    const run = async () => {
      if (this.#stop.signal.aborted) return;
      try {
        await fn();
      } catch (error) {
        this.#log.warn({ err: toError(error) }, 'periodic task failed; retrying');
      }
      if (!this.#stop.signal.aborted) this.#timeouts.add(setTimeout(run, ms));
    };
    this.#timeouts.add(setTimeout(run, ms));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #runLoop(): Promise<void> {
    let idleMs = 1;
    while (!this.#stop.signal.aborted) {
      this.#view ??= turnView(
        this.#keyspace,
        [...this.#owned.values()].filter((o) => !o.releasing),
      );
      const view = this.#view;
      const shards = view.shards as Owned[];
      if (shards.length === 0) {
        await this.#sleep(50);
        continue;
      }
      const startedAt = Date.now();
      const sweep = startedAt >= this.#nextSweep;
      if (sweep) this.#nextSweep = startedAt + this.#opts.sweepIntervalMs;
      const turn = runTurn(this.#turnOptions, view, sweep);
      this.#turn = turn.catch(() => {});
      try {
        const result = await turn;
        this.#counters.turns++;
        this.#counters.read += result.read;
        this.#counters.handled += result.handled;
        this.#counters.deadLettered += result.deadLettered;
        this.#counters.duplicatesSkipped += result.duplicatesSkipped;
        const used = view.byShard as ReadonlyMap<number, Owned>;
        for (const [shard, from] of result.cursors) used.get(shard)!.from = from;
        if (result.cursors.size > 0 || result.fenced.length > 0) this.#view = undefined;
        for (const shard of result.fenced) {
          this.#counters.fencedCommits++;
          this.#log.warn(
            { shard, epoch: used.get(shard)!.epoch },
            'commit fenced: lease lost; dropping the shard',
          );
          this.#actors.dropShard(shard);
          // Only if the shard was not taken again (with a new epoch) while the turn ran.
          if (this.#owned.get(shard) === used.get(shard)) this.#owned.delete(shard);
        }
        if (result.read === 0) {
          await this.#sleep(Math.max(idleMs, this.#opts.turnIntervalMs));
          idleMs = Math.min(idleMs * 2, 20);
        } else {
          idleMs = 1;
          const rest = this.#opts.turnIntervalMs - (Date.now() - startedAt);
          if (rest > 0) await this.#sleep(rest);
        }
      } catch (error) {
        // Nothing of this turn was committed: forget the in-memory state it touched and read
        // the shards' pending entries again.
        this.#log.error({ err: toError(error) }, 'turn failed; re-reading pending entries');
        for (const s of shards) {
          this.#actors.dropShard(s.shard);
          s.from = '0';
        }
        this.#view = undefined;
        await this.#sleep(100);
      }
    }
  }

  #drop(shard: number): void {
    this.#view = undefined;
    this.#owned.delete(shard);
    this.#actors.dropShard(shard);
  }

  async #tick(): Promise<void> {
    if (this.#tickRunning) return;
    this.#tickRunning = this.#placement().finally(() => {
      this.#tickRunning = undefined;
    });
    await this.#tickRunning;
  }

  async #placement(): Promise<void> {
    const { redis, id } = { redis: this.#redis, id: this.id };
    const view = await heartbeat(redis, this.#keyspace, id, this.#opts.leaseMs);
    this.#members = view.nodes;

    const held = [...this.#owned.values()];
    const lost = await renewLeases(redis, this.#keyspace, id, held, this.#opts.leaseMs);
    for (const shard of lost) {
      const owned = this.#owned.get(shard);
      if (owned !== undefined && held.some((h) => h.shard === shard && h.epoch === owned.epoch)) {
        this.#log.warn({ shard, epoch: owned.epoch }, 'lease lost; dropping the shard');
        this.#drop(shard);
      }
    }
    if (this.#stop.signal.aborted) return;

    const desired = this.#desiredShards(view.nodes);
    const toRelease = [...this.#owned.values()].filter((o) => !desired.has(o.shard) && !o.releasing);
    if (toRelease.length > 0) {
      for (const o of toRelease) o.releasing = true;
      this.#view = undefined;
      await this.#turn; // the turn in flight may hold entries of these shards: let it commit
      await checkpointShards(this.#turnOptions, toRelease);
      await releaseLeases(redis, this.#keyspace, id, toRelease);
      for (const o of toRelease) this.#drop(o.shard);
      this.#log.info({ shards: toRelease.length }, 'shards handed off');
    }

    const toAcquire = [...desired].filter((s) => !this.#owned.has(s));
    if (toAcquire.length > 0 && !this.#stop.signal.aborted) {
      const granted = await acquireLeases(redis, this.#keyspace, id, toAcquire, this.#opts.leaseMs);
      // Entries a dead or fenced owner read but never committed become ours; we read our
      // pending entries first, so the actors' order is kept across the move.
      await Promise.all(granted.map((g) => claimPending(redis, this.#keyspace, g.shard, id)));
      for (const g of granted) {
        this.#actors.dropShard(g.shard);
        this.#owned.set(g.shard, { shard: g.shard, epoch: g.epoch, from: '0', releasing: false });
        this.#view = undefined;
        if (this.#opts.traceResume && g.previous !== '') this.#traced.add(g.shard);
      }
      const takenOver = granted.filter((g) => g.previous !== '').length;
      if (granted.length > 0) this.#log.info({ shards: granted.length, takenOver }, 'shards acquired');
      this.#wake?.();
    }
  }

  #desiredShards(nodes: readonly string[]): Set<number> {
    const key = nodes.join(',');
    if (this.#ring?.key !== key) {
      const ring = new HashRing(nodes);
      this.#ring = { key, shards: new Set(ring.shardsOf(this.id, this.#keyspace.shards)) };
    }
    return this.#ring.shards;
  }

  async #fireTimers(): Promise<void> {
    const held = new Set([...this.#owned.values()].filter((o) => !o.releasing).map((o) => o.shard));
    if (held.size === 0) return;
    const mask = shardMask(this.#keyspace, held);
    const pipeline = openPipeline(this.#redis);
    for (const group of new Set([...held].map((s) => this.#keyspace.groupOf(s)))) {
      const ks = this.#keyspace;
      runScript(
        pipeline,
        'fire-timers',
        [ks.timers(group), ks.timerData(group), ks.ready(group)],
        [2000, mask, ks.mailboxTemplate(group)],
      );
    }
    let fired = 0;
    for (const n of await execOrThrow(pipeline)) fired += Number(n);
    if (fired > 0) this.#wake?.();
  }

  async #trim(): Promise<void> {
    const held = [...this.#owned.values()];
    const groups = [...groupByTag(this.#keyspace, held).values()];
    if (groups.length === 0) return;
    const pipeline = openPipeline(this.#redis);
    for (const list of groups) {
      runScript(
        pipeline,
        'trim',
        list.map((o) => this.#keyspace.shard(o.shard).mailbox),
        [CONSUMER_GROUP],
      );
    }
    await execOrThrow(pipeline);
    this.#actors.passivate(Date.now() - this.#opts.idleMs);
  }

  async #publishStats(): Promise<void> {
    await this.#redis.hset(this.#keyspace.nodeStats, this.id, JSON.stringify(this.stats()));
  }

  #trace(slot: ActorSlot, _entry: MailboxEntry, now: number): void {
    if (!this.#traced.has(slot.shard) || this.#tracedAddresses.has(slot.address)) return;
    this.#tracedAddresses.add(slot.address);
    void this.#redis.hset(this.#keyspace.traceResume, slot.address, now).catch(() => {});
  }
}

/** Creates and starts a hub node. */
export async function startHubNode(options: HubNodeOptions): Promise<HubNode> {
  return new HubNode(options).start();
}
