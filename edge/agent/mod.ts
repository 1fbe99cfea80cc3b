/**
 * The on-device agent: local input for elenet and litefcccore, compact encoding, bounded
 * store-and-forward, vision frames queued on disk and uploaded to the gateway (frame-queue.ts,
 * frame-uploader.ts), configuration polling and broker or transport switching (MQTT, Kafka).
 */

export type { AgentStats, EdgeAgentOptions } from './agent.ts';
export { EdgeAgent } from './agent.ts';
export type { AgentLogStats } from './agent-logs.ts';
export type { CommandExecutor } from './commands.ts';
export type { EdgeConfig } from './config.ts';
export type { QueuedMessage } from './disk-queue.ts';
export { DiskQueue } from './disk-queue.ts';
export type { AgentErrorCode } from './errors.ts';
export { AgentError } from './errors.ts';
export type { FrameSourceOptions, QueuedFrame } from './frame-queue.ts';
export { FrameQueue } from './frame-queue.ts';
export type { AgentFrames, FrameStats } from './frame-uploader.ts';
export type { AgentTls } from './http-client.ts';
export type { LocalInput } from './local-input.ts';
export { startLocalInput } from './local-input.ts';
export type { EdgeLogsConfig } from './log-settings.ts';
export type { Backoff } from './reconnect.ts';
export { jitteredBackoffMs, RECONNECT_BACKOFF, reconnectWithBackoff } from './reconnect.ts';
export type { TunnelExecutorOptions } from './tunnels.ts';
export { TunnelExecutor } from './tunnels.ts';
export { NO_MATCHING_SUBSCRIBERS, trackUnheard } from './unheard.ts';
export type { AgentUpdates } from './updates/agent-updater.ts';
export type { AgentUpdatesSetup } from './updates/agent-updates.ts';
export { agentUpdates } from './updates/agent-updates.ts';
export type { BrokerConfig, Uplink } from './uplink.ts';
export { brokerName, parseBroker } from './uplink.ts';
