/**
 * Talks to mosquitto's dynamic-security plugin as its admin: commands go out in batches on
 * `$CONTROL/dynamic-security/v1`, each with a correlation id, and their answers come back on
 * `…/response` (published to every admin connected, so answers to other gateways' commands are
 * skipped). The connection reconnects on its own; while it is down a command fails at once with a
 * retryable `BrokerAdminError` ('UNREACHABLE') instead of waiting.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { CONTROL_RESPONSE_TOPIC, CONTROL_TOPIC } from './identities.ts';

export type BrokerAdminErrorCode = 'UNREACHABLE' | 'TIMEOUT' | 'COMMAND_FAILED';

/** A dynsec command that could not be carried out. UNREACHABLE and TIMEOUT may succeed later. */
export class BrokerAdminError extends Error {
  readonly code: BrokerAdminErrorCode;
  readonly retryable: boolean;
  /** The broker's answer, for COMMAND_FAILED (e.g. "Client not found"). */
  readonly brokerError: string | undefined;
  constructor(code: BrokerAdminErrorCode, message: string, brokerError?: string) {
    super(message);
    this.name = 'BrokerAdminError';
    this.code = code;
    this.retryable = code !== 'COMMAND_FAILED';
    this.brokerError = brokerError;
  }
}

export interface DynsecCommand {
  readonly command: string;
  readonly [field: string]: unknown;
}

export interface DynsecResponse {
  readonly command: string;
  readonly error?: string;
  readonly data?: unknown;
}

export interface DynsecClientOptions {
  /** mqtt://host:port of the broker. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** How long a batch may wait for its answer (default 30 s: each command rewrites dynsec's file). */
  readonly timeoutMs?: number;
  /** How long a command waits for a connection that is being made (default 3 s). */
  readonly connectWaitMs?: number;
  /** Largest control message (default 48 KiB, under the broker's 64 KiB packet limit). */
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
}

interface Pending {
  resolve(response: DynsecResponse): void;
}

export class DynsecClient implements AsyncDisposable {
  readonly #o: Required<Omit<DynsecClientOptions, 'logger'>>;
  readonly #log: Logger;
  readonly #client: MqttClient;
  readonly #pending = new Map<string, Pending>();
  readonly #prefix = randomBytes(6).toString('hex');
  #seq = 0;
  #subscribed = false;
  #closed = false;
  #warned = false;
  #lastError: string | undefined;

  constructor(options: DynsecClientOptions) {
    this.#o = {
      timeoutMs: 30_000,
      connectWaitMs: 3000,
      maxMessageBytes: 48 * 1024,
      ...options,
    };
    this.#log = (options.logger ?? silentLogger).child({ component: 'broker-admin' });
    this.#client = mqtt.connect(options.url, {
      username: options.username,
      password: options.password,
      protocolVersion: 5,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      clientId: `devicehub-admin-${this.#prefix}`,
    });
    this.#client.on('connect', () => {
      this.#warned = false;
      this.#client.subscribe(CONTROL_RESPONSE_TOPIC, { qos: 0 }, (err, granted) => {
        if (err || (granted?.[0]?.qos ?? 0x80) >= 0x80) {
          this.#log.error({ err }, 'cannot read dynamic-security responses');
          return;
        }
        this.#subscribed = true;
      });
    });
    this.#client.on('close', () => {
      this.#subscribed = false;
    });
    // Once per outage, not on every reconnect attempt.
    this.#client.on('error', (err) => {
      this.#lastError = err.message;
      if (this.#warned) return;
      this.#warned = true;
      this.#log.warn({ err, url: options.url }, 'broker admin connection failed; retrying every second');
    });
    this.#client.on('message', (topic, payload) => {
      if (topic === CONTROL_RESPONSE_TOPIC) this.#answer(payload);
    });
  }

  /** Whether commands can be sent now. */
  get connected(): boolean {
    return this.#client.connected && this.#subscribed;
  }

  /**
   * Runs `commands` in order, as few control messages as the size limit allows, and returns one
   * answer per command (an answer may carry `error`: the caller decides what is acceptable).
   */
  async run(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const answers: DynsecResponse[] = [];
    for (const batch of this.#batches(commands)) answers.push(...(await this.#send(batch)));
    return answers;
  }

  #batches(commands: readonly DynsecCommand[]): DynsecCommand[][] {
    const batches: DynsecCommand[][] = [];
    let batch: DynsecCommand[] = [];
    let bytes = 0;
    for (const command of commands) {
      const size = Buffer.byteLength(JSON.stringify(command)) + 64;
      if (batch.length > 0 && bytes + size > this.#o.maxMessageBytes) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(command);
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  async #send(batch: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    await this.#ready();
    const ids = batch.map(() => `${this.#prefix}-${++this.#seq}`);
    const answers = ids.map(
      (id) => new Promise<DynsecResponse>((resolve) => this.#pending.set(id, { resolve })),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BrokerAdminError(
              'TIMEOUT',
              `The broker did not answer ${batch.length} dynamic-security command(s) within ${this.#o.timeoutMs} ms`,
            ),
          ),
        this.#o.timeoutMs,
      );
    });
    try {
      const payload = JSON.stringify({
        commands: batch.map((c, i) => ({ ...c, correlationData: ids[i] })),
      });
      await Promise.race([
        this.#client.publishAsync(CONTROL_TOPIC, payload, { qos: 1 }).catch((err: unknown) => {
          throw new BrokerAdminError('UNREACHABLE', `Cannot send to the broker: ${String(err)}`);
        }),
        timeout,
      ]);
      return await Promise.race([Promise.all(answers), timeout]);
    } finally {
      clearTimeout(timer);
      for (const id of ids) this.#pending.delete(id);
    }
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw new BrokerAdminError('UNREACHABLE', 'The broker admin client is closed');
    const deadline = Date.now() + this.#o.connectWaitMs;
    while (!this.connected) {
      if (Date.now() >= deadline)
        throw new BrokerAdminError(
          'UNREACHABLE',
          `The broker at ${this.#o.url} is not reachable${this.#lastError === undefined ? '' : ` (${this.#lastError})`}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  #answer(payload: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    const responses = (parsed as { responses?: unknown }).responses;
    if (!Array.isArray(responses)) return;
    for (const r of responses as (DynsecResponse & { correlationData?: unknown })[]) {
      if (typeof r?.correlationData !== 'string') continue;
      const pending = this.#pending.get(r.correlationData);
      if (pending === undefined) continue;
      this.#pending.delete(r.correlationData);
      pending.resolve({
        command: r.command,
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.data === undefined ? {} : { data: r.data }),
      });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.endAsync();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
