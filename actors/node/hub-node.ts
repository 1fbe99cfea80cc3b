/**
 * A hub node: joins the cluster, takes the leases of the shards the hash ring gives it, runs
 * turns over their mailboxes, fires their durable timers, trims what is done, relays the mail
 * actors send each other (`mail-relay.ts`), and hands its shards off when the ring changes or
 * when it stops. It composes its placement (`placement.ts`),
 * its turn loop (`turn-loop.ts`) and its upkeep (`upkeep.ts`) around the shards it holds.
 *
 *   await using node = await startHubNode({ bus: openBus({ redis, keyspace }), actors: [counter] });
 *
 * Timing (defaults): heartbeat and lease maintenance every `tickMs` = 250 ms; a node counts as
 * dead and its leases expire `leaseMs` = 1500 ms after its last heartbeat/renewal. A node that
 * misses that deadline (paused, partitioned) is fenced: its commits are refused.
 */
import { ensureLayout } from '../../bus/mod.ts';
import { ActorTable } from '../actor-table.ts';
import { Histogram } from '../histogram.ts';
import { silentLogger } from '../logger.ts';
import type { TurnOptions } from '../turn/mod.ts';
import { HeldShards } from './held-shards.ts';
import { MailRelay } from './mail-relay.ts';
import { definitionsOf, type HubNodeOptions, type NodeSettings, nodeIdOf, nodeSettings } from './options.ts';
import { Placement } from './placement.ts';
import { type HandOffParts, type HubNodeStopped, handOff } from './shutdown.ts';
import { TurnLoop } from './turn-loop.ts';
import { type NodeStats, Upkeep } from './upkeep.ts';

/** A node's parts, composed around the shards it holds. */
interface NodeParts extends HandOffParts {
  readonly settings: NodeSettings;
}

function composeNode(options: HubNodeOptions, signal: AbortSignal): NodeParts {
  const settings = nodeSettings(options);
  const nodeId = nodeIdOf(options);
  const log = (options.logger ?? silentLogger).child({ nodeId });
  const definitions = definitionsOf(options.actors);
  const { bus, hooks } = options;
  const actors = new ActorTable(bus, log);
  const held = new HeldShards(bus.keyspace, actors);
  const latencyMs = new Histogram();
  const turn: TurnOptions = {
    bus,
    nodeId,
    definitions,
    actors,
    log,
    latencyMs,
    readCount: settings.readCount,
    maxAttempts: settings.maxAttempts,
    checkpointMs: settings.checkpointMs,
    onHandled: hooks?.handled,
  };
  const { turnIntervalMs, sweepIntervalMs, leaseMs, idleMs, stopTimeoutMs } = settings;
  // A turn should take at most a quarter of the lease, so its commit lands well before expiry.
  const turnBudgetMs = Math.floor(leaseMs / 4);
  const loop = new TurnLoop({ held, turn, log, turnIntervalMs, sweepIntervalMs, turnBudgetMs, signal });
  const placement = new Placement({
    ...{ bus, nodeId, log, leaseMs, held, loop, turn, signal },
    onAcquired: hooks?.acquired,
  });
  const upkeep = new Upkeep({ bus, nodeId, log, held, actors, loop, latencyMs, idleMs, signal });
  return { bus, nodeId, log, settings, held, turn, loop, placement, upkeep, stopTimeoutMs };
}

export class HubNode implements AsyncDisposable {
  readonly id: string;
  readonly #parts: NodeParts;
  readonly #stop = new AbortController();
  #stopped: Promise<HubNodeStopped> | undefined;
  #mail: MailRelay | undefined;

  constructor(options: HubNodeOptions) {
    this.#parts = composeNode(options, this.#stop.signal);
    this.id = this.#parts.nodeId;
    options.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** Joins the cluster and starts working; resolves after the first placement round. */
  async start(): Promise<this> {
    const { bus, settings, placement, upkeep, loop, held, log, nodeId } = this.#parts;
    await ensureLayout(bus);
    if (settings.mailRelay) {
      // Kept before it starts: a stop meanwhile stops it too (else its loop would outlive the node).
      this.#mail = new MailRelay({ bus, consumer: nodeId, log, claimIdleMs: 2 * settings.leaseMs });
      await this.#mail.start();
    }
    try {
      await placement.tick();
    } catch (error) {
      await this.#mail?.stop(); // a node that failed to start leaves nothing running
      throw error;
    }
    loop.start();
    upkeep.every(settings.tickMs, () => placement.tick());
    upkeep.every(settings.timerIntervalMs, () => upkeep.fireTimers());
    upkeep.every(settings.trimIntervalMs, () => upkeep.trim());
    upkeep.every(settings.statsIntervalMs, () => upkeep.publishStats());
    log.info({ shards: held.size, members: placement.members }, 'hub node started');
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
    if (this.#stopped === undefined) {
      this.#stop.abort();
      const mail = this.#mail?.stop(this.#parts.stopTimeoutMs);
      this.#stopped = handOff(this.#parts).then(async (stopped) => {
        await mail;
        return stopped;
      });
    }
    return this.#stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  get ownedShards(): number[] {
    return this.#parts.held
      .all()
      .map((o) => o.shard)
      .sort((a, b) => a - b);
  }

  get members(): readonly string[] {
    return this.#parts.placement.members;
  }

  stats(): NodeStats {
    return this.#parts.upkeep.stats();
  }
}

/** Creates and starts a hub node. */
export async function startHubNode(options: HubNodeOptions): Promise<HubNode> {
  return new HubNode(options).start();
}
