/**
 * The Redis-stream bus: key schema, connections, mailbox streams, the Lua scripts that make
 * leases, commits, timers and trimming atomic, and the dead-letter stream. `openBus` gives the
 * handle with one typed operation per script (bus.ts); replies become results or typed errors
 * in replies.ts.
 */

export { appendAlertEvent } from './alert-events.ts';
export type { Bus, BusOptions } from './bus.ts';
export { openBus } from './bus.ts';
export type { Commit, ShardCommit, TimerWrite } from './commit.ts';
export type { DeadLetterPage } from './dead-letter-reads.ts';
export {
  DEAD_LETTER_SCAN,
  deadLetterCount,
  deadLetterEdgeCount,
  deadLetterTotals,
  pageDeadLetters,
  readDeadLetters,
  topDeadLetterEdges,
} from './dead-letter-reads.ts';
export type {
  DeadLetter,
  DeadLetterBudget,
  DeadLetterInput,
  EdgeDeadLetterOptions,
} from './dead-letters.ts';
export { DEAD_LETTER_EXCERPT_BYTES, DEFAULT_DEAD_LETTER_BUDGET, MAX_DEAD_LETTERS } from './dead-letters.ts';
export type { MailboxEntry, MailboxMessage, RawEntry } from './entry.ts';
export {
  decodeEntry,
  encodeEntry,
  isValidAddress,
  MAX_PAYLOAD_BYTES,
  rawField,
  TIMER_METHOD,
} from './entry.ts';
export {
  BusError,
  ClaimTakenError,
  ConnectionDroppedError,
  InvalidMessageError,
  LayoutMismatchError,
  MalformedEntryError,
  PortsExhaustedError,
  ReplicasNotReachedError,
  ScriptReplyError,
  ScriptsNotLoadedError,
  toError,
} from './errors.ts';
export type { BudgetGrant, EzvizBudget, EzvizCooldown } from './ezviz-budget.ts';
export { startEzvizCooldown, takeEzvizBudget } from './ezviz-budget.ts';
export { fnv1a32, keySlot, mix32 } from './hash.ts';
export type { EzvizKeys, Keyspace, KeyspaceOptions, ShardKeys, TimerMember } from './keys.ts';
export {
  CLIP_RETENTION_LEASE,
  CONSUMER_GROUP,
  clipQueue,
  createKeyspace,
  EZVIZ_TOKEN_LEASE,
  groupByTag,
  mailLease,
  parseTimerMember,
  parseTunnelClaim,
  recognitionJobId,
  recognitionQueue,
  shardMask,
  sinkLease,
  TUF_UPKEEP_LEASE,
  timerMember,
  tunnelClaim,
  webhookLease,
  webhookQueue,
} from './keys.ts';
export { ensureLayout } from './layout.ts';
export type { AcquireLeases, ReleaseLeases, RenewLeases } from './leases.ts';
export type { LiveEntry } from './live.ts';
export {
  appendLive,
  LIVE_RETENTION_MS,
  LiveSequence,
  liveEvents,
  liveNumber,
  parseLiveEntry,
} from './live.ts';
export type {
  DecodedEntry,
  EncodedMessage,
  PendingDeliveries,
  ReadableShards,
  ReadReady,
  ReadShards,
  ShardRead,
} from './mailbox.ts';
export { tryDecode } from './mailbox.ts';
export { liveMembers } from './membership.ts';
export type { HoldLease } from './named-lease.ts';
export { execOrThrow, openPipeline } from './pipeline.ts';
export type { AllocatePorts, PortRange, ReleasePorts } from './port-pool.ts';
export { allocatedPorts } from './port-pool.ts';
export type { PipelineReply, Queued } from './queued.ts';
export { markReadAfter, readAfter } from './read-after.ts';
export type { ConnectOptions, Redis } from './redis.ts';
export { connectRedis, isCluster, unlessDropped } from './redis.ts';
export type { WaitForReplicas } from './replicas.ts';
export { waitForReplicas } from './replicas.ts';
export type { Granted, MembershipView, RawShardEntries, Trimmed } from './replies.ts';
export type { ScriptName } from './scripts.ts';
export { scriptNamed } from './scripts.ts';
export { compareStreamIds } from './stream-id.ts';
export type { FireTimers } from './upkeep.ts';
export { TRIM_CHUNK_STREAMS } from './upkeep.ts';
