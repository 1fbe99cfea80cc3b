/**
 * The scale benchmark (`npm run bench -- scale`): 100,000 edges, each its own MQTT connection, on
 * one machine: broker shards, simulator processes, the reconnect storm, Redis bytes per edge.
 */
export type { ScaleOptions } from './scale.ts';
export { EDGES_PER_SHARD, scaleOptions, scaleScenario } from './scale.ts';
