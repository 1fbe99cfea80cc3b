/**
 * A multiplexed tunnel's secret: whoever asks frps's HTTP CONNECT port for one of its names must
 * send `Proxy-Authorization: Basic <tunnelId>:<secret>` (frp tcpmux `httpUser`/`httpPassword`,
 * set by the edge's frpc). The secret is an HMAC of the tunnel id under the gateways' shared key,
 * so nothing is stored: the gateway that opened the tunnel returns it to the operator once, any
 * gateway derives it again for the browser terminal, and the edge gets it in its open command.
 * Never logged.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { TunnelSettings } from '../deps.ts';

/** This process's key when none is configured (one gateway, tests, the demo). */
const PROCESS_KEY = randomBytes(32);

/** The shortest key accepted (bytes). */
export const MIN_SECRET_KEY_BYTES = 32;

/** The tunnel's secret (base64url, 256 bits), or undefined outside multiplexed mode. */
export function tunnelSecret(settings: TunnelSettings, tunnelId: string): string | undefined {
  if (settings.mux === undefined) return undefined;
  return createHmac('sha256', settings.mux.secretKey ?? PROCESS_KEY)
    .update(`devicehub tunnel ${tunnelId}`)
    .digest('base64url');
}

/** What the HTTP CONNECT request carries for a tunnel: its id as the user, the secret as password. */
export function tunnelProxyAuth(tunnelId: string, secret: string): string {
  return `Basic ${Buffer.from(`${tunnelId}:${secret}`).toString('base64')}`;
}
