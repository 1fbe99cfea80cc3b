/** Artifact uploads on /metrics: counted by outcome (stored, duplicate, refused) and refusal reason. */
import { Counter, type Registry } from 'prom-client';
import type { ArtifactCatalog } from './catalog.ts';

export function artifactMetrics(registry: Registry, catalog: ArtifactCatalog): void {
  new Counter({
    name: 'devicehub_artifact_uploads_total',
    help: 'Artifact uploads on this gateway: stored, duplicate (a retried upload), or refused with the reason',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of catalog.outcomes)
        if (outcome === 'stored' || outcome === 'duplicate') this.inc({ outcome, reason: '' }, n);
        else this.inc({ outcome: 'refused', reason: outcome }, n);
    },
  });
}
