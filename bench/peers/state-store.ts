/**
 * The peers' edge states in Redis, the way a team would keep them beside BullMQ or a Kafka
 * consumer: a hash per edge (`v` version, `s` state JSON), the offline timers in a sorted set and
 * emitted events in an outbox stream — the effects DeviceHub commits with a checkpoint. Also the
 * context the handler gets (it collects those effects) and every key name of the peers bench.
 */
import { readFileSync } from 'node:fs';
import type { ActorContext, OutboxEvent } from '../../actors/mod.ts';
import { silentLogger } from '../../actors/mod.ts';
import type { Redis } from '../../bus/mod.ts';
import { initialPeerState, type PeerState } from './measure.ts';

export type PeerSystem = 'devicehub' | 'bullmq' | 'kafka-consumer';

/** Every key, queue and topic name of the peers bench (its own, outside the hub's keyspace). */
export const peerKeys = {
  state: (system: PeerSystem, edgeId: string) => `peers:${system}:state:${edgeId}`,
  timers: (system: PeerSystem) => `peers:${system}:timers`,
  outbox: (system: PeerSystem) => `peers:${system}:outbox`,
  /** DeviceHub's keyspace prefix and the edges' actor addresses. */
  hubPrefix: 'peers',
  address: (edgeId: string) => `peer/${edgeId}`,
  bullPrefix: 'peers-bull',
  queue: 'telemetry',
  topic: 'peers-telemetry',
  group: 'peers-consumers',
} as const;

export const peerEdgeId = (i: number) => `E-${String(i).padStart(6, '0')}`;

/** What one handler call did besides its state: the offline timer's due time, outbox events. */
export interface Effects {
  timerDue: number | undefined;
  readonly events: OutboxEvent[];
}

/** A handler context outside DeviceHub: the effects are collected, to be written with the state. */
export function peerContext(edgeId: string, o: { now: number; enqueuedAt: number; messageId: string }) {
  const effects: Effects = { timerDue: undefined, events: [] };
  const ctx: ActorContext = {
    address: peerKeys.address(edgeId),
    id: edgeId,
    messageId: o.messageId,
    enqueuedAt: o.enqueuedAt,
    now: o.now,
    epoch: 0,
    log: silentLogger,
    setTimer: (_name, delayMs) => {
      effects.timerDue = o.now + delayMs;
    },
    cancelTimer: () => {
      effects.timerDue = undefined;
    },
    emit: (event) => void effects.events.push({ at: o.now, edgeId, ...event }),
    publish: (event) => void effects.events.push({ at: o.now, edgeId, ...event }),
    send: () => {},
  };
  return { ctx, effects };
}

const APPLY_LUA = readFileSync(new URL('./apply-state.lua', import.meta.url), 'utf8');

interface WithApply {
  peerApply(...args: (string | number)[]): Promise<number>;
}

/** A state as read: its version (0: none yet) and the state. */
export interface Versioned {
  readonly v: number;
  readonly state: PeerState;
}

export class StateStore {
  readonly #redis: Redis;
  readonly #system: PeerSystem;

  constructor(redis: Redis, system: PeerSystem) {
    this.#redis = redis;
    this.#system = system;
    redis.defineCommand('peerApply', { numberOfKeys: 3, lua: APPLY_LUA });
  }

  /** The edges' states, in one round trip. */
  async read(edgeIds: readonly string[]): Promise<Versioned[]> {
    const pipeline = this.#redis.pipeline();
    for (const id of edgeIds) pipeline.hmget(peerKeys.state(this.#system, id), 'v', 's');
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, reply], i) => {
      if (error) throw error;
      const [v, s] = reply as [string | null, string | null];
      return {
        v: Number(v ?? 0),
        state: s === null ? initialPeerState(edgeIds[i]!) : (JSON.parse(s) as PeerState),
      };
    });
  }

  /** Writes one edge's state and effects if its version is still `v` (apply-state.lua). */
  async compareAndSet(edgeId: string, v: number, state: PeerState, effects: Effects): Promise<boolean> {
    const s = this.#system;
    const written = await (this.#redis as unknown as WithApply).peerApply(
      peerKeys.state(s, edgeId),
      peerKeys.timers(s),
      peerKeys.outbox(s),
      v,
      JSON.stringify(state),
      edgeId,
      effects.timerDue ?? '',
      ...effects.events.map((e) => JSON.stringify(e)),
    );
    return written === 1;
  }

  /** Writes several edges' states and effects in one MULTI (a Kafka batch: one writer per partition). */
  async writeAll(
    writes: readonly { edgeId: string; v: number; state: PeerState; effects: Effects }[],
  ): Promise<void> {
    const s = this.#system;
    const multi = this.#redis.multi();
    for (const w of writes) {
      multi.hset(peerKeys.state(s, w.edgeId), 'v', w.v + 1, 's', JSON.stringify(w.state));
      if (w.effects.timerDue !== undefined) multi.zadd(peerKeys.timers(s), w.effects.timerDue, w.edgeId);
      for (const e of w.effects.events)
        multi.xadd(peerKeys.outbox(s), 'MAXLEN', '~', 10000, '*', 'e', JSON.stringify(e));
    }
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error !== null);
    if (replies === null || failed !== undefined)
      throw failed?.[0] ?? new Error('peers: the state MULTI was discarded');
  }
}
