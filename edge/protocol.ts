/**
 * The edge protocol's names, in one place: MQTT topics, Kafka topics and keys, message kinds
 * and their QoS. `docs/protocol.md` explains them.
 */

export const PROTOCOL_VERSION = 1;

/** What an edge sends (uplink kinds) and the code of each in the compact format's header. */
export const UplinkKind = {
  birth: 1,
  status: 2,
  vision: 3,
  alarm: 4,
  health: 5,
  log: 6,
  result: 7,
} as const;
export type UplinkKind = keyof typeof UplinkKind;

/** MQTT QoS per uplink kind: alarms and command results must arrive; the rest may be superseded. */
export const UPLINK_QOS: Readonly<Record<UplinkKind, 0 | 1>> = {
  birth: 1,
  status: 0,
  vision: 1,
  alarm: 1,
  health: 0,
  log: 0,
  result: 1,
};

const EDGE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function isValidEdgeId(id: unknown): id is string {
  return typeof id === 'string' && EDGE_ID.test(id);
}

/** `dh/v1/<edgeId>/up/<kind>`: edge → hub. */
export function uplinkTopic(edgeId: string, kind: UplinkKind): string {
  return `dh/v${PROTOCOL_VERSION}/${edgeId}/up/${kind}`;
}

/** `dh/v1/<edgeId>/down`: hub → edge (commands). */
export function downlinkTopic(edgeId: string): string {
  return `dh/v${PROTOCOL_VERSION}/${edgeId}/down`;
}

/** Parses an uplink topic; undefined when it is not one. */
export function parseUplinkTopic(topic: string): { edgeId: string; kind: UplinkKind } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== 'dh' || parts[1] !== `v${PROTOCOL_VERSION}` || parts[3] !== 'up')
    return undefined;
  const [, , edgeId, , kind] = parts as [string, string, string, string, string];
  if (!isValidEdgeId(edgeId) || !Object.hasOwn(UplinkKind, kind)) return undefined;
  return { edgeId, kind: kind as UplinkKind };
}

/** Kafka topics of legacy edges (verbose JSON, keyed by edge id) and of the downlink. */
export const KAFKA_TOPICS = {
  status: 'elevator-status',
  detection: 'elevator-detection',
  heartbeat: 'elevator-heartbeat',
  fault: 'elevator-fault',
  compact: 'dh-uplink',
  downlink: 'dh-downlink',
} as const;
