/**
 * A kafkajs consumer that is started again when kafkajs gives it up (decision 053). kafkajs
 * restarts a consumer only after a retriable error; after any other error ("Failed to find group
 * coordinator" when a rejoin meets a broker still starting, a TypeError from a handler) it
 * disconnects it for good, and only a `consumer.crash` event with `restart: false` says so. A
 * hub link or an agent whose consumer is gone reads nothing more without a word. This one logs
 * the error, then starts a new consumer in the same group after 1 s, doubling to 30 s while a new
 * one cannot start or gives up again; a fetch resets the pause. Offsets committed only after
 * their messages were taken make the new consumer go on where the old one stopped.
 */
import type { Consumer } from 'kafkajs';
import type { Logger } from '../../actors/mod.ts';

export interface RestartingConsumerOptions {
  /** A new consumer (the same group each time). */
  readonly create: () => Consumer;
  /** Connects, subscribes and runs `consumer`; rejects when it cannot. */
  readonly run: (consumer: Consumer) => Promise<void>;
  readonly log: Logger;
  /** Who reads, for the log lines (`Kafka link`, `agent downlink`). */
  readonly name: string;
  /** The consumer was given up (true) or a new one runs (false): for a state to show. */
  readonly onDown?: (down: boolean) => void;
}

export class RestartingConsumer {
  readonly #o: RestartingConsumerOptions;
  #consumer: Consumer | undefined;
  /** From `arm()` on, a consumer given up is started again; before, the caller fails instead. */
  #armed = false;
  #stopped = false;
  #restarts = 0;
  /** Restarts since the last fetch: the next pause is 1 s × 2^this. */
  #backoff = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onFetch: () => void = () => {};
  /** Resolves at the first fetch: the group joined, so a new group's starting offsets are fixed. */
  readonly fetched = new Promise<void>((resolve) => {
    this.#onFetch = resolve;
  });

  constructor(options: RestartingConsumerOptions) {
    this.#o = options;
  }

  /** Consumers started again after kafkajs gave one up. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Creates the first consumer and runs it; returns it (wait for `fetched`, then `arm`). */
  async start(): Promise<Consumer> {
    const consumer = this.#create();
    await this.#o.run(consumer);
    return consumer;
  }

  /** From now on a consumer kafkajs gives up is replaced. */
  arm(): void {
    this.#armed = true;
  }

  /** Stops the consumer and any restart to come. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#consumer?.disconnect();
  }

  #create(): Consumer {
    const consumer = this.#o.create();
    this.#consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      this.#crashed(consumer, payload.error, payload.restart),
    );
    consumer.on(consumer.events.FETCH, () => {
      this.#backoff = 0;
      this.#onFetch();
    });
    return consumer;
  }

  #crashed(consumer: Consumer, error: Error, restart: boolean): void {
    const { log, name } = this.#o;
    if (restart) {
      log.warn({ err: error }, `${name}: the Kafka consumer failed; kafkajs starts it again`);
      return;
    }
    if (!this.#armed || this.#stopped || consumer !== this.#consumer) return;
    log.error(
      { err: error },
      `${name}: the Kafka consumer failed with an error kafkajs does not retry; starting a new one`,
    );
    this.#o.onDown?.(true);
    this.#later(consumer);
  }

  #later(old: Consumer): void {
    const delay = Math.min(30_000, 1000 * 2 ** this.#backoff++);
    this.#timer = setTimeout(() => void this.#restart(old), delay);
  }

  async #restart(old: Consumer): Promise<void> {
    if (this.#stopped) return;
    await old.disconnect().catch(() => {});
    if (this.#stopped) return;
    this.#restarts++;
    const consumer = this.#create();
    try {
      await this.#o.run(consumer);
      this.#o.onDown?.(false);
    } catch (error) {
      this.#o.log.error(
        { err: error },
        `${this.#o.name}: a new Kafka consumer could not start; trying again`,
      );
      if (!this.#stopped && consumer === this.#consumer) this.#later(consumer);
    }
  }
}
