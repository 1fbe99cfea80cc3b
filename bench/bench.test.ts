/**
 * Smoke test of the benchmark machinery itself (small and short: the numbers that matter come
 * from `npm run bench`, never from tests). Separate processes, as in the real runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeReport } from './report.ts';
import { actorsScenario } from './scenarios/actors.ts';
import { dietScenario } from './scenarios/diet.ts';
import { ingestScenario } from './scenarios/ingest.ts';

describe('bench', { timeout: 120_000 }, () => {
  it('runs the actors scenario end to end and accounts for every message', async () => {
    const { result, targets, plot } = await actorsScenario({ edges: 50, nodes: 1, seconds: 2 });
    assert.equal(result.lost, 0);
    assert.equal(result.duplicated, 0);
    assert.ok(Number(result.msgs) > 0, 'messages were handled in the window');
    const dir = mkdtempSync(join(tmpdir(), 'devicehub-bench-'));
    const table = writeReport(dir, 'actors', result, targets, plot);
    assert.match(table, /\| lost \| 0 \| 0 \| yes \|/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'actors.json'), 'utf8')), result);
    assert.match(readFileSync(join(dir, 'actors.svg'), 'utf8'), /<svg[^>]*>[\s\S]*<polyline/);
  });

  for (const transport of ['mqtt', 'kafka'] as const) {
    it(`runs the ingest scenario over ${transport} with legacy edges and accounts for every message`, async () => {
      const { result } = await ingestScenario({
        edges: 40,
        nodes: 1,
        seconds: 3,
        transport,
        workload: 'legacy',
        links: 1,
      });
      assert.equal(result.transport, transport);
      assert.ok(Number(result.sent) > 40 * 3, `the simulated edges sent ${result.sent}`);
      assert.equal(result.lost, 0);
      assert.equal(result.duplicated, 0);
      assert.equal(result.deadLettered, 0);
      assert.ok(Number(result.msgs) > 0, 'messages were handled in the window');
    });
  }
});

describe('diet (a simulated day of one edge, legacy vs compact)', () => {
  it('rebuilds the same state from both formats with a fraction of the bytes and messages', async () => {
    const { result } = await dietScenario();
    assert.equal(result.stateMismatches, 0, JSON.stringify(result.firstMismatches));
    assert.ok(Number(result.samplePoints) >= 8000);
    assert.ok(Number(result.bytesRatio) >= 20, `bytesRatio ${result.bytesRatio}`);
    assert.ok(Number(result.msgsRatio) >= 5, `msgsRatio ${result.msgsRatio}`);
  });
});
