/**
 * Smoke test of the benchmark machinery itself: every scenario of `npm run bench` that needs no
 * broker runs once, as small and short as still exercises it (the numbers that matter come from
 * `npm run bench`, never from tests), its JSON result has every field it promises, and it leaves
 * no process behind; and an interrupted `npm run bench` leaves none either. The scenarios with a
 * broker or frp (ingest, gateway, tunnel) are in bench-brokers.test.ts. Separate processes, as in
 * the real runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { descendants, spawnDevicehub, waitFor, waitUntilGone } from '../infra/mod.ts';
import { actorsScenario } from './scenarios/actors.ts';
import { dietScenario } from './scenarios/diet.ts';
import { failoverScenario } from './scenarios/failover.ts';
import { outboxScenario } from './scenarios/outbox.ts';
import { rebalanceScenario } from './scenarios/rebalance.ts';
import { redisFailoverScenario } from './scenarios/redis-failover.ts';
import { rollingScenario } from './scenarios/rolling.ts';
import { screensScenario } from './scenarios/screens.ts';
import { assertFields, bracketedFloors, type Case, ms3, noLoss, smokeCases, tiny } from './smoke.ts';

const cases: Case[] = [
  {
    // 100 edges' tiles into a gateway's read model, 20 screens on streams, 2 s of snapshot polls,
    // 2,000 alarm rows on a replica.
    name: 'screens',
    run: () => screensScenario(tiny({ edges: 100, seconds: 2 }), { alarmRows: 2000 }),
    fields: [
      'feed',
      'screens',
      'snapshotPerSec',
      'snapshotP99Ms',
      'edgeToScreenP99Ms',
      'alarmQueryP99Ms',
      'rows',
      'replicaLagMsMax',
    ],
    check: (r) => {
      assert.equal(r.feed, 'outbox');
      assert.equal(r.screensOpen, r.screens);
      assert.ok(Number(r.edgeToScreenSamples) > 0, 'tiles reached the screens');
      assert.ok(Number(r.snapshotPerSec) > 0);
      assert.ok(Number(r.snapshotLoadedFloorPerSec) > 0, 'the bare server was polled beside the load');
      const statuses = Object.keys(r.snapshotStatuses as Record<string, number>);
      assert.ok(
        statuses.every((s) => s === '200' || s === '304'),
        `statuses ${statuses}`,
      );
      assert.equal(r.rows, 2000);
      // Read from the gateway's process_cpu_seconds_total each second: a gateway serving polls uses some.
      assert.ok(Number(r.gatewayCpuCores) > 0, `gatewayCpuCores ${r.gatewayCpuCores}`);
    },
  },
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
      'floorMicrosPerMsg',
      'floorRatio',
      'redisCpuMicrosPerMsg',
      'redisUsedMemoryBytes',
      'redisBytesPerEdge',
      'redisKeyBytesPerEdge',
      'redisOutboxBytesPerEdge',
      'lost',
      'duplicated',
    ],
    check: (r) => {
      noLoss(r);
      assert.ok(Number(r.msgs) > 0, 'messages were handled in the window');
      // Redis worked for them: its CPU over the window, and the scripts among its commands.
      assert.ok(Number(r.redisCpuMicrosPerMsg) > 0, `Redis CPU ${r.redisCpuMicrosPerMsg}`);
      assert.ok('evalsha' in (r.redisCommands as object), JSON.stringify(r.redisCommands));
      bracketedFloors(r);
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
    // 1 s: the warm-up, the tail and the pause after each of the 8 membership changes (500 ms) are
    // what this case spends beyond the changes themselves; the load runs through all of them anyway.
    run: () => rollingScenario(tiny({ edges: 20, seconds: 1 })),
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
];

smokeCases('bench scenarios at a tiny size', cases);

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
