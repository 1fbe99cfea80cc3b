/**
 * The edge protocol (docs/protocol.md): topics and kinds, the legacy JSON today's edges send, the
 * compact format of DeviceHub's agent, the agent's status deadbands, wire-size accounting, the
 * limits every decoded field is checked against, and the canonical messages both formats decode
 * into. Shared by the hub's links and the on-device agent, so it loads nothing of the hub.
 */

export { describe } from './checks.ts';
export type {
  ClipAlarm,
  ClipCamera,
  ClipKindPolicy,
  ClipPolicy,
  ClipRequest,
  ClipResultPayload,
} from './clips.ts';
export {
  CLIP_ID,
  CLIP_KIND_NAME,
  CLIP_POLICY_LIMITS,
  clipIdOf,
  clipPolicyProblem,
  clipRequestProblem,
  clipResultProblem,
  DEFAULT_CLIP_POLICY,
  decodeCamera,
  isClipCamera,
  MAX_CLIP_KINDS,
  planClip,
} from './clips.ts';
export type { CompactMessage } from './compact.ts';
export { decodeCompact, encodeCompact } from './compact.ts';
export type { UpdateReport } from './compact-update.ts';
export { DecodeError, MAX_DEVICE_MESSAGE_BYTES, SubscribeRefusedError } from './errors.ts';
export type { KafkaRecordFrame } from './framing.ts';
export { kafkaProduceBytes, mqttPublishBytes } from './framing.ts';
export { decodeLegacy } from './legacy.ts';
export type {
  LegacyDetection,
  LegacyFault,
  LegacyHeader,
  LegacyHeartbeat,
  LegacyStatus,
} from './legacy-encoder.ts';
export {
  legacyCommandResult,
  legacyDetection,
  legacyFault,
  legacyHeartbeat,
  legacyStatus,
  withSequence,
} from './legacy-encoder.ts';
export { LOG_LIMITS } from './limits.ts';
export type { LineVerdict } from './log-budget.ts';
export { LineBudget, lineBytes } from './log-budget.ts';
export type { LogBatch, LogLine, LogLineLevel } from './logs.ts';
export {
  decodeLogBatch,
  encodeLogBatch,
  encodeLogBatches,
  isLogMessage,
  LOG_LINE_LEVELS,
} from './logs.ts';
export type { AlarmReading, Birth, Health, HubMessage, Status, Vision } from './normalized.ts';
export { DIRECTION, DOOR, round, STATUS_EVENT_FIELDS } from './normalized.ts';
export {
  mergePackedBirth,
  mergePackedStatus,
  PACKED_STATUS,
  type PackedParts,
  packedParts,
  packTelemetry,
  unpackParts,
  unpackTelemetry,
} from './packed.ts';
export type {
  AlarmPayload,
  CommandPayload,
  CommandResultPayload,
  DownlinkCommand,
  EdgeTransport,
  TelemetryKind,
  TelemetryPayload,
  TunnelClosePayload,
  TunnelOpenPayload,
  TunnelRecord,
  TunnelService,
  TunnelState,
  UpdateCommandArgs,
  UpdateState,
  UpdateStatePayload,
  UpdateTarget,
} from './payloads.ts';
export { UPDATE_STATES } from './payloads.ts';
export {
  downlinkTopic,
  isValidEdgeId,
  KAFKA_TOPICS,
  KAFKA_UPLINK_TOPICS,
  legacyQos,
  legacyUplinkTopic,
  PROTOCOL_VERSION,
  parseUplinkTopic,
  UPLINK_QOS,
  UplinkKind,
  uplinkFilters,
  uplinkTopic,
} from './protocol.ts';
export type { RendezvousMember } from './rendezvous.ts';
export { pickByRendezvous, rankByRendezvous } from './rendezvous.ts';
export type { StatusUpdate } from './status-encoder.ts';
export { DEFAULT_DEADBANDS, StatusEncoder } from './status-encoder.ts';
export type {
  Detection,
  RecognitionClass,
  RecognitionKindPolicy,
  RecognitionPolicy,
  VisionEventRef,
  VisionRequest,
  VisionVerdict,
  VisionVerdictPayload,
} from './vision.ts';
export {
  classOf,
  DEFAULT_RECOGNITION_POLICY,
  decodeVisionRef,
  MAX_VERDICT_DETECTIONS,
  priorityOf,
  RECOGNITION_CLASSES,
  RECOGNITION_KIND_NAME,
  RECOGNITION_LABEL,
  RECOGNITION_MODEL_NAME,
  RECOGNITION_POLICY_LIMITS,
  recognitionPolicyProblem,
  VISION_EVENT_ID,
  VISION_FRAMES,
  VISION_VERDICTS,
  visionRefOf,
  visionRequestProblem,
  visionVerdictProblem,
} from './vision.ts';
