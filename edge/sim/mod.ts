/**
 * Simulated edges: the two workloads (today's legacy JSON edges and DeviceHub's compact agent),
 * an elevator's day as a deterministic script, and the simulator that runs thousands of edges
 * (MQTT connections of their own or shared Kafka producers) for the demo and the benchmarks, and
 * their updater (`update` commands: TUF, downloads through the CDN, simulated installs).
 */

export { brokerShardOf, shardEdgeIndices } from './broker-shard.ts';
export type { Second } from './elevator-day.ts';
export { birthOf, DAY_SECONDS, elevatorDay, mulberry32 } from './elevator-day.ts';
export type { SimMqttTls } from './mqtt-edges.ts';
export type { SimLogStats, SimLogsOptions } from './sim-logs.ts';
export { SimLogs } from './sim-logs.ts';
export type {
  SimDownload,
  SimRolloutStats,
  SimTufClient,
  SimUpdateStats,
  SimUpdatesOptions,
} from './sim-updater.ts';
export { SimUpdater } from './sim-updater.ts';
export type { SimulatorOptions } from './simulator.ts';
export { Simulator, simulatedEdgeId, simulatedPassword } from './simulator.ts';
export type { LegacyMessage, Workload } from './workloads.ts';
export { CompactEdge, LegacyEdge } from './workloads.ts';
