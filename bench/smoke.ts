/**
 * The smoke harness of the benchmark scenarios (bench.test.ts, bench-brokers.test.ts): each case
 * runs one scenario once at a tiny size, its JSON result must have every field it promises, its
 * report files must be written, and it must leave no process behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { descendants, waitUntilGone } from '../infra/mod.ts';
import { writeReport } from './report.ts';
import type { ScenarioOptions, ScenarioResult } from './scenarios/common.ts';

/** Every dotted path of `fields` is in the result as written to JSON (NaN/undefined would not be). */
export function assertFields(
  result: Record<string, unknown>,
  fields: readonly string[],
): Record<string, unknown> {
  const json = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
  const missing = fields.filter((path) => {
    let value: unknown = json;
    for (const key of path.split('.')) value = (value as Record<string, unknown> | null)?.[key];
    return value === undefined || value === null;
  });
  assert.deepEqual(missing, [], `fields missing from ${JSON.stringify(json)}`);
  return json;
}

export const ms3 = (name: string) => [`${name}.p50`, `${name}.p99`, `${name}.max`];

export interface Case {
  readonly name: string;
  readonly run: () => Promise<ScenarioResult>;
  readonly fields: readonly string[];
  readonly check?: (result: Record<string, unknown>) => void;
}

export const tiny = (o: Partial<ScenarioOptions> & { edges: number; seconds: number }): ScenarioOptions => ({
  nodes: 1,
  ...o,
});

export const noLoss = (r: Record<string, unknown>) => {
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
};

/**
 * The floors were measured twice, before the load and after it, and the reported floor is their
 * mean (floors.ts `bracketFloors`): the path's floor over MQTT, the Redis loop's alone otherwise.
 */
export const bracketedFloors = (r: Record<string, unknown>) => {
  const floors = r.floors as {
    samples?: { redisMicrosPerMsg: number; mqttMicrosPerMsg: number | null }[];
    settings?: { redisRounds?: number };
  };
  assert.equal(floors.samples?.length, 2, 'floors measured before and after the load');
  assert.equal(floors.settings?.redisRounds, 3, 'the Redis floor is the median of three rounds');
  const path = floors.samples.map((f) => {
    assert.ok(f.redisMicrosPerMsg > 0, `a Redis floor of ${f.redisMicrosPerMsg} µs`);
    return f.redisMicrosPerMsg + (f.mqttMicrosPerMsg ?? 0);
  });
  const mean = (path[0]! + path[1]!) / 2;
  assert.ok(
    Math.abs(Number(r.floorMicrosPerMsg) - mean) <= 0.02,
    `floorMicrosPerMsg ${r.floorMicrosPerMsg} is the mean of ${path.join(' and ')}`,
  );
};

/** One test per case under `title`; call it while the test file loads. */
export function smokeCases(title: string, cases: readonly Case[]): void {
  /** Processes of this test process from before the scenarios (none expected): not theirs. */
  const before = descendants().map((p) => p.pid);
  const timings: string[] = [];
  after(() => console.error(`bench smoke timings: ${timings.join(', ')}`));
  describe(title, { timeout: 600_000 }, () => {
    for (const c of cases) {
      it(`${c.name}: runs, reports every field, leaves no process behind`, { timeout: 240_000 }, async () => {
        const started = Date.now();
        try {
          const { result, targets, plot } = await c.run();
          const json = assertFields(result, c.fields);
          c.check?.(json);
          // The report files: a table row per target, the same JSON, a plot.
          const dir = mkdtempSync(join(tmpdir(), 'devicehub-bench-'));
          const table = writeReport({ dir, scenario: 'smoke', result, targets, plot });
          assert.equal(table.split('\n').filter((l) => l.startsWith('| ')).length, targets.length + 1);
          assert.deepEqual(JSON.parse(readFileSync(join(dir, 'smoke.json'), 'utf8')), json);
          assert.match(readFileSync(join(dir, 'smoke.svg'), 'utf8'), /<svg[^>]*>/);
        } finally {
          timings.push(`${c.name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
          // Finished or failed: none of the scenario's processes may outlive it.
          await waitUntilGone({ ignore: before });
        }
      });
    }
  });
}
