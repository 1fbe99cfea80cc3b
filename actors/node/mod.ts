/**
 * The hub node: `HubNode` composes its placement (membership, ring, leases, hand-off), its turn
 * loop and its upkeep (timers, trimming, stats) around the shards it holds; `options.ts` holds
 * its options, defaults and the hooks a harness may inject.
 */
export { HubNode, startHubNode } from './hub-node.ts';
export type { HubNodeHooks, HubNodeOptions } from './options.ts';
export type { HubNodeStopped } from './shutdown.ts';
export type { NodeStats } from './upkeep.ts';
