/**
 * A hub node's turn: read the waiting entries of the node's shards (`read.ts`), apply them to
 * their actors one at a time in stream order (`apply.ts`, handler contexts in `context.ts`), and
 * commit states, acknowledgements, timers and outbox events fenced by the lease epochs
 * (`commit.ts`); `run-turn.ts` runs the three steps.
 */
export { checkpointShards } from './commit.ts';
export { CAREFUL_AFTER_DELIVERIES } from './read.ts';
export { runTurn } from './run-turn.ts';
export type { HandledMessage, TurnOptions, TurnResult, TurnShard, TurnView } from './view.ts';
export { turnView } from './view.ts';
