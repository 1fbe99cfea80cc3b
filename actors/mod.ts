/**
 * The actor runtime: hub nodes, placement by rendezvous hashing over live members, shard
 * leases with fencing tokens, turns and durable timers. It knows no actor types: their
 * definitions are handed to a node.
 */

export type { ActorSlot } from './actor-table.ts';
export { ActorTable } from './actor-table.ts';
export type { ActorClient } from './client.ts';
export { createActorClient } from './client.ts';
export type { ActorContext, ActorDefinition, Handler, HandlerMap, OutboxEvent, PayloadOf } from './define.ts';
export { defineActor } from './define.ts';
export { ConfigError, TerminalError } from './errors.ts';
export type { HistogramJSON } from './histogram.ts';
export { Histogram, histogramDelta } from './histogram.ts';
export { readLeases } from './leases.ts';
export type { Logger } from './logger.ts';
export { actorLogFields, silentLogger } from './logger.ts';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.ts';
export { serveMetrics } from './metrics-server.ts';
export type { HubNodeHooks, HubNodeOptions, HubNodeStopped, NodeStats } from './node/mod.ts';
export { HubNode, startHubNode } from './node/mod.ts';
export type { CumulativeBuckets } from './prom-text.ts';
export { PromText } from './prom-text.ts';
export { nodeStatsToPrometheus } from './prometheus.ts';
export type { PersistedState } from './read-state.ts';
export { forEachCheckpointPage, readActorState, readCheckpoints } from './read-state.ts';
export { HashRing } from './ring.ts';
export { readNodeStats } from './stats.ts';
export type { HandledMessage } from './turn/mod.ts';
