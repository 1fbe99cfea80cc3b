/**
 * The ACLs of an authenticated Kafka (the StandardAuthorizer with `allow.everyone.if.no.acl.found=false`):
 * what every edge may do is one set of bindings for the wildcard principal, so 50,000 edges do not
 * mean 50,000 copies; only the consumer group of an edge's downlink is its own (another edge in
 * that group would take its partitions, and so its commands). The hub's principals are super users
 * and need none.
 */
import kafkajs, {
  type AclEntry,
  type AclFilter,
  type AclOperationTypes,
  type AclResourceTypes,
} from 'kafkajs';
import { KAFKA_TOPICS, KAFKA_UPLINK_TOPICS } from '../protocol/mod.ts';

// kafkajs is CommonJS and Node's ESM loader does not see these among its named exports.
const {
  AclOperationTypes: Operation,
  AclPermissionTypes,
  AclResourceTypes: Resource,
  ResourcePatternTypes,
} = kafkajs;

/** The consumer group an agent reads its Kafka downlink in (`edge/agent/uplink.ts`). */
export const edgeDownlinkGroup = (edgeId: string) => `edge-${edgeId}`;

/** The Kafka principal of an edge's SCRAM user. */
export const edgePrincipal = (edgeId: string) => `User:${edgeId}`;

const allow = (
  principal: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  operation: AclOperationTypes,
): AclEntry => ({
  principal,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

/**
 * Every principal (`User:*`, which includes `User:ANONYMOUS` on a legacy PLAINTEXT listener when
 * the operator opened one): WRITE on the uplink topics (WRITE implies DESCRIBE and, since Kafka 2.8,
 * idempotent production), READ on the downlink topic. Nothing else: no CREATE (no new topics),
 * no WRITE on the downlink, no ALTER, no cluster operation.
 */
export function fleetAcls(): AclEntry[] {
  return [
    ...KAFKA_UPLINK_TOPICS.map((topic) => allow('User:*', Resource.TOPIC, topic, Operation.WRITE)),
    allow('User:*', Resource.TOPIC, KAFKA_TOPICS.downlink, Operation.READ),
  ];
}

/** An edge's own: READ on its downlink consumer group. */
export function edgeAcls(edgeId: string): AclEntry[] {
  return [allow(edgePrincipal(edgeId), Resource.GROUP, edgeDownlinkGroup(edgeId), Operation.READ)];
}

/** The filter that matches every binding of the edge's principal (to delete them). */
export function edgeAclFilter(edgeId: string): AclFilter {
  return {
    resourceType: Resource.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal: edgePrincipal(edgeId),
    operation: Operation.ANY,
    permissionType: AclPermissionTypes.ANY,
  };
}
