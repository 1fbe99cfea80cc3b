/**
 * Commands to edges: the edge actor writes a `command` event to its outbox stream atomically with
 * its state; this relay reads the outbox through its own consumer group (`downlink`), publishes
 * each command to the edge's downlink topic (QoS 1) with its id, deadline and fencing epoch, and
 * acknowledges the outbox entry only after the broker has it. Other outbox events are left to
 * their own consumers (the gateway's web-backend relay).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { type Logger, silentLogger } from '../actors/mod.ts';
import { execOrThrow, type Keyspace, type Redis, toError } from '../bus/mod.ts';
import { downlinkTopic } from './protocol.ts';

export const DOWNLINK_GROUP = 'downlink';

/** What an edge receives on `dh/v1/<edgeId>/down` (JSON). */
export interface DownlinkCommand {
  readonly id: string;
  readonly type: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly deadline: number;
  readonly epoch: number;
}

export interface DownlinkRelayOptions {
  readonly redis: Redis;
  readonly keyspace: Keyspace;
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly consumer?: string;
  readonly logger?: Logger;
}

export class DownlinkRelay implements AsyncDisposable {
  readonly stats = { published: 0, skipped: 0, failed: 0 };
  readonly #o: DownlinkRelayOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #client: MqttClient | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: DownlinkRelayOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ relay: 'downlink' });
  }

  async start(): Promise<this> {
    const { redis, keyspace } = this.#o;
    for (let g = 0; g < keyspace.tagGroups; g++) {
      await redis
        .xgroup('CREATE', keyspace.outbox(g), DOWNLINK_GROUP, '0', 'MKSTREAM')
        .catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        });
    }
    this.#client = await mqtt.connectAsync(this.#o.url, {
      username: this.#o.username,
      password: this.#o.password,
      protocolVersion: 5,
      reconnectPeriod: 500,
    });
    this.#loop = this.#run();
    return this;
  }

  async #run(): Promise<void> {
    const { redis, keyspace } = this.#o;
    const consumer = this.#o.consumer ?? `relay-${process.pid}`;
    // Entries this consumer read but did not acknowledge (a crash) first, then new ones.
    let from = '0';
    while (!this.#stop.signal.aborted) {
      try {
        const pipeline = redis.pipeline();
        for (let g = 0; g < keyspace.tagGroups; g++) {
          pipeline.xreadgroup(
            'GROUP',
            DOWNLINK_GROUP,
            consumer,
            'COUNT',
            200,
            'STREAMS',
            keyspace.outbox(g),
            from,
          );
        }
        let read = 0;
        const acks = redis.pipeline();
        for (const [g, reply] of (await execOrThrow(pipeline)).entries()) {
          for (const [, entries] of (reply ?? []) as [string, [string, string[]][]][]) {
            for (const [id, fields] of entries) {
              read++;
              await this.#publish(fields[1] ?? '');
              acks.xack(keyspace.outbox(g), DOWNLINK_GROUP, id);
            }
          }
        }
        if (read > 0) await execOrThrow(acks);
        if (from === '0' && read === 0) from = '>';
        if (read === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      } catch (error) {
        this.stats.failed++;
        this.#log.warn({ err: toError(error) }, 'downlink relay failed; retrying');
        from = '0';
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  async #publish(json: string): Promise<void> {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(json) as Record<string, unknown>;
    } catch {
      this.stats.skipped++;
      return;
    }
    if (event.type !== 'command' || typeof event.edgeId !== 'string') {
      this.stats.skipped++;
      return;
    }
    const command: DownlinkCommand = {
      id: String(event.id),
      type: String(event.command),
      args: (event.args ?? {}) as Record<string, unknown>,
      deadline: Number(event.deadline),
      epoch: Number(event.epoch),
    };
    await this.#client!.publishAsync(downlinkTopic(event.edgeId), JSON.stringify(command), { qos: 1 });
    this.stats.published++;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    await this.#client?.endAsync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
