/**
 * The gateway: the HTTP API for the web backend and operators (fleet state, commands,
 * configuration, broker pool, API keys), its database (PostgreSQL or embedded PGlite) and auth.
 */

export { type ClipLinkOptions, MIN_CLIP_KEY_BYTES } from './alarms/mod.ts';
export { createApp } from './app.ts';
export type { ArtifactRecord } from './artifacts/mod.ts';
export { ArtifactCatalog, DEFAULT_MAX_ARTIFACT_BYTES } from './artifacts/mod.ts';
export type { AuthEnv, Principal } from './auth.ts';
export { Authenticator, createApiKey, requireAuth } from './auth.ts';
export type { PoolBroker } from './broker-assignment.ts';
export { assignBroker } from './broker-assignment.ts';
export { mergeConfig, putConfig } from './config-store.ts';
export type { Database, Db, OpenDatabaseOptions } from './db/database.ts';
export { openDatabase } from './db/database.ts';
export type { ApiScope, ConfigKind } from './db/schema.ts';
export { API_SCOPES, CONFIG_KINDS } from './db/schema.ts';
export type { GatewayDeps } from './deps.ts';
export { ApiError, errorBody } from './errors.ts';
export type { ResolvedConfig } from './fleet-view.ts';
export { FleetView } from './fleet-view.ts';
export type { BrokerAdminOptions, Gateway, GatewayOptions, ServedGateway } from './gateway.ts';
export { createGateway, serveGateway } from './gateway.ts';
export type { KafkaAdminOptions } from './kafka-credentials.ts';
export { DEFAULT_KAFKA_ADMIN_USER } from './kafka-credentials.ts';
export type { MonitoringOptions } from './monitoring/mod.ts';
export { registerEdges } from './register-edges.ts';
export { connectVia, MIN_SECRET_KEY_BYTES, tunnelIdOfHost } from './tunnels/mod.ts';
