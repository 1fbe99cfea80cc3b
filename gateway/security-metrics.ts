/**
 * The gateway's security figures on /metrics: refused logins by scheme and reason, addresses over
 * their failed-login limit, and edge certificates issued, refused by reason and revoked.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CertificateStats } from './credentials/mod.ts';
import type { LoginLimiter } from './login-limiter.ts';

/** Edge certificates issued, refused (a malformed CSR, one naming another edge, …) by reason, revoked. */
export function certificateMetrics(registry: Registry, stats: CertificateStats): void {
  new Counter({
    name: 'devicehub_edge_certificates_total',
    help: 'Edge certificate requests on this gateway: issued, or refused with the reason',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ outcome: 'issued', reason: '' }, stats.issued);
      for (const [reason, n] of stats.refused) this.inc({ outcome: 'refused', reason }, n);
    },
  });
  new Counter({
    name: 'devicehub_edge_certificates_revoked_total',
    help: 'Edge certificates this gateway revoked (deregistrations): on the CRL until they expire',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.revoked);
    },
  });
}

/** Refused credentials by scheme and reason, requests refused for too many of them, addresses limited. */
export function loginMetrics(registry: Registry, limiter: LoginLimiter): void {
  new Counter({
    name: 'devicehub_auth_failures_total',
    help: 'Credentials this gateway refused (401), by scheme (bearer, basic, other) and reason',
    labelNames: ['scheme', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, n] of limiter.failures) {
        const [scheme = '', reason = ''] = key.split('|');
        this.inc({ scheme, reason }, n);
      }
    },
  });
  new Counter({
    name: 'devicehub_auth_rate_limited_total',
    help: 'Requests answered 429: their address had too many failed logins, by scheme',
    labelNames: ['scheme'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [scheme, n] of limiter.limited) this.inc({ scheme }, n);
    },
  });
  new Gauge({
    name: 'devicehub_auth_limited_addresses',
    help: 'Source addresses over their failed-login limit now (this gateway)',
    registers: [registry],
    collect() {
      this.set(limiter.limitedAddresses());
    },
  });
}
