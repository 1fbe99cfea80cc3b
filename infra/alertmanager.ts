/**
 * Alertmanager (Debian's prometheus-alertmanager) on a free loopback port, its configuration
 * rendered by infra/alertmanager-config.ts: one route to the gateway's webhook with a
 * bearer token, grouping, group wait and interval, repeat interval. No cluster peering (its gossip
 * port would collide with a system Alertmanager's 9094), its silences and notification log in a
 * temporary folder. `configure` rewrites the route and reloads (`POST /-/reload`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AlertmanagerConfigOptions, renderAlertmanagerConfig } from './alertmanager-config.ts';
import { onFreePort } from './free-port.ts';
import { startMonitoringProcess, withFolder } from './monitoring-process.ts';
import type { ServerProcess } from './server-process.ts';

export interface AlertmanagerOptions extends AlertmanagerConfigOptions {
  readonly port?: number;
  /** Append its log to this file. */
  readonly logFile?: string;
}

export interface AlertmanagerServer extends ServerProcess, AsyncDisposable {
  /** `http://127.0.0.1:<port>` (API v2 under /api/v2). */
  readonly url: string;
  readonly port: number;
  readonly configFile: string;
  /** Renders a new configuration (another webhook, other intervals) and reloads it. */
  configure(options: AlertmanagerConfigOptions): Promise<void>;
}

export function startAlertmanager(options: AlertmanagerOptions): Promise<AlertmanagerServer> {
  return onFreePort(options.port, (port) => startAlertmanagerOn(options, port));
}

async function startAlertmanagerOn(options: AlertmanagerOptions, port: number): Promise<AlertmanagerServer> {
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'dh-alertmanager-'));
  const configFile = join(dir, 'alertmanager.yml');
  // The token is in it: readable by this user only.
  const write = (o: AlertmanagerConfigOptions) =>
    writeFileSync(configFile, renderAlertmanagerConfig(o), { mode: 0o600 });
  write(options);
  const proc = await startMonitoringProcess({
    server: 'alertmanager',
    port,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      // No HA peering: a single Alertmanager (and no gossip port 9094 to collide on).
      '--cluster.listen-address=',
    ],
    readyUrl: `${url}/-/ready`,
    ...(options.logFile ? { logFile: options.logFile } : {}),
  });
  return withFolder(
    proc,
    {
      url,
      port,
      configFile,
      async configure(o: AlertmanagerConfigOptions) {
        write(o);
        const res = await fetch(`${url}/-/reload`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
        if (!res.ok)
          throw new Error(`Alertmanager refused its configuration (${res.status}): ${await res.text()}`);
      },
    },
    dir,
  );
}
