/**
 * Edges' Kafka credentials kept with the registry (issue 14, item 3): when the gateway is given a
 * Kafka admin (`GatewayOptions.kafka`), registering an edge creates its SCRAM-SHA-512 user with
 * its secret, rotating sets the new password and deregistering removes it — all before the API
 * answers, like the MQTT broker's identities. The fleet-wide ACLs are made sure of once at start
 * (in the background: a Kafka that is down then does not stop the gateway) and again before the
 * first edge while that has not succeeded. Logs carry edge ids, never passwords.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../actors/mod.ts';
import { type EdgeKafkaCredentials, KafkaIdentities } from '../edge/kafka-auth/mod.ts';

/** The hub's super user on an authenticated Kafka (infra/kafka-security.ts's KAFKA_HUB_USER). */
export const DEFAULT_KAFKA_ADMIN_USER = 'hub@devicehub';

export interface KafkaAdminOptions {
  /** `host:port` of the brokers' SASL_SSL listeners (tried in turn). */
  readonly brokers: readonly string[];
  /** The hub's SCRAM-SHA-512 super user (default `hub@devicehub`). */
  readonly username?: string;
  readonly password: string;
  /** The CA (PEM file) the brokers' certificates chain to: the fleet CA. */
  readonly caFile: string;
}

/** The gateway's `EdgeKafkaCredentials`: an edge's user and ACL after the fleet's ACLs. */
export class GatewayKafkaCredentials implements EdgeKafkaCredentials, AsyncDisposable {
  readonly #identities: KafkaIdentities;
  readonly #log: Logger;
  #fleet: Promise<void> | undefined;
  #fleetDone = false;

  constructor(identities: KafkaIdentities, log: Logger) {
    this.#identities = identities;
    this.#log = log.child({ component: 'kafka-credentials' });
  }

  /** The fleet-wide ACLs, once at start; a failure is logged and retried with the next edge. */
  start(): this {
    void this.#ensureFleet().catch((err: unknown) =>
      this.#log.warn({ err }, 'fleet-wide Kafka ACLs not made sure of; the next registration retries'),
    );
    return this;
  }

  async ensureEdge(id: string, password: string): Promise<void> {
    // The credential first: a Kafka that is down fails fast there (the ACL admin retries longer).
    await this.#identities.ensureEdge(id, password);
    if (!this.#fleetDone) await this.#ensureFleet();
  }

  removeEdge(id: string): Promise<void> {
    return this.#identities.removeEdge(id);
  }

  #ensureFleet(): Promise<void> {
    this.#fleet ??= this.#identities.ensureFleet().then(
      () => {
        this.#fleetDone = true;
      },
      (error: unknown) => {
        this.#fleet = undefined;
        throw error;
      },
    );
    return this.#fleet;
  }

  /** Closes the admin connections (a fleet pass still retrying a Kafka that is down just fails). */
  async close(): Promise<void> {
    await this.#identities.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The Kafka admin of `options` (its CA read from the file), its fleet ACLs under way. */
export async function startKafkaCredentials(
  options: KafkaAdminOptions,
  log: Logger,
): Promise<GatewayKafkaCredentials> {
  const ca = await readFile(options.caFile, 'utf8');
  const identities = new KafkaIdentities({
    brokers: options.brokers,
    ca,
    username: options.username ?? DEFAULT_KAFKA_ADMIN_USER,
    password: options.password,
    logger: log,
  });
  return new GatewayKafkaCredentials(identities, log).start();
}
