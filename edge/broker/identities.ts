/**
 * Who may talk to the MQTT broker and what each may do, as mosquitto's dynamic-security plugin
 * (dynsec) holds it: one client and one role per edge (its own uplink to send, its own downlink to
 * read — mosquitto 2.0's dynsec has no `%u` in ACL topics, so each edge needs a role of its own),
 * the hub's links (all of DeviceHub's topics, shared subscriptions included) and the admin that
 * manages dynsec over `$CONTROL`. The links' and the admin's user names hold an `@`, which no edge
 * id can (`isValidEdgeId`): no edge can ever be registered under them.
 */
import { downlinkTopic, isValidEdgeId, legacyUplinkTopic, PROTOCOL_VERSION } from '../protocol/mod.ts';

/** The hub's links (MQTT link, downlink relay) log in as this user. */
export const LINK_USER = 'link@devicehub';
/** The gateway manages the broker's identities as this user. */
export const ADMIN_USER = 'admin@devicehub';
export const LINK_ROLE = 'devicehub-link';
export const ADMIN_ROLE = 'devicehub-admin';
export const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
export const CONTROL_RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

/** dynsec's ACL types (`acltype` in its commands and its file). */
export type AclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

export interface Acl {
  readonly acltype: AclType;
  readonly topic: string;
  readonly allow: boolean;
  readonly priority?: number;
}

/** The role of one edge: `edge/<id>` (a `/` no edge id holds, so it never meets the hub's roles). */
export function edgeRoleName(edgeId: string): string {
  return `edge/${edgeId}`;
}

/**
 * An edge sends on `dh/v1/<id>/up/#` and `dh/v1/<id>/legacy`, subscribes to `dh/v1/<id>/down`
 * literally (a subscription to anything else — `$share/…`, a wildcard, another edge's topic — is
 * refused at SUBSCRIBE, reason code 0x87) and receives only that topic.
 */
export function edgeAcls(edgeId: string): Acl[] {
  if (!isValidEdgeId(edgeId)) throw new RangeError(`Not an edge id: ${JSON.stringify(edgeId)}`);
  const down = downlinkTopic(edgeId);
  return [
    { acltype: 'publishClientSend', topic: `dh/v${PROTOCOL_VERSION}/${edgeId}/up/#`, allow: true },
    { acltype: 'publishClientSend', topic: legacyUplinkTopic(edgeId), allow: true },
    { acltype: 'publishClientReceive', topic: down, allow: true },
    { acltype: 'subscribeLiteral', topic: down, allow: true },
    { acltype: 'unsubscribeLiteral', topic: down, allow: true },
  ];
}

/** The links read every uplink (through the shared subscription) and write every downlink. */
export const LINK_ACLS: readonly Acl[] = [
  { acltype: 'publishClientSend', topic: 'dh/#', allow: true },
  { acltype: 'publishClientReceive', topic: 'dh/#', allow: true },
  { acltype: 'subscribePattern', topic: 'dh/#', allow: true },
  { acltype: 'subscribePattern', topic: '$share/+/dh/#', allow: true },
  { acltype: 'unsubscribePattern', topic: 'dh/#', allow: true },
  { acltype: 'unsubscribePattern', topic: '$share/+/dh/#', allow: true },
];

/** The admin sends dynsec commands and reads their responses. */
export const ADMIN_ACLS: readonly Acl[] = [
  { acltype: 'publishClientSend', topic: `${CONTROL_TOPIC}`, allow: true },
  { acltype: 'publishClientReceive', topic: CONTROL_RESPONSE_TOPIC, allow: true },
  { acltype: 'subscribeLiteral', topic: CONTROL_RESPONSE_TOPIC, allow: true },
  { acltype: 'unsubscribeLiteral', topic: CONTROL_RESPONSE_TOPIC, allow: true },
];

/** Whether a broker user name is an edge's (every other user is the hub's own). */
export function isEdgeUser(username: string): boolean {
  return isValidEdgeId(username);
}
