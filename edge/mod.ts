/**
 * Everything that speaks to edges: the protocol's names (topics, kinds, QoS), decoding the legacy
 * JSON today's edges send, the compact format of DeviceHub's agent, the agent's status deadbands,
 * wire-size accounting, and the hub-side MQTT and Kafka links. The on-device agent is in
 * `agent/` (its own surface: it runs on the edge, not in the hub).
 */

export type { CompactMessage } from './compact.ts';
export { decodeCompact, encodeCompact } from './compact.ts';
export type { LinkStats } from './dead-letter.ts';
export { queueDeviceDeadLetter } from './dead-letter.ts';
export type { DownlinkCommand, DownlinkRelayOptions, DownlinkSender } from './downlink-relay.ts';
export { DownlinkRelay, downlinkGroup, kafkaDownlink, mqttDownlink } from './downlink-relay.ts';
export type { Second } from './elevator-day.ts';
export { birthOf, DAY_SECONDS, elevatorDay } from './elevator-day.ts';
export { DecodeError, MAX_DEVICE_MESSAGE_BYTES, SubscribeRefusedError } from './errors.ts';
export { kafkaProduceBytes, mqttPublishBytes } from './framing.ts';
export type { KafkaLinkOptions } from './kafka-link.ts';
export { KafkaLink } from './kafka-link.ts';
export { decodeLegacy } from './legacy.ts';
export {
  legacyCommandResult,
  legacyDetection,
  legacyFault,
  legacyHeartbeat,
  legacyStatus,
  withSequence,
} from './legacy-encoder.ts';
export type { DeviceMessage, EdgeLink, IngestHooks, IngestOptions } from './link.ts';
export { Ingest } from './link.ts';
export type { MqttLinkOptions } from './mqtt-link.ts';
export { MqttLink } from './mqtt-link.ts';
export type { Birth, Health, HubMessage, Status, Vision } from './normalized.ts';
export { DIRECTION, DOOR, round, STATUS_EVENT_FIELDS } from './normalized.ts';
export {
  downlinkTopic,
  isValidEdgeId,
  KAFKA_TOPICS,
  legacyQos,
  legacyUplinkTopic,
  PROTOCOL_VERSION,
  parseUplinkTopic,
  UPLINK_QOS,
  UplinkKind,
  uplinkFilters,
  uplinkTopic,
} from './protocol.ts';
export type { EdgeRegistry, RedisEdgeRegistryOptions } from './registry.ts';
export { provisionEdges, RedisEdgeRegistry } from './registry.ts';
export type { SimulatorOptions } from './simulator.ts';
export { Simulator, simulatedEdgeId, simulatedPassword } from './simulator.ts';
export type { StatusUpdate } from './status-encoder.ts';
export { DEFAULT_DEADBANDS, StatusEncoder } from './status-encoder.ts';
export type { LegacyMessage, Workload } from './workloads.ts';
export { CompactEdge, LegacyEdge } from './workloads.ts';
