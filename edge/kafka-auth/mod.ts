/**
 * Kafka with authentication (issue 14, item 3), the hub's side: one SCRAM-SHA-512 user per edge
 * kept with its registration (`KafkaIdentities`, behind the small `EdgeKafkaCredentials` the
 * gateway may be given), the ACLs (fleet-wide for the wildcard principal, the downlink group per
 * edge), SCRAM credentials set over Kafka's own API (KIP-554) without a JVM (`ScramAdmin`), and
 * the kafkajs options of an authenticated client (`kafkaClientSecurity`).
 * docs/decisions/018-kafka-authentication.md says why.
 */

export {
  edgeAclFilter,
  edgeAcls,
  edgeDownlinkGroup,
  edgePrincipal,
  fleetAcls,
} from './acls.ts';
export type { KafkaClientSecurity } from './client-security.ts';
export { kafkaClientSecurity } from './client-security.ts';
export type { KafkaAuthErrorCode } from './errors.ts';
export { KafkaAuthError } from './errors.ts';
export type { EdgeKafkaCredentials, KafkaIdentitiesOptions } from './kafka-identities.ts';
export { isEdgeKafkaUser, KafkaIdentities } from './kafka-identities.ts';
export { SCRAM_ITERATIONS, SCRAM_SHA_512, ScramClient, saltedPassword, scramCredential } from './scram.ts';
export type { ScramAdminOptions, ScramUpsertion } from './scram-admin.ts';
export { ScramAdmin } from './scram-admin.ts';
