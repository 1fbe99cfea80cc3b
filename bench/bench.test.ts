/**
 * Smoke test of the benchmark machinery itself: every scenario of `npm run bench` runs once, as
 * small and short as still exercises it (the numbers that matter come from `npm run bench`, never
 * from tests), its JSON result has every field it promises, and it leaves no process behind.
 * Separate processes, as in the real runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { descendants, spawnDevicehub, waitFor, waitUntilGone } from '../infra/mod.ts';
import { writeReport } from './report.ts';
import { actorsScenario } from './scenarios/actors.ts';
import type { ScenarioOptions, ScenarioResult } from './scenarios/common.ts';
import { dietScenario } from './scenarios/diet.ts';
import { failoverScenario } from './scenarios/failover.ts';
import { gatewayScenario } from './scenarios/gateway.ts';
import { ingestScenario } from './scenarios/ingest.ts';
import { outboxScenario } from './scenarios/outbox.ts';
import { rebalanceScenario } from './scenarios/rebalance.ts';
import { redisFailoverScenario } from './scenarios/redis-failover.ts';
import { rollingScenario } from './scenarios/rolling.ts';
import { tunnelScenario } from './scenarios/tunnel.ts';

/** Processes of this test process from before the scenarios (none expected): not theirs. */
const before = descendants().map((p) => p.pid);
const timings: string[] = [];
after(() => console.error(`bench smoke timings: ${timings.join(', ')}`));

/** Every dotted path of `fields` is in the result as written to JSON (NaN/undefined would not be). */
function assertFields(result: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const json = JSON.parse(JSON.stringify(result)) as Record<string, unknown>;
  const missing = fields.filter((path) => {
    let value: unknown = json;
    for (const key of path.split('.')) value = (value as Record<string, unknown> | null)?.[key];
    return value === undefined || value === null;
  });
  assert.deepEqual(missing, [], `fields missing from ${JSON.stringify(json)}`);
  return json;
}

const ms3 = (name: string) => [`${name}.p50`, `${name}.p99`, `${name}.max`];

interface Case {
  readonly name: string;
  readonly run: () => Promise<ScenarioResult>;
  readonly fields: readonly string[];
  readonly check?: (result: Record<string, unknown>) => void;
}

const tiny = (o: Partial<ScenarioOptions> & { edges: number; seconds: number }): ScenarioOptions => ({
  nodes: 1,
  ...o,
});

const noLoss = (r: Record<string, unknown>) => {
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
};

const cases: Case[] = [
  {
    name: 'actors',
    run: () => actorsScenario(tiny({ edges: 50, seconds: 2 })),
    fields: [
      'scenario',
      'edges',
      'nodes',
      'seconds',
      'msgs',
      'msgsPerSec',
      ...ms3('latencyMs'),
      'cpuMicrosPerMsg',
      'redisUsedMemoryBytes',
      'redisBytesPerEdge',
      'lost',
      'duplicated',
    ],
    check: (r) => {
      noLoss(r);
      assert.ok(Number(r.msgs) > 0, 'messages were handled in the window');
    },
  },
  {
    name: 'rebalance',
    run: () => rebalanceScenario(tiny({ edges: 30, nodes: 2, seconds: 3 })),
    fields: [
      'scenario',
      'edges',
      'nodes',
      'seconds',
      'movedFraction',
      'idealFraction',
      'settleMs',
      'lost',
      'duplicated',
    ],
    check: noLoss,
  },
  {
    name: 'failover',
    run: () => failoverScenario(tiny({ edges: 30, seconds: 6 })),
    fields: [
      'scenario',
      'edges',
      'nodes',
      'seconds',
      'affectedEdges',
      'unresumed',
      ...ms3('resumeMs'),
      'lost',
      'duplicated',
    ],
    check: noLoss,
  },
  {
    name: 'rolling',
    run: () => rollingScenario(tiny({ edges: 20, seconds: 2 })),
    fields: [
      'scenario',
      'edges',
      'seconds',
      'sent',
      'lost',
      'duplicated',
      'maxPauseMs',
      'movedFractions',
      'steps',
    ],
    check: (r) => {
      noLoss(r);
      assert.equal((r.steps as unknown[]).length, 8, 'every membership change was measured');
      for (const step of r.steps as Record<string, unknown>[])
        assertFields(step, ['step', 'movedFraction', 'ideal', 'settleMs']);
    },
  },
  {
    name: 'redis-failover',
    run: () => redisFailoverScenario(tiny({ edges: 10, seconds: 6 })),
    fields: [
      'scenario',
      'edges',
      ...['asynchronous', 'waitForReplica'].flatMap((mode) =>
        ['acknowledged', 'lost', 'failedBatches', 'ackedPerSecond', 'batchP99Ms', 'longestStallMs'].map(
          (f) => `${mode}.${f}`,
        ),
      ),
    ],
    check: (r) => assert.equal((r.waitForReplica as { lost: number }).lost, 0),
  },
  {
    name: 'diet',
    run: () => dietScenario(),
    fields: [
      'scenario',
      ...['legacy', 'compact'].flatMap((f) =>
        ['msgsPerDay', 'bytesPerDay', 'payloadBytesPerDay', 'transport'].map((k) => `${f}.${k}`),
      ),
      'legacyOverMqtt.bytesPerDay',
      'bytesRatio',
      'bytesRatioSameTransport',
      'msgsRatio',
      'samplePoints',
      'stateMismatches',
      'firstMismatches',
    ],
    check: (r) => {
      // A simulated day of one edge: both formats rebuild the same state, compact far smaller.
      assert.equal(r.stateMismatches, 0, JSON.stringify(r.firstMismatches));
      assert.ok(Number(r.samplePoints) >= 8000);
      assert.ok(Number(r.bytesRatio) >= 20, `bytesRatio ${r.bytesRatio}`);
      assert.ok(Number(r.msgsRatio) >= 5, `msgsRatio ${r.msgsRatio}`);
    },
  },
  ...(['mqtt', 'kafka'] as const).map(
    (transport): Case => ({
      name: `ingest over ${transport}`,
      run: () => ingestScenario({ edges: 40, nodes: 1, seconds: 3, transport, workload: 'legacy', links: 1 }),
      fields: [
        'scenario',
        'transport',
        'workload',
        'edges',
        'nodes',
        'links',
        'seconds',
        'msgs',
        'msgsPerSec',
        ...ms3('latencyMs'),
        'cpuMicrosPerMsg',
        'cpuMicrosPerMsgNodes',
        'cpuMicrosPerMsgLinks',
        'brokerCpuMicrosPerMsg',
        'hubCoresPer1000Edges',
        'simulatorBehindMs',
        'sent',
        'publishErrors',
        'lost',
        'duplicated',
        'deadLettered',
      ],
      check: (r) => {
        assert.equal(r.transport, transport);
        assert.ok(Number(r.sent) > 40 * 3, `the simulated edges sent ${r.sent}`);
        noLoss(r);
        assert.equal(r.deadLettered, 0);
        assert.ok(Number(r.msgs) > 0, 'messages were handled in the window');
      },
    }),
  ),
  {
    name: 'gateway',
    // 4 rounds of 25 tunnels, each to another edge: 100 edges.
    run: () => gatewayScenario(tiny({ edges: 100, seconds: 1 })),
    fields: [
      'edges',
      'config304PerSec',
      'configLatencyMs.p50',
      'configLatencyMs.p99',
      'configLatencyAt',
      'saturatedLatencyMs.p50',
      'saturatedLatencyMs.p99',
      'gatewayLoopLagMs.p99',
      'gatewayLoopLagMs.max',
      'not304',
      ...ms3('propagationMs'),
      ...ms3('tunnelOpenMs'),
      'tunnels',
    ],
    check: (r) => {
      assert.equal(r.not304, 0);
      assert.equal(r.tunnels, 100);
    },
  },
  {
    name: 'outbox',
    run: () => outboxScenario(tiny({ edges: 40, seconds: 2 })),
    fields: [
      'edges',
      'alarmEventsPerSecond',
      'stallSeconds',
      'alarmEvents',
      'delivered',
      'lost',
      'duplicatesDelivered',
      'outOfOrder',
      'maxBacklog',
      'drainSeconds',
      'heldAtOnce',
    ],
    check: (r) => {
      assert.ok(Number(r.alarmEvents) > 0);
      assert.equal(r.lost, 0);
      assert.equal(r.outOfOrder, 0);
    },
  },
  {
    name: 'tunnel',
    run: () => tunnelScenario(tiny({ edges: 50, seconds: 3 })),
    fields: [
      'edges',
      'concurrentTunnels',
      'tunnelsOpened',
      'failures',
      'openToReachableMs.p50',
      'openToReachableMs.p95',
      'openToReachableMs.max',
      'publicPortsUsed',
      'frpsConnectionsIdle',
      'frpsConnectionsPeak',
    ],
    check: (r) => {
      assert.ok(Number(r.tunnelsOpened) > 0);
      assert.equal(r.failures, 0);
    },
  },
];

describe('bench scenarios at a tiny size', { timeout: 600_000 }, () => {
  for (const c of cases) {
    it(`${c.name}: runs, reports every field, leaves no process behind`, { timeout: 240_000 }, async () => {
      const started = Date.now();
      try {
        const { result, targets, plot } = await c.run();
        const json = assertFields(result, c.fields);
        c.check?.(json);
        // The report files: a table row per target, the same JSON, a plot.
        const dir = mkdtempSync(join(tmpdir(), 'devicehub-bench-'));
        const table = writeReport(dir, 'smoke', result, targets, plot);
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

describe('npm run bench, interrupted', { timeout: 120_000 }, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`leaves no process behind after ${signal} mid-run`, async (c) => {
      // As a terminal runs it: a process group of its own, Ctrl-C (SIGINT) to the whole group.
      const out = mkdtempSync(join(tmpdir(), 'devicehub-bench-'));
      const bench = spawnDevicehub(
        ['bench', 'actors', '--edges', '20', '--nodes', '1', '--seconds', '120', '--out', out],
        { name: 'bench', processGroup: true },
      );
      const pid = bench.child.pid!;
      try {
        // Mid-run: Redis, the hub node and the load generator are running.
        await waitFor(() => descendants(pid).some((p) => p.command.includes('load-generator')), {
          timeoutMs: 60_000,
          message: `the load generator to start (${bench.stderrTail()})`,
        });
        const seen = new Map(descendants(pid).map((p) => [p.pid, p]));
        c.diagnostic(
          `${seen.size} processes: ${[...seen.values()].map((p) => p.command.split(' ')[0]).join(', ')}`,
        );
        process.kill(signal === 'SIGINT' ? -pid : pid, signal);
        const exit = await Promise.race([
          bench.exited,
          new Promise((resolve) => setTimeout(() => resolve('still running'), 30_000).unref()),
        ]);
        assert.notEqual(exit, 'still running');
        await waitUntilGone({ pids: [...seen.keys()], timeoutMs: 10_000 });
      } finally {
        if (bench.child.exitCode === null) process.kill(-pid, 'SIGKILL');
      }
    });
  }
});
