/**
 * Rollouts, the gateway's side: `/v1/rollouts` (create, list, read, pause, resume, abort, roll
 * back), the membership decided at creation (fleet filter, waves by hash order or building) and
 * kept up by a job (edges that match later join), the definitions in the database, and the
 * configuration gate (a configuration rollout's version served only to admitted edges).
 */
export { ConfigRolloutGate, GATED_RECHECK_MS } from './config-gate.ts';
export type { MembershipRule, RolloutDeps } from './create.ts';
export { createRollout, resolveMembers } from './create.ts';
export { rolloutAddress } from './members-send.ts';
export { splitIntoWaves, toMember } from './membership.ts';
export { RolloutMembershipJob } from './membership-job.ts';
export { recordRollouts } from './records.ts';
export { rolloutRoutes } from './routes.ts';
export type { NewRolloutBody, RolloutView } from './schemas.ts';
export type { ArtifactFinder } from './targets.ts';
export { readRolloutState, rolloutView } from './view.ts';
