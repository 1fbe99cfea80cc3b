/**
 * Smoke test of `npm run bench -- recognition` at a tiny size (50 edges, a few events, one run of
 * 2 workers with one kill -9ed): the run finishes, the JSON holds every field the issue names, no
 * event is lost and every verdict made on a photograph is the one its content calls for, and
 * nothing it started is left running. The numbers come from `npm run bench`.
 * Redis Cluster pass: once — the bench starts its own single Redis; the model queue's and the
 * actors' Redis operations run on the cluster in their own tests.
 */
import assert from 'node:assert/strict';
import { visionAssetsMissing } from '../infra/models.ts';
import { recognitionScenario } from './scenarios/recognition.ts';
import { smokeCases, tiny } from './smoke.ts';

const RUN_FIELDS = [
  'events',
  'verdicts',
  'lost',
  'timeouts',
  'imagesPerSecondPerCore',
  'p99UploadToVerdictMs',
  'batchMean',
  'workers',
];

const missing = visionAssetsMissing();

smokeCases(
  'recognition bench at a tiny size',
  missing
    ? []
    : [
        {
          name: 'recognition',
          run: () =>
            recognitionScenario(tiny({ edges: 50, seconds: 6 }), {
              burst: 3,
              workers: [2],
              maxBatch: 4,
              lockMs: 1000,
              steadyPerSecond: 0.5,
              burstSpreadS: 1,
              settleTimeoutMs: 60_000,
            }),
          fields: ['edges', 'model.bytes', 'cpuMsPerImage', ...RUN_FIELDS.map((f) => `runs.0.${f}`)],
          check: (r) => {
            const [run] = r.runs as Record<string, number>[];
            assert.equal(run!.workers, 2);
            assert.ok(run!.events! > 0, 'events were sent');
            assert.equal(run!.lost, 0);
            assert.equal(run!.uploadsFailed, 0);
            assert.equal(run!.wrongVerdicts, 0);
            assert.ok(run!.images! > 0, 'images went through the model');
          },
        },
      ],
);
