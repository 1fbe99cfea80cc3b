/**
 * Running DeviceHub's real dependencies locally: servers on free loopback ports for the tests,
 * the demo and the benchmarks, hub nodes as child processes, and waiting for conditions.
 * Provisioning (installing the servers) is `infra/provision.sh`.
 */

export type { AlertmanagerOptions, AlertmanagerServer } from './alertmanager.ts';
export { startAlertmanager } from './alertmanager.ts';
export type { AlertmanagerConfigOptions } from './alertmanager-config.ts';
export { renderAlertmanagerConfig } from './alertmanager-config.ts';
export type { ExporterServer } from './exporters.ts';
export { startNodeExporter, startPostgresExporter, startRedisExporter } from './exporters.ts';
export type { EzvizFaultSettings, EzvizFaults, RateLimitCode } from './ezviz/faults.ts';
export type { RenderClip } from './ezviz/files.ts';
export type { EzvizStandIn, EzvizStandInOptions, EzvizStandInStats } from './ezviz/standin.ts';
export { startEzvizStandIn } from './ezviz/standin.ts';
export { freePort, freePorts, portOpen } from './free-port.ts';
export type { FrpsOptions, FrpsServer } from './frp.ts';
export { frpBinary, frpVersion, startFrps } from './frp.ts';
export type { DevicehubProcess, HubProcess, HubProcessOptions } from './hub-process.ts';
export { keyspaceArgs, nodeFlagsOf, spawnDevicehub, spawnHubNode } from './hub-process.ts';
export type { KafkaCluster, KafkaClusterOptions, KafkaServer } from './kafka.ts';
export { kafkaJarsDir, startKafka, startKafkaCluster } from './kafka.ts';
export type { KafkaAuth, KafkaAuthOptions } from './kafka-security.ts';
export { KAFKA_BROKER_USER, KAFKA_CONTROLLER_USER, KAFKA_HUB_USER } from './kafka-security.ts';
export type { ModelFile, TestPhotos } from './models.ts';
export {
  MODEL_NAME,
  MODEL_SHA256,
  MODEL_VERSION,
  modelFile,
  testPhotos,
  visionAssetsMissing,
} from './models.ts';
export type { HubMetricsUrls, MonitoringOptions, MonitoringPlan, MonitoringStack } from './monitoring.ts';
export {
  gatewayAlerts,
  hubScrapeJobs,
  MONITORING_JOBS,
  planMonitoring,
  startMonitoring,
} from './monitoring.ts';
export type { MonitoringServer } from './monitoring-process.ts';
export { monitoringBinary } from './monitoring-process.ts';
export type {
  MosquittoOptions,
  MosquittoServer,
  MosquittoTlsListeners,
  MosquittoTlsOptions,
} from './mosquitto.ts';
export { openFileCap, startMosquitto, tlsListenerConf } from './mosquitto.ts';
export type { NginxCacheOptions, NginxLogEntry, NginxOriginOptions, NginxServer } from './nginx.ts';
export { nginxBinary, parseAccessLog, startNginxCache, startNginxOrigin } from './nginx.ts';
export { CDN_SLICE, cdnLocation } from './nginx-conf.ts';
export type { PostgresOptions, PostgresServer } from './postgres.ts';
export { startPostgres } from './postgres.ts';
export type { ProcessInfo } from './process-tree.ts';
export {
  descendants,
  killDescendants,
  ownChildProcesses,
  stillRunning,
  stopDescendants,
  waitUntilGone,
  watchDescendants,
} from './process-tree.ts';
export type { PrometheusOptions, PrometheusServer, PrometheusTarget } from './prometheus.ts';
export { startPrometheus } from './prometheus.ts';
export type { PrometheusConfigOptions, ScrapeJob } from './prometheus-config.ts';
export { renderPrometheusConfig } from './prometheus-config.ts';
export { type CommandStat, commandStats } from './redis-commandstats.ts';
export type { RedisServer, RedisServerOptions } from './redis-server.ts';
export { redisServerBinary, STREAM_NODE_MAX_BYTES, startRedisServer } from './redis-server.ts';
export type { S3ProxyOptions, S3ProxyServer } from './s3proxy.ts';
export { S3PROXY_VERSION, s3proxyJar, startS3Proxy } from './s3proxy.ts';
export { withDisposer } from './server-process.ts';
export type { SshdServer } from './sshd.ts';
export { startSshd } from './sshd.ts';
export { TS_NODE_ARGS } from './ts-node-args.ts';
export { v8FlagsOf } from './v8-flags.ts';
export type { VictoriaLogsOptions, VictoriaLogsServer } from './victorialogs.ts';
export { startVictoriaLogs, victoriaLogsBinary, victoriaLogsVersion } from './victorialogs.ts';
export { waitFor } from './wait-for.ts';
export type { BackendMode, WebBackendStandIn } from './web-backend.ts';
export { startWebBackendStandIn } from './web-backend.ts';
export type { WireCut } from './wire-cut.ts';
export { startWireCut } from './wire-cut.ts';
