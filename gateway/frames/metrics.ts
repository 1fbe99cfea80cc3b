/** Frame uploads on /metrics: counted by outcome (stored, duplicate, refused) and refusal reason. */
import { Counter, type Registry } from 'prom-client';
import type { FrameRefusal } from './errors.ts';

export type FrameOutcome = 'stored' | 'duplicate' | FrameRefusal;

/** This gateway's frame uploads by outcome (one per gateway: several may share a process in tests). */
export class FrameCounts {
  readonly outcomes = new Map<FrameOutcome, number>();

  count(outcome: FrameOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}

export function frameMetrics(registry: Registry, counts: FrameCounts): void {
  new Counter({
    name: 'devicehub_frame_uploads_total',
    help: 'Vision frames edges uploaded to this gateway: stored, duplicate (the same bytes again), or refused with the reason',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [outcome, n] of counts.outcomes)
        if (outcome === 'stored' || outcome === 'duplicate') this.inc({ outcome, reason: '' }, n);
        else this.inc({ outcome: 'refused', reason: outcome.toLowerCase() }, n);
    },
  });
}
