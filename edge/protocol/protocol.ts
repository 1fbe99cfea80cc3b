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
  update: 8,
} as const;
export type UplinkKind = keyof typeof UplinkKind;

/**
 * MQTT QoS per uplink kind: alarms, command results and update states must arrive, and so must a log
 * batch (the agent drops it from its queue only once the hub has it); the rest may be superseded.
 */
export const UPLINK_QOS: Readonly<Record<UplinkKind, 0 | 1>> = {
  birth: 1,
  status: 0,
  vision: 1,
  alarm: 1,
  health: 0,
  log: 1,
  result: 1,
  update: 1,
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

/**
 * `dh/v1/<edgeId>/legacy`: today's verbose JSON (any `msgType`) from an edge that moved to MQTT
 * before it moved to the compact format.
 */
export function legacyUplinkTopic(edgeId: string): string {
  return `dh/v${PROTOCOL_VERSION}/${edgeId}/legacy`;
}

/** Parses an uplink topic (compact or legacy); undefined when it is not one. */
export function parseUplinkTopic(topic: string): { edgeId: string; kind: UplinkKind | 'legacy' } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'dh' || parts[1] !== `v${PROTOCOL_VERSION}`) return undefined;
  const edgeId = parts[2] ?? '';
  if (!isValidEdgeId(edgeId)) return undefined;
  if (parts.length === 4 && parts[3] === 'legacy') return { edgeId, kind: 'legacy' };
  const kind = parts[4] ?? '';
  if (parts.length !== 5 || parts[3] !== 'up' || !Object.hasOwn(UplinkKind, kind)) return undefined;
  return { edgeId, kind: kind as UplinkKind };
}

/** MQTT topic filters the hub's links subscribe to (shared by `group`). */
export function uplinkFilters(group: string): string[] {
  return [
    `$share/${group}/dh/v${PROTOCOL_VERSION}/+/up/#`,
    `$share/${group}/dh/v${PROTOCOL_VERSION}/+/legacy`,
  ];
}

/**
 * MQTT QoS of a legacy message: faults and command results are events and must arrive; status,
 * detections and heartbeats are periodic, each superseded by the next (the workload's QoS 1 is
 * for faults only).
 */
export function legacyQos(msgType: string): 0 | 1 {
  return msgType === 'fault' || msgType === 'commandResult' ? 1 : 0;
}

/** Kafka topics of legacy edges (verbose JSON, keyed by edge id) and of the downlink. */
export const KAFKA_TOPICS = {
  status: 'elevator-status',
  detection: 'elevator-detection',
  heartbeat: 'elevator-heartbeat',
  fault: 'elevator-fault',
  result: 'elevator-command-result',
  compact: 'dh-uplink',
  downlink: 'dh-downlink',
} as const;

/** The topics edges produce to: today's legacy topics and the compact uplink (the links read them). */
export const KAFKA_UPLINK_TOPICS: readonly string[] = [
  KAFKA_TOPICS.status,
  KAFKA_TOPICS.detection,
  KAFKA_TOPICS.heartbeat,
  KAFKA_TOPICS.fault,
  KAFKA_TOPICS.result,
  KAFKA_TOPICS.compact,
];
