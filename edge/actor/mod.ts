/**
 * The edge actor (`edge/<edgeId>`), one per elevator edge box, run by the actor runtime in
 * `actors/`: telemetry into the device shadow, online/offline by a durable timer, alarms, sequence
 * tracking, commands to the edge, the tunnels' state machine and alarm clips (clips.ts; the node
 * reads the clip policy with clip-policy-source.ts). Where an edge's telemetry changes its shadow:
 * telemetry.ts; the definition that wires the handlers together: edge-actor.ts.
 */

export type { ClipPolicySource, ClipPolicySourceOptions } from './clip-policy-source.ts';
export { openClipPolicySource } from './clip-policy-source.ts';
export type { EdgeActorOptions } from './edge-actor.ts';
export { createEdgeActor, edgeActor } from './edge-actor.ts';
export { EDGE_OFFLINE_AFTER_MS } from './presence.ts';
export type {
  ClipRecord,
  CommandRecord,
  EdgeClips,
  EdgeState,
  EdgeUpdates,
  InstalledPackage,
  OpenAlarm,
  UpdateAssignment,
  UpdateHistoryEntry,
} from './state.ts';
export { MAX_CLIPS, MAX_UPDATE_HISTORY } from './state.ts';
export { isActive as isActiveTunnel, MAX_FINISHED_TUNNELS } from './tunnels.ts';
