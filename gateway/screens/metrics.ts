/**
 * The screen read model in the gateway's `/metrics`: the live streams it serves, the deltas slow
 * screens skipped (and the snapshots they got once drained), and the times its feed missed live
 * entries (bus/live.ts) so that it read the edges' states again — a gateway that keeps falling
 * behind its live streams shows here before its screens drift.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ScreenModel } from './read-model.ts';

export function screenMetrics(registry: Registry, model: ScreenModel): void {
  new Gauge({
    name: 'devicehub_screen_subscribers',
    help: 'Wall-screen live streams (SSE and WebSocket) this gateway serves now',
    registers: [registry],
    collect() {
      this.set(model.subscribers);
    },
  });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter(
    'devicehub_screen_live_gaps_total',
    'Times this gateway missed live entries (trimmed before it read them) and read the edges’ states again',
    () => model.liveGaps,
  );
  counter(
    'devicehub_screen_deltas_skipped_total',
    'Deltas slow wall screens skipped while their connection drained',
    () => model.paced.skipped,
  );
  counter(
    'devicehub_screen_resyncs_total',
    'Snapshots sent to slow wall screens once drained, in place of the deltas they skipped',
    () => model.paced.resyncs,
  );
}
