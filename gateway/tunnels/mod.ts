/**
 * Remote access on demand: the tunnel routes (`/v1/edges/{id}/tunnels`), how an operator connects
 * (hints, HTTP CONNECT through frps's multiplexed port) and SSH in the browser.
 */

export type { ConnectViaOptions } from './connect-via.ts';
export { connectVia } from './connect-via.ts';
export { recordTunnels, tunnelClaims, tunnelCounts } from './records.ts';
export { DEFAULT_TUNNEL_SETTINGS, tunnelRoutes } from './routes.ts';
export { MIN_SECRET_KEY_BYTES, tunnelSecret } from './secret.ts';
export type { TerminalDeps } from './terminal-socket.ts';
export { terminalPath, terminalSocket } from './terminal-socket.ts';
export { tunnelIdOfHost } from './view.ts';
