/**
 * kafkajs's `ssl` and `sasl` for a client of an authenticated Kafka: TLS checked against the given
 * CA (or the system's), and a SCRAM-SHA-512 login. What the link, the downlink relay, the
 * simulator and the credential admin pass to `new Kafka(...)`; nothing at all for a plain broker.
 */
import type { KafkaConfig } from 'kafkajs';

export interface KafkaClientSecurity {
  /** PEM of the CA the brokers' certificates chain to (default: the system's CAs). */
  readonly ca?: string;
  /** SCRAM-SHA-512 user and password; with them the connection is SASL_SSL. */
  readonly username: string;
  readonly password: string;
}

export function kafkaClientSecurity(
  security: KafkaClientSecurity | undefined,
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (security === undefined) return {};
  return {
    ssl: security.ca === undefined ? true : { ca: [security.ca] },
    sasl: { mechanism: 'scram-sha-512', username: security.username, password: security.password },
  };
}
