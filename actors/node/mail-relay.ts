/**
 * The mail relay every hub node runs: it reads the outbox streams through the consumer group
 * `mail`, moves each `actor.mail` event (`ctx.send`) into its target's mailbox (enqueue-many.lua) and
 * acknowledges the outbox entries after Redis has the messages; other events are acknowledged
 * at once (they are the sink's and the downlink relays'). The nodes share the group, so each
 * event goes through one of them.
 *
 * At least once: a node that dies between the enqueue and the acknowledgement leaves its entries
 * pending. It re-reads its own pending entries when it starts again (same node id), and any
 * node claims entries left pending longer than `claimIdleMs` (XAUTOCLAIM) — a message may so
 * reach its target twice, which is why the handlers that take mail are idempotent.
 */
import {
  type Bus,
  ConnectionDroppedError,
  type EncodedMessage,
  execOrThrow,
  InvalidMessageError,
  type MailboxMessage,
  mailLease,
  openPipeline,
  toError,
  unlessDropped,
} from '../../bus/mod.ts';
import { MAIL_EVENT } from '../define.ts';
import type { Logger } from '../logger.ts';

/** The outbox consumer group of the mail relays. */
export const MAIL_GROUP = 'mail';

export interface MailRelayOptions {
  readonly bus: Bus;
  /** This node's id: the consumer name (a restarted node re-reads its own pending entries). */
  readonly consumer: string;
  readonly log: Logger;
  /** Pause between reads when there was nothing (default 50 ms). */
  readonly idleMs?: number;
  /**
   * Entries pending this long in another consumer (a dead node) are taken over (default 5000 ms);
   * also the time to live of the relay's leases.
   */
  readonly claimIdleMs?: number;
}

export class MailRelay implements AsyncDisposable {
  readonly stats = { relayed: 0, skipped: 0, invalid: 0, claimed: 0, failed: 0 };
  readonly #o: Required<MailRelayOptions>;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #lastClaim = 0;
  /** The tag groups whose lease this relay holds, and when it last renewed them. */
  #held: number[] = [];
  #renewedAt = 0;

  constructor(options: MailRelayOptions) {
    this.#o = { idleMs: 50, claimIdleMs: 5000, ...options };
  }

  async start(): Promise<this> {
    const { redis, keyspace } = this.#o.bus;
    for (let g = 0; g < keyspace.tagGroups; g++) {
      await redis
        .xgroup('CREATE', keyspace.outbox(g), MAIL_GROUP, '0', 'MKSTREAM')
        .catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        });
    }
    // Stopped while it was creating the groups: no loop (it would outlive its stop).
    if (!this.#stop.signal.aborted) this.#loop = this.#run();
    return this;
  }

  async #run(): Promise<void> {
    const { idleMs, claimIdleMs, log } = this.#o;
    // Entries this consumer read and did not acknowledge (it died) first, then new ones.
    let from = '0';
    while (!this.#stop.signal.aborted) {
      try {
        await this.#renewLeases();
        let read = await this.#readOnce(from);
        if (Date.now() - this.#lastClaim >= claimIdleMs / 2) {
          this.#lastClaim = Date.now();
          read += await this.#claimAbandoned();
        }
        if (from === '0' && read === 0) from = '>';
        if (read === 0) await sleep(idleMs, this.#stop.signal);
      } catch (error) {
        this.stats.failed++;
        log.warn({ err: toError(error) }, 'mail relay failed; retrying');
        from = '0';
        await sleep(500, this.#stop.signal);
      }
    }
    // Stopped: another node relays these groups now rather than when the leases run out.
    const { bus, consumer } = this.#o;
    for (const g of this.#held) await bus.dropLease(mailLease(g), consumer).catch(() => false);
  }

  /** Reads each tag group's outbox from `from` (`0`: own pending, `>`: new) and relays what it read. */
  async #readOnce(from: string): Promise<number> {
    const { bus, consumer } = this.#o;
    const { keyspace } = bus;
    if (this.#held.length === 0) return 0;
    const pipeline = openPipeline(bus.redis);
    for (const g of this.#held) {
      pipeline.xreadgroup('GROUP', MAIL_GROUP, consumer, 'COUNT', 200, 'STREAMS', keyspace.outbox(g), from);
    }
    const replies = await unlessDropped(bus.redis, () => execOrThrow(pipeline));
    // A read whose reply was lost may have run (its entries pending under our name) and been sent
    // again: the caller reads the pending entries, in order, instead of these replies.
    if (replies === undefined)
      throw new ConnectionDroppedError('Redis connection closed during the mail read');
    const batches: { group: number; entries: [string, string[]][] }[] = [];
    for (const [i, reply] of replies.entries()) {
      for (const [, entries] of (reply ?? []) as [string, [string, string[]][]][])
        batches.push({ group: this.#held[i]!, entries });
    }
    return this.#relay(batches);
  }

  /** Takes over entries another consumer (a dead node) left pending; relays them. */
  async #claimAbandoned(): Promise<number> {
    const { bus, consumer, claimIdleMs } = this.#o;
    const { keyspace } = bus;
    if (this.#held.length === 0) return 0;
    const pipeline = openPipeline(bus.redis);
    for (const g of this.#held)
      pipeline.xautoclaim(keyspace.outbox(g), MAIL_GROUP, consumer, claimIdleMs, '0', 'COUNT', 200);
    const batches: { group: number; entries: [string, string[]][] }[] = [];
    for (const [i, reply] of (await execOrThrow(pipeline)).entries()) {
      const group = this.#held[i]!;
      const entries = ((reply as [string, [string, string[] | null][]])[1] ?? []).filter(
        (e): e is [string, string[]] => Array.isArray(e[1]),
      );
      if (entries.length > 0) batches.push({ group, entries });
    }
    const n = await this.#relay(batches);
    this.stats.claimed += n;
    return n;
  }

  /** Takes or renews the tag groups' leases, a third of their time to live apart. */
  async #renewLeases(): Promise<void> {
    const { bus, consumer, claimIdleMs } = this.#o;
    if (Date.now() - this.#renewedAt < claimIdleMs / 3) return;
    const ttlMs = Math.max(100, Math.round(claimIdleMs));
    const groups = Array.from({ length: bus.keyspace.tagGroups }, (_, g) => g);
    const held = await Promise.all(
      groups.map((g) => bus.holdLease({ name: mailLease(g), holder: consumer, ttlMs })),
    );
    this.#held = groups.filter((g) => held[g]);
    this.#renewedAt = Date.now();
  }

  /** Enqueues the mail among the entries, then acknowledges every entry; how many entries. */
  async #relay(batches: readonly { group: number; entries: [string, string[]][] }[]): Promise<number> {
    const { bus, log } = this.#o;
    const messages: EncodedMessage[] = [];
    const acks = openPipeline(bus.redis);
    let read = 0;
    for (const { group, entries } of batches) {
      for (const [id, fields] of entries) {
        read++;
        const mail = mailOf(fields[1] ?? '');
        if (mail === undefined) this.stats.skipped++;
        else {
          try {
            // Encoded once; refuses what no actor could take, alone (not the batch).
            messages.push(bus.encodeMessage(mail, Date.now()));
          } catch (error) {
            if (!(error instanceof InvalidMessageError)) throw error;
            this.stats.invalid++;
            log.warn({ entryId: id, to: mail.address, err: error }, 'mail no actor can take; dropped');
          }
        }
        acks.xack(bus.keyspace.outbox(group), MAIL_GROUP, id);
      }
    }
    if (messages.length > 0) await bus.enqueueMany(messages); // a script call per tag group
    if (read > 0) await execOrThrow(acks);
    this.stats.relayed += messages.length;
    return read;
  }

  /**
   * Stops the loop and waits for its read in flight — at most `timeoutMs` when given: with Redis
   * gone that read waits for a reconnect, and ends (rejected) when the connection is closed.
   */
  async stop(timeoutMs?: number): Promise<void> {
    this.#stop.abort();
    if (this.#loop === undefined || timeoutMs === undefined) return void (await this.#loop);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      this.#loop.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (late) this.#o.log.warn({ timeoutMs }, 'mail relay stopped with a read still in flight');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The message an outbox event carries, when it is mail. */
function mailOf(json: string): MailboxMessage | undefined {
  if (!json.startsWith(`{"type":"${MAIL_EVENT}"`)) return undefined;
  try {
    const event = JSON.parse(json) as { to?: unknown; method?: unknown; payload?: unknown };
    if (typeof event.to !== 'string' || typeof event.method !== 'string') return undefined;
    return { address: event.to, method: event.method, payload: event.payload };
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
