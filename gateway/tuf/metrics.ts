/**
 * The repository on /metrics: each role's newest version and the seconds until it expires. An
 * upkeep that stopped re-signing shows as `devicehub_tuf_expires_in_seconds` falling below half a
 * lifetime; at 0 every edge refuses the metadata (TUF_EXPIRED) — the alert TufMetadataExpiring
 * fires long before.
 */
import { Gauge, type Registry } from 'prom-client';
import type { TufRepository, TufVersions } from './repository.ts';

export function tufMetrics(registry: Registry, repository: TufRepository): void {
  // One read of the four versions per scrape, shared by both gauges.
  let read: { at: number; value: Promise<TufVersions> } | undefined;
  const versions = () => {
    if (read === undefined || Date.now() - read.at > 1000)
      read = { at: Date.now(), value: repository.versions() };
    return read.value;
  };
  new Gauge({
    name: 'devicehub_tuf_version',
    help: 'The newest signed version of each TUF role',
    labelNames: ['role'],
    registers: [registry],
    async collect() {
      for (const [role, v] of Object.entries(await versions())) this.set({ role }, v.version);
    },
  });
  new Gauge({
    name: 'devicehub_tuf_expires_in_seconds',
    help: "Seconds until each TUF role's newest version expires (re-signed at half its lifetime)",
    labelNames: ['role'],
    registers: [registry],
    async collect() {
      for (const [role, v] of Object.entries(await versions()))
        this.set({ role }, Math.round((v.expiresAt.getTime() - Date.now()) / 1000));
    },
  });
}
