/**
 * Smoke test of `npm run bench -- logs` at a tiny size (20 edges, phases of 2–3 s, the store down
 * 2 s): the JSON holds every field the issue names, every line the broker acknowledged is in
 * VictoriaLogs (lost 0), the hub processes' own lines are there too, every marker was seen, and
 * nothing it started is left running. The numbers come from `npm run bench -- logs`.
 * Redis Cluster pass: once — the bench starts its own single Redis; the links' and the actors'
 * Redis operations run on the cluster in their own tests.
 */
import assert from 'node:assert/strict';
import { logsScenario } from './scenarios/logs.ts';
import { smokeCases, tiny } from './smoke.ts';

smokeCases('logs bench at a tiny size', [
  {
    name: 'logs',
    run: () =>
      logsScenario(tiny({ edges: 20, seconds: 2 }), {
        storeDownSeconds: 2,
        burstSeconds: 2,
        linesPerSecond: 1,
        batchSeconds: 1,
        workload: 'legacy',
        afterSeconds: 3,
        drainSeconds: 30,
      }),
    fields: [
      'linesSent',
      'linesStored',
      'lost',
      'hubCpuMicrosPerLine',
      'storeCpuMicrosPerLine',
      'p99ShipToQueryableMs',
      'telemetryP99MsDuringBurst',
      'telemetryP99MsWithoutLogs',
      'telemetryP99Ratio',
    ],
    check: (r) => {
      assert.ok((r.linesSent as number) > 0, 'edges shipped lines');
      assert.equal(r.lost, 0);
      assert.equal(r.markersSeen, r.markersSent);
      assert.ok((r.hubProcessLinesStored as number) > 0, 'the hub processes shipped their own lines');
      assert.ok((r.telemetryHandledDuringBurst as number) > 0, 'telemetry flowed during the burst');
    },
  },
]);
