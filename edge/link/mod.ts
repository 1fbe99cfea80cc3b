/**
 * The hub's side of the edge links: one `EdgeLink` interface and one `Ingest` step (size, edge id
 * and fleet check, decode, mailbox entry or dead letter), MQTT (shared subscription, PUBACK after
 * the mailbox write) and Kafka (consumer group, offsets committed after the write), the downlink
 * relays that carry commands back per transport, and the fleet registry the links check against.
 */

export type { LinkStats } from './dead-letter.ts';
export { queueDeviceDeadLetter } from './dead-letter.ts';
export type { DownlinkRelayOptions, DownlinkSender } from './downlink-relay.ts';
export { DownlinkRelay, downlinkGroup, kafkaDownlink, mqttDownlink } from './downlink-relay.ts';
export type { HubPresenceOptions } from './hub-presence.ts';
export { HubPresence } from './hub-presence.ts';
export type { DeviceMessage, EdgeLink, IngestHooks, IngestOptions } from './ingest.ts';
export { Ingest } from './ingest.ts';
export type { KafkaLinkOptions } from './kafka-link.ts';
export { KafkaLink } from './kafka-link.ts';
export type { MeteredLink } from './link-metrics.ts';
export { linkMetricsText } from './link-metrics.ts';
export type { EdgeLogBudget, EdgeLogOutcome, LogSink } from './log-intake.ts';
export { EDGE_LOG_OUTCOMES } from './log-intake.ts';
export type { MqttLinkOptions, MqttLinkTls } from './mqtt-link.ts';
export { MqttLink, mqttLogin, QOS0_BATCH_MAX, QOS0_LINGER_MS } from './mqtt-link.ts';
export type { EdgeRegistry, RedisEdgeRegistryOptions } from './registry.ts';
export { deprovisionEdges, provisionEdges, RedisEdgeRegistry } from './registry.ts';
