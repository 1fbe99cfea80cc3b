/**
 * The edge actor (`edge/<edgeId>`), one per elevator edge box, run by the actor runtime in
 * `actors/`: telemetry into the device shadow, online/offline by a durable timer, alarms, sequence
 * tracking, commands to the edge, the tunnels' state machine, alarm clips (clips.ts) and second
 * looks (vision.ts; the node reads both policies with policy-source.ts). Where an edge's telemetry changes its shadow:
 * telemetry.ts; the definition that wires the handlers together: edge-actor.ts.
 */

export type { EdgeActorOptions } from './edge-actor.ts';
export { createEdgeActor, edgeActor } from './edge-actor.ts';
export type { PolicySource, PolicySourceOptions } from './policy-source.ts';
export { openPolicySource } from './policy-source.ts';
export { EDGE_OFFLINE_AFTER_MS } from './presence.ts';
export type {
  ClipRecord,
  CommandRecord,
  EdgeClips,
  EdgeState,
  EdgeUpdates,
  EdgeVision,
  InstalledPackage,
  OpenAlarm,
  PendingVision,
  UpdateAssignment,
  UpdateHistoryEntry,
  VisionRecord,
} from './state.ts';
export { MAX_CLIPS, MAX_KEPT_DETECTIONS, MAX_UPDATE_HISTORY, MAX_VERDICTS } from './state.ts';
export type { TileFields } from './tile.ts';
export { TILE_EVENT, tileFields } from './tile.ts';
export { isActive as isActiveTunnel, MAX_FINISHED_TUNNELS } from './tunnels.ts';
export { MAX_VISION_PENDING, NO_RECOGNITION, VISION_GRACE_MS, VISION_TIMER } from './vision.ts';
