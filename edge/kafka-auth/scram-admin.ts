/**
 * Kafka's SCRAM credential API (KIP-554: AlterUserScramCredentials, DescribeUserScramCredentials),
 * which kafkajs does not have, spoken directly: one TLS connection to a broker, a SCRAM-SHA-512
 * login as the hub (SaslHandshake v1, SaslAuthenticate v1), then one request at a time. The broker
 * forwards a change to the KRaft controller and answers once it is committed. No JVM: the
 * gateway stays a Node process.
 */
import { connect, type TLSSocket } from 'node:tls';
import { KafkaAuthError } from './errors.ts';
import { SCRAM_SHA_512, ScramClient, scramCredential } from './scram.ts';
import { frame, Reader, Writer } from './wire.ts';

const API = { saslHandshake: 17, saslAuthenticate: 36, describeScram: 50, alterScram: 51 } as const;
/** Kafka error codes the admin tells apart. */
const RESOURCE_NOT_FOUND = 91;
const RETRIABLE = new Set([7, 41, 51]); // REQUEST_TIMED_OUT, NOT_CONTROLLER, CONCURRENT_TRANSACTIONS

export interface ScramAdminOptions {
  /** `host:port` of a SASL_SSL listener. */
  readonly broker: string;
  /** The CA (PEM) the broker's certificate must chain to. */
  readonly ca: string;
  /** A super user's SCRAM-SHA-512 login (the hub's). */
  readonly username: string;
  readonly password: string;
  readonly clientId?: string;
  readonly timeoutMs?: number;
}

export interface ScramUpsertion {
  readonly user: string;
  readonly password: string;
}

export class ScramAdmin implements AsyncDisposable {
  readonly #o: ScramAdminOptions;
  #socket: TLSSocket | undefined;
  #buffered = Buffer.alloc(0);
  #waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #correlationId = 0;

  constructor(options: ScramAdminOptions) {
    this.#o = options;
  }

  /** Creates or replaces each user's SCRAM-SHA-512 credential; throws on the first refused one. */
  async upsert(users: readonly ScramUpsertion[]): Promise<void> {
    const upsertions = await Promise.all(
      users.map(async (u) => ({ user: u.user, ...(await scramCredential(u.password)) })),
    );
    return this.#alter([], upsertions);
  }

  /** Removes each user's SCRAM-SHA-512 credential; a user without one is not an error. */
  remove(users: readonly string[]): Promise<void> {
    return this.#alter(users, []);
  }

  /** The users that have a SCRAM-SHA-512 credential, of `users` (all users when omitted). */
  async describe(users?: readonly string[]): Promise<string[]> {
    const body = new Writer()
      .compactArray(users ?? null, (w, name) => w.compactString(name).tags())
      .tags()
      .toBuffer();
    const r = await this.#call(API.describeScram, 0, body, true);
    r.int32(); // throttle
    const error = r.int16();
    const message = r.compactString();
    if (error !== 0) throw refused('describe SCRAM credentials', error, message);
    const found: string[] = [];
    for (const result of r.compactArray((x) => {
      const user = x.compactString() ?? '';
      const code = x.int16();
      x.compactString();
      const infos = x.compactArray((y) => {
        const mechanism = y.int8();
        y.int32();
        y.tags();
        return mechanism;
      });
      x.tags();
      return { user, code, sha512: (infos ?? []).includes(SCRAM_SHA_512) };
    }) ?? []) {
      if (result.code === 0 && result.sha512) found.push(result.user);
    }
    return found;
  }

  async #alter(
    deletions: readonly string[],
    upsertions: readonly { user: string; salt: Buffer; iterations: number; saltedPassword: Buffer }[],
  ): Promise<void> {
    const body = new Writer()
      .compactArray(deletions, (w, user) => w.compactString(user).int8(SCRAM_SHA_512).tags())
      .compactArray(upsertions, (w, u) =>
        w
          .compactString(u.user)
          .int8(SCRAM_SHA_512)
          .int32(u.iterations)
          .compactBytes(u.salt)
          .compactBytes(u.saltedPassword)
          .tags(),
      )
      .tags()
      .toBuffer();
    const r = await this.#call(API.alterScram, 0, body, true);
    r.int32(); // throttle
    const results =
      r.compactArray((x) => {
        const user = x.compactString() ?? '';
        const code = x.int16();
        const message = x.compactString();
        x.tags();
        return { user, code, message };
      }) ?? [];
    for (const { user, code, message } of results) {
      if (code === 0 || (code === RESOURCE_NOT_FOUND && deletions.includes(user))) continue;
      throw refused(`change the SCRAM credential of "${user}"`, code, message);
    }
  }

  /** Sends one request (after the login, one at a time) and reads its answer past the header. */
  #call(apiKey: number, apiVersion: number, body: Buffer, flexible: boolean): Promise<Reader> {
    const next = this.#queue.then(async () => {
      if (this.#socket === undefined) await this.#login();
      return this.#roundTrip(apiKey, apiVersion, body, flexible);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  async #roundTrip(apiKey: number, apiVersion: number, body: Buffer, flexible: boolean): Promise<Reader> {
    const socket = this.#socket;
    if (socket === undefined) throw new KafkaAuthError('UNAVAILABLE', 'Kafka admin: not connected');
    const correlationId = ++this.#correlationId;
    const clientId = this.#o.clientId ?? 'devicehub-kafka-auth';
    const answer = new Promise<Buffer>((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
    socket.write(frame({ apiKey, apiVersion, correlationId, clientId, flexible }, body));
    const r = new Reader(await answer);
    if (r.int32() !== correlationId) throw new KafkaAuthError('PROTOCOL', 'Kafka admin: answer out of order');
    if (flexible) r.tags();
    return r;
  }

  async #login(): Promise<void> {
    const [host, port] = splitHostPort(this.#o.broker);
    const socket = connect({ host, port, ca: this.#o.ca, servername: isIpAddress(host) ? undefined : host });
    socket.setTimeout(this.#o.timeoutMs ?? 15_000);
    socket.on('data', (chunk: Buffer) => this.#received(chunk));
    const fail = (error: Error) => {
      this.#socket = undefined;
      this.#buffered = Buffer.alloc(0);
      this.#waiting?.reject(
        new KafkaAuthError('UNAVAILABLE', `Kafka admin: ${error.message}`, { cause: error }),
      );
      this.#waiting = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
    socket.on('timeout', () => socket.destroy(new Error('no answer in time')));
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', (e) =>
        reject(new KafkaAuthError('UNAVAILABLE', `Kafka admin: ${e.message}`, { cause: e })),
      );
    });
    this.#socket = socket;
    try {
      const handshake = await this.#roundTrip(
        API.saslHandshake,
        1,
        new Writer().string('SCRAM-SHA-512').toBuffer(),
        false,
      );
      const code = handshake.int16();
      if (code !== 0) throw refused('start a SCRAM-SHA-512 login', code, null, 'AUTHENTICATION_FAILED');
      const scram = new ScramClient(this.#o.username, this.#o.password);
      const serverFirst = await this.#authenticate(scram.first());
      const serverFinal = await this.#authenticate(scram.final(serverFirst));
      scram.verify(serverFinal);
    } catch (error) {
      socket.destroy();
      this.#socket = undefined;
      throw error;
    }
  }

  async #authenticate(bytes: Buffer): Promise<Buffer> {
    const r = await this.#roundTrip(API.saslAuthenticate, 1, new Writer().bytes(bytes).toBuffer(), false);
    const code = r.int16();
    const message = r.string();
    const reply = r.bytes() ?? Buffer.alloc(0);
    if (code !== 0) throw refused('log in', code, message, 'AUTHENTICATION_FAILED');
    return reply;
  }

  #received(chunk: Buffer): void {
    this.#buffered = Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= 4) {
      const size = this.#buffered.readInt32BE(0);
      if (this.#buffered.length < 4 + size) return;
      const message = this.#buffered.subarray(4, 4 + size);
      this.#buffered = this.#buffered.subarray(4 + size);
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.resolve(message);
    }
  }

  async close(): Promise<void> {
    await this.#queue;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) await new Promise<void>((resolve) => socket.end(resolve));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function refused(
  what: string,
  kafkaCode: number,
  message: string | null,
  code: 'REFUSED' | 'AUTHENTICATION_FAILED' = 'REFUSED',
): KafkaAuthError {
  return new KafkaAuthError(
    code,
    `Kafka refused to ${what}: error ${kafkaCode}${message ? ` (${message})` : ''}`,
    { kafkaCode, retriable: RETRIABLE.has(kafkaCode) },
  );
}

function splitHostPort(broker: string): [string, number] {
  const at = broker.lastIndexOf(':');
  const port = Number(broker.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port)) throw new RangeError(`Not host:port: ${JSON.stringify(broker)}`);
  return [broker.slice(0, at).replace(/^\[|\]$/g, ''), port];
}

const isIpAddress = (host: string) => /^[\d.]+$/.test(host) || host.includes(':');
