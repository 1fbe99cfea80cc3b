/**
 * Reading logs (issue 18): `GET /v1/logs` (operator: edge, service, level, time range, plain
 * words; newest first, a cursor per page) and the live tail `GET /v1/logs/tail` (a WebSocket,
 * authenticated as `/v1/events`, dropping and counting lines for a client that falls behind),
 * both over the log store of logs/ (`openLogStore(DEVICEHUB_LOG_STORE)`); none: 503.
 */
export { logRoutes, NO_LOG_STORE } from './routes.ts';
export { MAX_RANGE_MS } from './schemas.ts';
export {
  DEFAULT_TAIL_MAX_BUFFERED,
  LOG_TAIL_PATH,
  type LogTailOptions,
  type LogTailSocket,
  logTailSocket,
} from './tail-socket.ts';
