/**
 * Whether any hub node lives in the keyspace a link writes to. A link takes a message from its
 * broker, puts it in the edge's mailbox and acknowledges it; only a hub node of the same keyspace
 * ever reads it. A link started with another `--prefix` than the nodes (or before any node, and
 * none ever came) acknowledges every message into mailboxes no one reads, and nothing fails.
 *
 * The watch reads the live members (bus/membership.ts, on Redis's clock) every few seconds. The
 * link's /metrics shows the count (`devicehub_link_hub_nodes`, alert `LinkWithoutHubNodes`); after
 * `warnAfterMs` without a live node the link logs a warning that names its keyspace, again every
 * ten times that while it lasts, and an info line when a node is back. The messages are not lost
 * while it lasts: they wait, durable, in their mailboxes for the first node of this keyspace.
 */
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { type Bus, liveMembers, toError } from '../../bus/mod.ts';

export interface HubPresenceOptions {
  readonly bus: Bus;
  /** How often the members are read (default 5 s, or `warnAfterMs` when that is shorter). */
  readonly everyMs?: number;
  /** How long without a live node before the warning (default 30 s). */
  readonly warnAfterMs?: number;
  readonly logger?: Logger;
}

export class HubPresence implements AsyncDisposable {
  readonly #o: HubPresenceOptions;
  readonly #log: Logger;
  readonly #warnAfterMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #live: number | undefined;
  /** performance.now() since which no node was seen (from the first read that saw none). */
  #absentSince: number | undefined;
  #warnedAt: number | undefined;
  #failing = false;

  constructor(options: HubPresenceOptions) {
    this.#o = options;
    this.#warnAfterMs = options.warnAfterMs ?? 30_000;
    this.#log = (options.logger ?? silentLogger).child({ keyspace: options.bus.keyspace.prefix });
  }

  /** Live hub nodes at the last read; undefined before the first (or while Redis cannot answer). */
  get liveNodes(): number | undefined {
    return this.#live;
  }

  /** Reads the members once, then keeps reading. */
  async start(): Promise<this> {
    await this.check().catch((error: unknown) => this.#failed(error));
    // One read at a time: with Redis away a read waits in the client's queue, and reads must not pile up.
    let reading = false;
    this.#timer = setInterval(() => {
      if (reading) return;
      reading = true;
      void this.check()
        .catch((error: unknown) => this.#failed(error))
        .finally(() => {
          reading = false;
        });
    }, this.#o.everyMs ?? Math.min(5000, this.#warnAfterMs));
    this.#timer.unref();
    return this;
  }

  /** One read of the members; logs when the keyspace loses or regains its last node. */
  async check(): Promise<void> {
    const members = await liveMembers(this.#o.bus);
    this.#failing = false;
    this.#live = members.length;
    const now = performance.now();
    if (members.length > 0) {
      if (this.#warnedAt !== undefined) this.#log.info({ hubNodes: members.length }, 'hub nodes are back');
      this.#absentSince = undefined;
      this.#warnedAt = undefined;
      return;
    }
    this.#absentSince ??= now;
    const absentMs = now - this.#absentSince;
    const due = this.#warnedAt === undefined || now - this.#warnedAt >= 10 * this.#warnAfterMs;
    if (absentMs < this.#warnAfterMs || !due) return;
    this.#warnedAt = now;
    this.#log.warn(
      { absentSeconds: Math.round(absentMs / 1000) },
      `no hub node is alive in keyspace "${this.#o.bus.keyspace.prefix}": messages this link takes ` +
        'wait in mailboxes until one is; are the nodes down, or is --prefix / DH_PREFIX not theirs?',
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.stop();
  }

  /** Redis did not answer: the count is unknown until it does (logged once, not every read). */
  #failed(error: unknown): void {
    if (!this.#failing) this.#log.warn({ err: toError(error) }, 'could not read the hub nodes');
    this.#failing = true;
    this.#live = undefined;
  }
}
