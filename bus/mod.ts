/**
 * The Redis-stream bus: key schema, connections, mailbox streams, the Lua scripts that make
 * leases, commits, timers and trimming atomic, and the dead-letter stream.
 */

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
export type { DeadLetter, DeadLetterBudget, DeadLetterInput } from './dead-letters.ts';
export {
  DEAD_LETTER_EXCERPT_BYTES,
  DEFAULT_DEAD_LETTER_BUDGET,
  MAX_DEAD_LETTERS,
  queueDeadLetter,
  queueEdgeDeadLetter,
} from './dead-letters.ts';
export type { MailboxEntry, MailboxMessage } from './entry.ts';
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
  InvalidMessageError,
  LayoutMismatchError,
  MalformedEntryError,
  PortsExhaustedError,
  ReplicasNotReachedError,
  toError,
} from './errors.ts';
export { fnv1a32, keySlot, mix32 } from './hash.ts';
export type { Keyspace, KeyspaceOptions, ShardKeys } from './keys.ts';
export { CONSUMER_GROUP, createKeyspace, groupByTag, shardMask } from './keys.ts';
export { ensureLayout } from './layout.ts';
export type { DecodedEntry, EncodedMessage, RawShardEntries, ShardRead } from './mailbox.ts';
export {
  appendMessages,
  claimPending,
  encodeMessage,
  pendingDeliveries,
  queueEncodedMessages,
  queueMessageBatch,
  queueMessages,
  readReady,
  readShards,
  tryDecode,
} from './mailbox.ts';
export { dropLease, holdLease } from './named-lease.ts';
export { execOrThrow, openPipeline } from './pipeline.ts';
export type { PortRange } from './port-pool.ts';
export { allocatedPorts, allocatePorts, releasePorts } from './port-pool.ts';
export type { ConnectOptions, Redis } from './redis.ts';
export { connectRedis, duplicateRedis, isCluster } from './redis.ts';
export { waitForReplicas } from './replicas.ts';
export type { ScriptName } from './scripts.ts';
export { runScript } from './scripts.ts';
export { compareStreamIds } from './stream-id.ts';
