/**
 * Smoke test of `npm run bench -- clips` at a tiny size (50 edges, a few alarms, seconds): both
 * runs finish, the JSON holds every field the issue names for each run, no clip is missing or
 * duplicated, and nothing it started is left running. The numbers come from `npm run bench`.
 * Redis Cluster pass: once — the bench starts its own single Redis; the clip queue's and the
 * actors' Redis operations run on the cluster in their own tests.
 */
import assert from 'node:assert/strict';
import { clipsScenario } from './scenarios/clips.ts';
import { smokeCases, tiny } from './smoke.ts';

const RUN_FIELDS = [
  'alarms',
  'clipsStored',
  'duplicates',
  'missing',
  'ezvizCallsMaxPerSecond',
  'budgetPerSecond',
  'p95AlarmEndToStoredMs',
  'workers',
];

smokeCases('clips bench at a tiny size', [
  {
    name: 'clips',
    run: () =>
      clipsScenario(tiny({ edges: 50, seconds: 1 }), {
        stormPercent: 10,
        durationSeconds: 6,
        latencyMs: 20,
        budgetPerSecond: 40,
        tightBudgetPerSecond: 0,
        steadyPerSecond: 1,
        alarmSeconds: [1, 2],
        storm: { spreadS: 2, lastsS: 1 },
        settleTimeoutMs: 90_000,
      }),
    fields: ['edges', 'throughputRatio3vs1', ...RUN_FIELDS.flatMap((f) => [`runs.0.${f}`, `runs.1.${f}`])],
    check: (r) => {
      const runs = r.runs as Record<string, number>[];
      assert.deepEqual(
        runs.map((run) => run.workers),
        [1, 3],
      );
      for (const run of runs) {
        assert.ok(run.clipsStored! > 0, 'clips were stored');
        assert.equal(run.missing, 0);
        assert.equal(run.duplicates, 0);
        assert.ok(run.ezvizCallsMaxPerSecond! <= run.budgetPerSecond!);
      }
    },
  },
]);
