/**
 * The authenticated Kafka broker's settings (issue 14, item 3): clients and brokers on one
 * SASL_SSL listener with SCRAM-SHA-512 (the server certificate from the fleet CA), the KRaft
 * controllers on their own SASL_SSL listener with PLAIN (KRaft cannot check SCRAM there: the
 * controllers hold the credentials they would check it against), the StandardAuthorizer denying
 * what no ACL allows, and the hub's own principals as super users. A PLAINTEXT listener for legacy
 * edges exists only when asked for (a migration step: the link's fleet check is then their only
 * guard). The hub's and the broker's SCRAM credentials are written at format time (KIP-900).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPki } from './tls.ts';

/** The hub's SCRAM principals: names with `@`, which no edge id can take (edge ids are `[A-Za-z0-9_.:-]`). */
export const KAFKA_HUB_USER = 'hub@devicehub';
export const KAFKA_BROKER_USER = 'broker@devicehub';
/**
 * The controllers' PLAIN user: a JAAS option name cannot hold `@`, so this one could be an edge id;
 * it exists only in the controller listener's JAAS file, and the credential admin
 * (`edge/kafka-auth`) refuses to give any edge a `devicehub-` name.
 */
export const KAFKA_CONTROLLER_USER = 'devicehub-controller';

export interface KafkaAuthOptions {
  /** The fleet PKI whose server certificate the listeners present and whose CA clients trust. */
  readonly pki: TestPki;
  /**
   * Also open a PLAINTEXT listener for legacy edges that cannot authenticate yet (off by default).
   * A migration step for the operator to turn on explicitly: its producers are `User:ANONYMOUS`,
   * allowed only what the fleet-wide ACLs allow every principal, and the link's fleet check is
   * then the only guard of what they send.
   */
  readonly legacyPlaintext?: boolean;
  /** How often a client session re-authenticates (default 60 s): a removed credential stops working by then. */
  readonly reauthMs?: number;
}

/** What a client of an authenticated broker needs; `hub` is a super user. */
export interface KafkaAuth {
  /** The CA file (PEM) clients check the broker's certificate against, and its text. */
  readonly caFile: string;
  readonly ca: string;
  /** The hub's SCRAM-SHA-512 credentials (the links, the downlink relay, the credential admin). */
  readonly hub: { readonly username: string; readonly password: string };
  /** `127.0.0.1:<port>` of the legacy PLAINTEXT listener, when it was asked for. */
  readonly legacyBroker?: string;
}

/** The secrets of one authenticated cluster (the same on every node). */
export interface KafkaSecrets {
  readonly hubPassword: string;
  readonly brokerPassword: string;
  readonly controllerPassword: string;
}

export function kafkaSecrets(): KafkaSecrets {
  const secret = () => randomBytes(24).toString('base64url');
  return { hubPassword: secret(), brokerPassword: secret(), controllerPassword: secret() };
}

export interface NodePorts {
  readonly port: number;
  readonly controllerPort: number;
  /** The legacy PLAINTEXT listener's port, when there is one. */
  readonly legacyPort?: number;
}

/** `server.properties` lines for the listeners and security of one node. */
export function securityLines(o: KafkaAuthOptions, secrets: KafkaSecrets, ports: NodePorts): string[] {
  const { port, controllerPort, legacyPort } = ports;
  const listeners = [`SASL_SSL://127.0.0.1:${port}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const advertised = [`SASL_SSL://127.0.0.1:${port}`];
  if (legacyPort !== undefined) {
    listeners.push(`LEGACY://127.0.0.1:${legacyPort}`);
    advertised.push(`LEGACY://127.0.0.1:${legacyPort}`);
  }
  const keystore = join(o.pki.dir, 'kafka-keystore.pem');
  // A PEM keystore is the private key followed by the certificate chain, in one file.
  writeFileSync(keystore, `${o.pki.server.privateKeyPem.trim()}\n${o.pki.server.certificatePem.trim()}\n`, {
    mode: 0o600,
  });
  const jaas = (module: string, user: string, password: string, extra = '') =>
    `org.apache.kafka.common.security.${module} required username="${user}" password="${password}"${extra};`;
  return [
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_SSL',
    'listener.security.protocol.map=CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL,LEGACY:PLAINTEXT',
    // Clients and brokers: SCRAM-SHA-512, credentials in the cluster metadata.
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas('scram.ScramLoginModule', KAFKA_BROKER_USER, secrets.brokerPassword)}`,
    // Controllers: PLAIN (over TLS) with the one user in the JAAS file.
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    'sasl.mechanism.controller.protocol=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=${jaas(
      'plain.PlainLoginModule',
      KAFKA_CONTROLLER_USER,
      secrets.controllerPassword,
      ` user_${KAFKA_CONTROLLER_USER}="${secrets.controllerPassword}"`,
    )}`,
    // TLS: the fleet CA's server certificate (PEM keystore, Kafka ≥ 2.7), the fleet CA as trust.
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${o.pki.caFile}`,
    'ssl.endpoint.identification.algorithm=https',
    // What no ACL allows is denied; the hub's principals may do anything.
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=${[KAFKA_HUB_USER, KAFKA_BROKER_USER, KAFKA_CONTROLLER_USER].map((u) => `User:${u}`).join(';')}`,
    // Sessions re-authenticate (KIP-368): a removed or rotated credential stops working by then.
    `connections.max.reauth.ms=${o.reauthMs ?? 60_000}`,
  ];
}

/** `kafka-storage format` arguments that write the hub's and the broker's SCRAM credentials (KIP-900). */
export function formatScramArgs(secrets: KafkaSecrets): string[] {
  return [
    ['--add-scram', `SCRAM-SHA-512=[name=${KAFKA_BROKER_USER},password=${secrets.brokerPassword}]`],
    ['--add-scram', `SCRAM-SHA-512=[name=${KAFKA_HUB_USER},password=${secrets.hubPassword}]`],
  ].flat();
}

/** The client's view of an authenticated cluster. */
export function kafkaAuth(o: KafkaAuthOptions, secrets: KafkaSecrets, legacyPort?: number): KafkaAuth {
  return {
    caFile: o.pki.caFile,
    ca: readFileSync(o.pki.caFile, 'utf8'),
    hub: { username: KAFKA_HUB_USER, password: secrets.hubPassword },
    ...(legacyPort === undefined ? {} : { legacyBroker: `127.0.0.1:${legacyPort}` }),
  };
}
