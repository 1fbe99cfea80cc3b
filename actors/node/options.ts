/**
 * A hub node's options, their defaults and their checks, and the hooks a harness may inject
 * (e.g. the failover benchmark's resume probe) without a branch for it in the node.
 */
import { randomUUID } from 'node:crypto';
import type { Bus, Granted } from '../../bus/mod.ts';
import type { ActorDefinition } from '../define.ts';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { HandledMessage } from '../turn/mod.ts';

/** Observers a harness injects; they run inside the node's work, so they must be cheap and not throw. */
export interface HubNodeHooks {
  /** Leases this node was just granted, each with the node it took it from ('' when none). */
  readonly acquired?: (granted: readonly Granted[]) => void;
  /** After each handled message (not for dead-lettered ones), inside the turn. */
  readonly handled?: (message: HandledMessage) => void;
}

export interface HubNodeOptions {
  /** The bus the node works on (its connection and keyspace); the caller closes its connection. */
  readonly bus: Bus;
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
  /**
   * How often the held mailboxes are trimmed of acknowledged entries and idle actors passivated
   * (default 1000 ms; the trim runs in chunks of TRIM_CHUNK_STREAMS mailboxes, decision 060).
   */
  readonly trimIntervalMs?: number;
  /**
   * How often a turn reads every held shard instead of only those marked ready (default 1000 ms):
   * finds entries appended without the ready signal (e.g. by hand with XADD).
   */
  readonly sweepIntervalMs?: number;
  readonly statsIntervalMs?: number;
  /** Observers of placement and turns (benchmarks, tests); none by default. */
  readonly hooks?: HubNodeHooks;
  /**
   * Longest wait of a graceful stop for its hand-off (default `leaseMs`: by then the leases have
   * expired and the other nodes take the shards anyway, and a late commit would be fenced). Past
   * it, `stop` resolves saying which shards it still held (e.g. Redis is gone).
   */
  readonly stopTimeoutMs?: number;
  /** Run the mail relay (`ctx.send` between actors; default true). */
  readonly mailRelay?: boolean;
  readonly signal?: AbortSignal;
}

/** The node's timings and limits, defaults filled in. */
export type NodeSettings = Required<
  Omit<HubNodeOptions, 'bus' | 'actors' | 'nodeId' | 'logger' | 'signal' | 'hooks'>
>;

/** The options' settings with their defaults, checked; throws a ConfigError naming the bad value. */
export function nodeSettings(options: HubNodeOptions): NodeSettings {
  const {
    leaseMs = 1500,
    tickMs = 250,
    readCount = 100,
    maxAttempts = 3,
    idleMs = 300_000,
    timerIntervalMs = 200,
    turnIntervalMs = 20,
    checkpointMs = 5000,
    trimIntervalMs = 1000,
    sweepIntervalMs = 1000,
    statsIntervalMs = 1000,
    stopTimeoutMs = leaseMs,
    mailRelay = true,
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
  return {
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
    stopTimeoutMs,
    mailRelay,
  };
}

/** The node's id: the one given (checked) or `node-<random>`. */
export function nodeIdOf(options: HubNodeOptions): string {
  const id = options.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
    throw new ConfigError(`Cannot start hub node: invalid nodeId "${id}"`);
  return id;
}

/** The actor definitions by type; a type given twice is a ConfigError. */
export function definitionsOf(actors: HubNodeOptions['actors']): Map<string, ActorDefinition> {
  const definitions = new Map<string, ActorDefinition>();
  for (const definition of actors) {
    if (definitions.has(definition.type))
      throw new ConfigError(`Cannot start hub node: actor type "${definition.type}" registered twice`);
    definitions.set(definition.type, definition);
  }
  return definitions;
}
