/**
 * Rollouts: an update (packages or a configuration version) delivered to a dynamic group of edges
 * in waves that stop themselves — the durable `rollout/<id>` actor (rollout-actor.ts), its spec
 * and messages (spec.ts), its compact members (members.ts) and state (state.ts), wave placement
 * and gates (waves.ts), maintenance windows (windows.ts) and the health comparison's test
 * (health-test.ts).
 */

export type { MemberRecord, MemberStatus, WaveCounts } from './members.ts';
export { M as MEMBER_STATUS } from './members.ts';
export { rolloutActor } from './rollout-actor.ts';
export type {
  CheckedSpec,
  CreateRollout,
  Delivery,
  EdgeStateMessage,
  ErrorThreshold,
  HealthComparison,
  HealthEventKind,
  HealthMessage,
  JoinRollout,
  MaintenanceWindow,
  OperatorAction,
  RolloutMember,
  RolloutSpec,
  RolloutStatus,
  RolloutTarget,
  UpdateAssignPayload,
  UpdateEnrollPayload,
  WaveSpec,
} from './spec.ts';
export { checkSpec, ROLLOUT_ID, RolloutSpecError } from './spec.ts';
export type { HealthSide, HealthTally, HealthVerdictSummary, RolloutState, RolloutSummary } from './state.ts';
export { initialRolloutState, summarize } from './state.ts';
export { gate, waveOf } from './waves.ts';
export { isTimeZone } from './windows.ts';
