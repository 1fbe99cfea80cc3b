/**
 * The edges' identities on an authenticated Kafka, kept by the hub: one SCRAM-SHA-512 user per
 * edge (user = edge id, password = the edge's secret, so the agent needs nothing new), its
 * consumer group ACL, and the fleet-wide ACLs. SCRAM credentials go through `ScramAdmin` (KIP-554,
 * which kafkajs lacks), ACLs through kafkajs's admin; both log in as the hub's super user. Every
 * operation is idempotent, so a retry or a reconciler may repeat it. Logs carry edge ids, never
 * passwords.
 */
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Logger, silentLogger } from '../../actors/mod.ts';
import { isValidEdgeId } from '../protocol/mod.ts';
import { edgeAclFilter, edgeAcls, fleetAcls } from './acls.ts';
import { kafkaClientSecurity } from './client-security.ts';
import { KafkaAuthError } from './errors.ts';
import { ScramAdmin } from './scram-admin.ts';

/** What the gateway needs to keep an edge's Kafka identity with its registration (optional there). */
export interface EdgeKafkaCredentials {
  /** The edge can log in with `password` (created, or its password replaced) once this returns. */
  ensureEdge(id: string, password: string): Promise<void>;
  /** The edge's credential and ACLs are gone (sessions end at their next re-authentication). */
  removeEdge(id: string): Promise<void>;
}

export interface KafkaIdentitiesOptions {
  /** `host:port` of SASL_SSL listeners (tried in turn). */
  readonly brokers: readonly string[];
  /** CA (PEM) of the brokers' certificates. */
  readonly ca: string;
  /** The hub's SCRAM-SHA-512 super user. */
  readonly username: string;
  readonly password: string;
  readonly logger?: Logger;
}

/** Whether `name` may be an edge's Kafka user: a valid edge id that is not one of the hub's names. */
export function isEdgeKafkaUser(name: string): boolean {
  return isValidEdgeId(name) && !name.startsWith('devicehub-');
}

export class KafkaIdentities implements EdgeKafkaCredentials, AsyncDisposable {
  readonly #o: KafkaIdentitiesOptions;
  readonly #log: Logger;
  readonly #admin: Admin;
  #connected: Promise<void> | undefined;
  #scram: ScramAdmin | undefined;
  #broker = 0;

  constructor(options: KafkaIdentitiesOptions) {
    if (options.brokers.length === 0) throw new RangeError('KafkaIdentities: no brokers');
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'kafka-identities' });
    this.#admin = new Kafka({
      clientId: 'devicehub-kafka-identities',
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      ...kafkaClientSecurity({ ca: options.ca, username: options.username, password: options.password }),
    }).admin();
  }

  /** The ACLs every edge shares (create once per cluster; repeating it changes nothing). */
  async ensureFleet(): Promise<void> {
    await this.#acls((admin) => admin.createAcls({ acl: fleetAcls() }));
    this.#log.info({ acls: fleetAcls().length }, 'fleet-wide Kafka ACLs in place');
  }

  async ensureEdge(id: string, password: string): Promise<void> {
    await this.ensureEdges([{ id, password }]);
  }

  /** Each edge's SCRAM credential (set to its password) and group ACL. */
  async ensureEdges(edges: readonly { readonly id: string; readonly password: string }[]): Promise<void> {
    for (const { id } of edges) check(id);
    if (edges.length === 0) return;
    await this.#withScram((scram) => scram.upsert(edges.map((e) => ({ user: e.id, password: e.password }))));
    await this.#acls((admin) => admin.createAcls({ acl: edges.flatMap((e) => edgeAcls(e.id)) }));
    for (const { id } of edges) this.#log.info({ edgeId: id }, 'edge Kafka credential set');
  }

  async removeEdge(id: string): Promise<void> {
    await this.removeEdges([id]);
  }

  async removeEdges(ids: readonly string[]): Promise<void> {
    for (const id of ids) check(id);
    if (ids.length === 0) return;
    await this.#withScram((scram) => scram.remove(ids));
    await this.#acls((admin) => admin.deleteAcls({ filters: ids.map(edgeAclFilter) }));
    for (const id of ids) this.#log.info({ edgeId: id }, 'edge Kafka credential removed');
  }

  /** The edges that have a Kafka credential (the hub's own users left out). */
  async listEdges(): Promise<string[]> {
    const users = await this.#withScram((scram) => scram.describe());
    return users.filter(isEdgeKafkaUser).sort();
  }

  /** Whether `id` has a Kafka credential now. */
  async hasEdge(id: string): Promise<boolean> {
    check(id);
    return (await this.#withScram((scram) => scram.describe([id]))).includes(id);
  }

  async #acls<T>(step: (admin: Admin) => Promise<T>): Promise<T> {
    this.#connected ??= this.#admin.connect().catch((error: unknown) => {
      this.#connected = undefined;
      throw new KafkaAuthError('UNAVAILABLE', `Kafka admin: ${String(error)}`, { cause: error });
    });
    await this.#connected;
    return step(this.#admin);
  }

  /** Runs `step` on the SCRAM admin, moving to the next broker when one is unreachable. */
  async #withScram<T>(step: (scram: ScramAdmin) => Promise<T>): Promise<T> {
    for (let tried = 0; ; tried++) {
      this.#scram ??= new ScramAdmin({
        broker: this.#o.brokers[this.#broker % this.#o.brokers.length]!,
        ca: this.#o.ca,
        username: this.#o.username,
        password: this.#o.password,
      });
      try {
        return await step(this.#scram);
      } catch (error) {
        if (
          !(error instanceof KafkaAuthError) ||
          error.code !== 'UNAVAILABLE' ||
          tried >= this.#o.brokers.length
        )
          throw error;
        this.#log.warn(
          { err: error, broker: this.#o.brokers[this.#broker % this.#o.brokers.length] },
          'Kafka broker unavailable; trying the next',
        );
        await this.#scram.close().catch(() => {});
        this.#scram = undefined;
        this.#broker++;
      }
    }
  }

  async close(): Promise<void> {
    await this.#scram?.close().catch(() => {});
    if (this.#connected !== undefined) await this.#admin.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function check(id: string): void {
  if (!isEdgeKafkaUser(id)) {
    throw new KafkaAuthError('INVALID_USER', `Not an edge's Kafka user: ${JSON.stringify(id)}`);
  }
}
