/**
 * The edge actor (`edge/<edgeId>`), one per elevator edge box, run by the actor runtime in
 * `actors/`: telemetry into the device shadow, online/offline by a durable timer, alarms, sequence
 * tracking, commands to the edge and the tunnels' state machine.
 */

export type { EdgeActorOptions } from './edge-actor.ts';
export { createEdgeActor, EDGE_OFFLINE_AFTER_MS, edgeActor } from './edge-actor.ts';
export type { CommandRecord, EdgeState, OpenAlarm } from './state.ts';
export { isActive as isActiveTunnel, MAX_FINISHED_TUNNELS } from './tunnels.ts';
